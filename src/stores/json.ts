/**
 * The JSON store (sops `stores/json/store.go`).
 *
 * Parsing is our own order-preserving tokenizer: the top level must be an object, duplicate
 * keys stay separate items, anything after the top-level object is ignored, and numbers that
 * parse as int64 become {@link IntLeaf} (BigInt), every other number a float (sops 3.13.2).
 * Emitting follows what sops writes: Go `encoding/json` scalars inside objects built by hand,
 * re-indented with Go's indenter (one tab per level by default), a trailing newline, and the
 * `sops` object as the last key.
 */
import { ExitCode, ParseError, SopsError } from '../errors.js';
import { bool, entry, float, int, map, nul, seq, str } from '../tree/types.js';
import type { Entry, MapNode, Node } from '../tree/types.js';
import { guardDepth, MAX_NESTING } from './depth.js';
import type { EmitOptions, LoadedFile, Store } from './types.js';

/**
 * Nesting limit (objects and arrays, the top-level object included): encoding/json's, which
 * sops meets when it writes JSON. (sops itself reads deeper JSON and fails only when writing
 * it as JSON; tsops stops at reading.)
 */
const MAX_DEPTH = MAX_NESTING;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

// ---------------------------------------------------------------------------------------
// UTF-8 as Go decodes it

/**
 * Decodes UTF-8 as Go does when it reads a JSON string: every byte that does not start a
 * valid sequence becomes one U+FFFD (unlike TextDecoder, which folds a truncated sequence
 * into a single U+FFFD).
 */
export function goDecodeUtf8(b: Uint8Array): string {
  // Valid UTF-8 (nearly every input) decodes the same either way; the native decoder is faster.
  try {
    return strictUtf8.decode(b);
  } catch {
    // invalid bytes: decoded one by one below
  }
  const parts: string[] = [];
  let run: number[] = [];
  const flush = (): void => {
    if (run.length) parts.push(String.fromCodePoint(...run));
    run = [];
  };
  for (let i = 0; i < b.length; ) {
    const [cp, size] = decodeRune(b, i);
    run.push(cp < 0 ? 0xfffd : cp);
    if (run.length >= 4096) flush();
    i += size;
  }
  flush();
  return parts.join('');
}

// ignoreBOM: a leading U+FEFF is kept, as Go keeps it
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Go `utf8.DecodeRune`: [code point, size]; code point -1 for an invalid byte (size 1). */
function decodeRune(b: Uint8Array, i: number): [number, number] {
  const c0 = b[i];
  if (c0 < 0x80) return [c0, 1];
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => i + k < b.length && b[i + k] >= lo && b[i + k] <= hi;
  if (c0 >= 0xc2 && c0 <= 0xdf) return cont(1) ? [((c0 & 0x1f) << 6) | (b[i + 1] & 0x3f), 2] : [-1, 1];
  if (c0 >= 0xe0 && c0 <= 0xef) {
    const lo = c0 === 0xe0 ? 0xa0 : 0x80;
    const hi = c0 === 0xed ? 0x9f : 0xbf;
    if (cont(1, lo, hi) && cont(2)) return [((c0 & 0x0f) << 12) | ((b[i + 1] & 0x3f) << 6) | (b[i + 2] & 0x3f), 3];
    return [-1, 1];
  }
  if (c0 >= 0xf0 && c0 <= 0xf4) {
    const lo = c0 === 0xf0 ? 0x90 : 0x80;
    const hi = c0 === 0xf4 ? 0x8f : 0xbf;
    if (cont(1, lo, hi) && cont(2) && cont(3)) {
      return [((c0 & 0x07) << 18) | ((b[i + 1] & 0x3f) << 12) | ((b[i + 2] & 0x3f) << 6) | (b[i + 3] & 0x3f), 4];
    }
  }
  return [-1, 1];
}

// ---------------------------------------------------------------------------------------
// parsing

class JsonParser {
  private pos = 0;
  private depth = 0;
  private topLevelScalar = false;
  constructor(private readonly s: string) {}

  /** Parses the top-level object; content after it is ignored, as by Go's token decoder. */
  document(): MapNode {
    this.ws();
    const c = this.s[this.pos];
    if (c === undefined) throw this.fail('the file is empty (EOF)');
    if (c === '{') return this.object();
    if (c === '[') {
      throw new ParseError(
        'could not unmarshal input data: SOPS only supports JSON files with a top-level object (starting with \'{\'), not arrays or other types. Got delimiter [ instead',
        { hint: 'wrap the data in an object, e.g. {"data": [...]}' },
      );
    }
    this.topLevelScalar = true; // Go reports the type even when the number overflows
    const v = this.value();
    const [shown, type] = describeScalar(v);
    throw new ParseError(
      `could not unmarshal input data: SOPS only supports JSON files with a top-level object (starting with '{'), not other JSON types. Got ${shown} of type ${type} instead`,
      { hint: 'wrap the value in an object, e.g. {"data": ...}' },
    );
  }

  private ws(): void {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      this.pos++;
    }
  }

  private fail(msg: string, at = this.pos): ParseError {
    const before = this.s.slice(0, at);
    const line = before.split('\n').length;
    const column = at - (before.lastIndexOf('\n') + 1) + 1;
    return new ParseError(`could not unmarshal input data: ${msg} (line ${line}, column ${column})`, {
      hint: 'the file is not valid JSON; fix the syntax at that position',
    });
  }

  private invalid(context: string): ParseError {
    if (this.pos >= this.s.length) return this.fail('unexpected end of JSON input');
    return this.fail(`invalid character ${quoteChar(this.s.codePointAt(this.pos)!)} ${context}`);
  }

  private value(): Node {
    const c = this.s[this.pos];
    switch (c) {
      case '{':
        return this.object();
      case '[':
        return this.array();
      case '"':
        return str(this.string());
      case 't':
        return this.literal('true', bool(true));
      case 'f':
        return this.literal('false', bool(false));
      case 'n':
        return this.literal('null', nul());
      default:
        if (c === '-' || (c >= '0' && c <= '9')) return this.number();
        throw this.invalid('looking for beginning of value');
    }
  }

  private enter(): void {
    if (++this.depth > MAX_DEPTH) throw this.fail(`invalid character ${quoteChar(this.s.charCodeAt(this.pos))} exceeded max depth of ${MAX_DEPTH}`);
  }

  private object(): MapNode {
    this.enter();
    this.pos++; // {
    const items: Entry[] = [];
    this.ws();
    if (this.s[this.pos] === '}') {
      this.pos++;
      this.depth--;
      return map(items);
    }
    for (;;) {
      if (this.s[this.pos] !== '"') throw this.invalid('looking for beginning of object key string');
      const key = this.string();
      this.ws();
      if (this.s[this.pos] !== ':') throw this.invalid('after object key');
      this.pos++;
      this.ws();
      items.push(entry(key, this.value()));
      this.ws();
      const c = this.s[this.pos];
      if (c === ',') {
        this.pos++;
        this.ws();
        continue;
      }
      if (c === '}') {
        this.pos++;
        this.depth--;
        return map(items);
      }
      throw this.invalid('after object key:value pair');
    }
  }

  private array(): Node {
    this.enter();
    this.pos++; // [
    const items: Node[] = [];
    this.ws();
    if (this.s[this.pos] === ']') {
      this.pos++;
      this.depth--;
      return seq(items);
    }
    for (;;) {
      items.push(this.value());
      this.ws();
      const c = this.s[this.pos];
      if (c === ',') {
        this.pos++;
        this.ws();
        continue;
      }
      if (c === ']') {
        this.pos++;
        this.depth--;
        return seq(items);
      }
      throw this.invalid('after array element');
    }
  }

  private literal(word: string, v: Node): Node {
    for (let i = 1; i < word.length; i++) {
      this.pos++;
      if (this.s[this.pos] !== word[i]) throw this.invalid(`in literal ${word} (expecting '${word[i]}')`);
    }
    this.pos++;
    return v;
  }

  private number(): Node {
    const start = this.pos;
    const s = this.s;
    const digits = (): number => {
      const from = this.pos;
      while (s[this.pos] >= '0' && s[this.pos] <= '9') this.pos++;
      return this.pos - from;
    };
    if (s[this.pos] === '-') this.pos++;
    if (s[this.pos] === '0') this.pos++;
    else if (digits() === 0) throw this.invalid('in numeric literal');
    if (s[this.pos] === '.') {
      this.pos++;
      if (digits() === 0) throw this.invalid('after decimal point in numeric literal');
    }
    if (s[this.pos] === 'e' || s[this.pos] === 'E') {
      this.pos++;
      if (s[this.pos] === '+' || s[this.pos] === '-') this.pos++;
      if (digits() === 0) throw this.invalid('in exponent of numeric literal');
    }
    const text = s.slice(start, this.pos);
    if (/^-?[0-9]+$/.test(text)) {
      const n = BigInt(text);
      if (n >= INT64_MIN && n <= INT64_MAX) return int(n);
    }
    const f = Number(text);
    if (!Number.isFinite(f) && !this.topLevelScalar) throw this.fail(`strconv.ParseFloat: parsing "${text}": value out of range`, start);
    return float(f);
  }

  private string(): string {
    const s = this.s;
    this.pos++; // opening quote
    // the common case: no escapes and no control characters before the closing quote
    const close = s.indexOf('"', this.pos);
    if (close >= 0) {
      const text = s.slice(this.pos, close);
      if (!PLAIN_STRING_BREAKERS.test(text)) {
        this.pos = close + 1;
        return text;
      }
    }
    let out = '';
    let chunk = this.pos;
    for (;;) {
      if (this.pos >= s.length) throw this.fail('unexpected end of JSON input');
      const c = s.charCodeAt(this.pos);
      if (c === 0x22) {
        out += s.slice(chunk, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) throw this.invalid('in string literal');
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      out += s.slice(chunk, this.pos);
      this.pos++;
      const e = s[this.pos];
      if (e !== undefined && Object.hasOwn(SIMPLE_ESCAPES, e)) {
        out += SIMPLE_ESCAPES[e];
        this.pos++;
      } else if (e === 'u') {
        this.pos++;
        const hi = this.hex4();
        if (hi >= 0xd800 && hi < 0xe000) {
          // A valid surrogate pair is joined; anything else becomes U+FFFD, as in Go.
          const lo = s[this.pos] === '\\' && s[this.pos + 1] === 'u' ? parseHex4(s.slice(this.pos + 2, this.pos + 6)) : -1;
          if (hi < 0xdc00 && lo >= 0xdc00 && lo < 0xe000) {
            out += String.fromCharCode(hi, lo);
            this.pos += 6;
          } else {
            out += '\ufffd';
          }
        } else {
          out += String.fromCharCode(hi);
        }
      } else {
        throw this.invalid('in string escape code');
      }
      chunk = this.pos;
    }
  }

  private hex4(): number {
    for (let i = 0; i < 4; i++) {
      if (!/[0-9a-fA-F]/.test(this.s[this.pos] ?? '')) throw this.invalid('in \\u hexadecimal character escape');
      this.pos++;
    }
    return parseInt(this.s.slice(this.pos - 4, this.pos), 16);
  }
}

/** Go's `%#v of type %T` for the top-level scalar sops rejects. */
function describeScalar(v: Node): [string, string] {
  switch (v.kind) {
    case 'str':
      return [JSON.stringify(v.value), 'string'];
    case 'int':
      return [v.value.toString(), 'int'];
    case 'float':
      return Number.isFinite(v.value) ? [String(v.value), 'float64'] : ['an out-of-range number', 'json.Number'];
    case 'bool':
      return [String(v.value), 'bool'];
    default:
      return ['<nil>', '<nil>'];
  }
}

/** What the plain-string shortcut of JsonParser.string leaves to the full loop. */
const PLAIN_STRING_BREAKERS = /[\\\x00-\x1f]/;

const SIMPLE_ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

function parseHex4(h: string): number {
  return /^[0-9a-fA-F]{4}$/.test(h) ? parseInt(h, 16) : -1;
}

/** Go's `quoteChar` for error messages. */
function quoteChar(cp: number): string {
  if (cp === 0x27) return "'\\''";
  if (cp === 0x22) return `'"'`;
  const q = JSON.stringify(String.fromCodePoint(cp));
  return `'${q.slice(1, -1)}'`;
}

/**
 * Parses JSON text into an ordered mapping. Throws {@link ParseError} with line and column.
 */
export function parseJson(data: Uint8Array): MapNode {
  const parser = new JsonParser(goDecodeUtf8(data));
  return guardDepth('could not unmarshal input data', () => parser.document());
}

// ---------------------------------------------------------------------------------------
// emitting

const HEX = '0123456789abcdef';

/** Printable ASCII but `"`, `\\`, `<`, `>` and `&`: written as it is. */
const NOTHING_TO_ESCAPE = /^[\x20\x21\x23-\x25\x27-\x3b\x3d\x3f-\x5b\x5d-\x7e]*$/;

/** Go `encoding/json` string quoting (HTML-safe: `<`, `>`, `&`, U+2028, U+2029 escaped). */
export function quoteJsonString(v: string | Uint8Array): string {
  if (typeof v === 'string' && NOTHING_TO_ESCAPE.test(v)) return `"${v}"`;
  let out = '"';
  const put = (cp: number): void => {
    switch (cp) {
      case 0x22:
        out += '\\"';
        return;
      case 0x5c:
        out += '\\\\';
        return;
      case 0x08:
        out += '\\b';
        return;
      case 0x0c:
        out += '\\f';
        return;
      case 0x0a:
        out += '\\n';
        return;
      case 0x0d:
        out += '\\r';
        return;
      case 0x09:
        out += '\\t';
        return;
      case 0x3c:
      case 0x3e:
      case 0x26:
      case 0x2028:
      case 0x2029:
        out += '\\u' + cp.toString(16).padStart(4, '0');
        return;
      default:
        if (cp < 0x20) out += '\\u00' + HEX[cp >> 4] + HEX[cp & 0xf];
        else out += String.fromCodePoint(cp);
    }
  };
  if (typeof v === 'string') {
    for (const ch of v) {
      const cp = ch.codePointAt(0)!;
      put(cp >= 0xd800 && cp < 0xe000 ? 0xfffd : cp); // a lone surrogate is U+FFFD in UTF-8
    }
  } else {
    for (let i = 0; i < v.length; ) {
      const [cp, size] = decodeRune(v, i);
      if (cp < 0) out += '\\ufffd';
      else put(cp);
      i += size;
    }
  }
  return out + '"';
}

/** Go `encoding/json` float64 text. Throws for NaN and the infinities, as Go does. */
export function formatJsonFloat(f: number): string {
  if (Number.isNaN(f)) throw new SopsError('json: unsupported value: NaN', ExitCode.ErrorDumpingTree);
  if (!Number.isFinite(f)) throw new SopsError(`json: unsupported value: ${f > 0 ? '+Inf' : '-Inf'}`, ExitCode.ErrorDumpingTree);
  // Go writes -0, which reads back as the integer 0 and so changes the MAC of a clear value;
  // -0.0 stays a float.
  if (Object.is(f, -0)) return '-0.0';
  // JS and Go agree here: shortest digits, exponent form below 1e-6 and from 1e21 on,
  // exponent written without leading zeros.
  return String(f);
}

/**
 * Encodes a node as JSON. `indent` is the per-level unit (`'\t'`, `'  '`, `''`) for the
 * indented form sops writes, or `null` for Go's compact `json.Marshal` form. Comments are
 * dropped.
 */
export function encodeJson(node: Node, indent: string | null): string {
  const out: string[] = [];
  const nl = (depth: number): string => (indent === null ? '' : '\n' + indent.repeat(depth));
  const colon = indent === null ? ':' : ': ';
  const write = (n: Node, depth: number): void => {
    if (depth >= MAX_DEPTH && (n.kind === 'map' || n.kind === 'seq')) {
      // what Go's json.Indent, which sops runs over its output, says
      throw new SopsError(`invalid character '${n.kind === 'map' ? '{' : '['}' exceeded max depth`, ExitCode.ErrorDumpingTree, {
        hint: `JSON output is limited to ${MAX_DEPTH} levels of nesting (as in sops); write it as YAML (--output-type yaml) or flatten the data`,
      });
    }
    switch (n.kind) {
      case 'map': {
        const entries = n.items.filter((i): i is Entry => i.kind === 'entry');
        if (entries.length === 0) {
          out.push('{}');
          return;
        }
        out.push('{');
        entries.forEach((e, i) => {
          out.push((i ? ',' : '') + nl(depth + 1) + quoteJsonString(e.key) + colon);
          write(e.value, depth + 1);
        });
        out.push(nl(depth) + '}');
        return;
      }
      case 'seq': {
        const elems = n.items.filter((i): i is Node => i.kind !== 'comment');
        if (elems.length === 0) {
          out.push('[]');
          return;
        }
        out.push('[');
        elems.forEach((e, i) => {
          out.push((i ? ',' : '') + nl(depth + 1));
          write(e, depth + 1);
        });
        out.push(nl(depth) + ']');
        return;
      }
      case 'str':
      case 'time':
        out.push(quoteJsonString(n.value));
        return;
      case 'bytes':
        out.push(quoteJsonString(n.value));
        return;
      case 'int':
        out.push(n.value.toString());
        return;
      case 'float':
        out.push(formatJsonFloat(n.value));
        return;
      case 'bool':
        out.push(n.value ? 'true' : 'false');
        return;
      case 'null':
        out.push('null');
        return;
    }
  };
  guardDepth('could not write JSON', () => write(node, 0), ExitCode.ErrorDumpingTree);
  return out.join('');
}

/** The indentation unit for `opts.indent`: tab by default and for -1, N spaces otherwise. */
export function jsonIndentUnit(opts?: EmitOptions): string {
  const n = opts?.indent;
  if (n === undefined || n === -1) return '\t';
  if (n < -1 || !Number.isInteger(n)) {
    throw new SopsError('JSON indentation parameter smaller than -1 is not accepted', ExitCode.ErrorDumpingTree, {
      hint: 'use --indent N with N >= 0 (or -1 for tabs)',
    });
  }
  return ' '.repeat(n);
}

const encoder = new TextEncoder();

/** The one document of a single-document format; {@link SopsError} (exit 4) otherwise. */
export function singleDocument(file: LoadedFile, format: string): MapNode {
  if (file.documents.length !== 1) {
    throw new SopsError(`the ${format} format holds exactly one document, got ${file.documents.length}`, ExitCode.ErrorDumpingTree, {
      hint: 'multi-document YAML can only be written as YAML',
    });
  }
  return file.documents[0];
}

/** The JSON store. */
export const jsonStore: Store = {
  name: 'json',

  load(data: Uint8Array): LoadedFile {
    const root = parseJson(data);
    const found = root.items.filter((i): i is Entry => i.kind === 'entry' && i.key === 'sops');
    if (found.length === 0) return { documents: [root] };
    if (found.length > 1) throw new ParseError('found duplicate sops entry', { hint: 'a file may have only one top-level "sops" key' });
    const meta = found[0].value;
    if (meta.kind !== 'map') throw new ParseError('found sops entry that is not a mapping', { hint: 'the top-level "sops" key is reserved for SOPS metadata' });
    root.items = root.items.filter((i) => !(i.kind === 'entry' && i.key === 'sops'));
    return { documents: [root], metadata: meta };
  },

  emit(file: LoadedFile, opts?: EmitOptions): Uint8Array {
    const doc = singleDocument(file, 'JSON');
    const unit = jsonIndentUnit(opts);
    let root = doc;
    if (file.metadata) {
      if (doc.items.some((i) => i.kind === 'entry' && i.key === 'sops')) {
        throw new SopsError('found key "sops" in the data, which is reserved for SOPS metadata', ExitCode.ErrorDumpingTree);
      }
      root = map([...doc.items, entry('sops', file.metadata)]);
    }
    return encoder.encode(encodeJson(root, unit) + '\n');
  },

  emitValue(value: Node, opts?: EmitOptions): Uint8Array {
    return encoder.encode(encodeJson(value, jsonIndentUnit(opts)));
  },
};
