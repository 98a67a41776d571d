/**
 * The INI store (sops `stores/ini/store.go` on top of gopkg.in/ini.v1 v1.67 with
 * non-unique sections). Sections are top-level entries whose values are mappings of strings;
 * keys before the first section are in `DEFAULT`, which always comes first. Output is
 * ini.v1's pretty format. Metadata is a `[sops]` section of flattened keys.
 *
 * Parsing and writing work on byte strings (see `flatten.ts`), as Go works on bytes, so
 * values that are not UTF-8 survive.
 */
import { ExitCode, ParseError, SopsError } from '../errors.js';
import { comment, entry, map, str } from '../tree/types.js';
import type { CommentNode, Entry, MapNode, Node } from '../tree/types.js';
import {
  byteStringToBytes,
  byteStringToLeaf,
  byteStringToText,
  bytesToByteString,
  flatten,
  leafToByteString,
  textToByteString,
  unflatten,
} from './flatten.js';
import { encodeJson, singleDocument } from './json.js';
import type { EmitOptions, LoadedFile, Store } from './types.js';

const DEFAULT_SECTION = 'DEFAULT';
const METADATA_SECTION = 'sops';
const DELIMITERS = '=:';

// ---------------------------------------------------------------------------------------
// Go whitespace on UTF-8 byte strings (unicode.IsSpace)

const SPACE_SEQS = [
  '\u00c2\u0085', // U+0085
  '\u00c2\u00a0', // U+00A0
  '\u00e1\u009a\u0080', // U+1680
  ...Array.from({ length: 11 }, (_, i) => '\u00e2\u0080' + String.fromCharCode(0x80 + i)), // U+2000-U+200A
  '\u00e2\u0080\u00a8', // U+2028
  '\u00e2\u0080\u00a9', // U+2029
  '\u00e2\u0080\u00af', // U+202F
  '\u00e2\u0081\u009f', // U+205F
  '\u00e3\u0080\u0080', // U+3000
];

function isAsciiSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
}

/** Go `strings.TrimLeftFunc(s, unicode.IsSpace)` on a byte string. */
function trimLeft(s: string): string {
  let i = 0;
  outer: while (i < s.length) {
    if (isAsciiSpace(s[i])) {
      i++;
      continue;
    }
    for (const q of SPACE_SEQS) {
      if (s.startsWith(q, i)) {
        i += q.length;
        continue outer;
      }
    }
    break;
  }
  return s.slice(i);
}

/** Go `strings.TrimRightFunc(s, unicode.IsSpace)` on a byte string. */
function trimRight(s: string): string {
  let end = s.length;
  outer: while (end > 0) {
    if (isAsciiSpace(s[end - 1])) {
      end--;
      continue;
    }
    for (const q of SPACE_SEQS) {
      if (end >= q.length && s.startsWith(q, end - q.length)) {
        end -= q.length;
        continue outer;
      }
    }
    break;
  }
  return s.slice(0, end);
}

/** Go `strings.TrimSpace` on a byte string. */
function trimSpace(s: string): string {
  return trimRight(trimLeft(s));
}

function indexOfAny(s: string, chars: string): number {
  for (let i = 0; i < s.length; i++) if (chars.includes(s[i])) return i;
  return -1;
}

// ---------------------------------------------------------------------------------------
// parsing (ini.v1 parser.go with sops's options)

interface IniKey {
  name: string;
  value: string;
  comment: string;
}

interface IniSection {
  name: string;
  comment: string;
  keys: IniKey[];
}

function newKey(sec: IniSection, name: string, value: string): IniKey {
  // ini.v1 keeps one key per name: a repeated key keeps its place and takes the new value.
  const old = sec.keys.find((k) => k.name === name);
  if (old) {
    old.value = value;
    return old;
  }
  const k = { name, value, comment: '' };
  sec.keys.push(k);
  return k;
}

class IniParser {
  private pos = 0;
  private lineNo = 0;
  private eof = false;
  private comment = '';

  constructor(private readonly s: string) {}

  private fail(msg: string, hint?: string): ParseError {
    return new ParseError(`could not unmarshal input data: ${msg} (line ${this.lineNo})`, hint ? { hint } : {});
  }

  /** Go `ReadBytes('\n')`: the next line with its newline; sets `eof` at the end. */
  private readLine(): string {
    this.lineNo++;
    const nl = this.s.indexOf('\n', this.pos);
    if (nl < 0) {
      this.eof = true;
      const rest = this.s.slice(this.pos);
      this.pos = this.s.length;
      return rest;
    }
    const l = this.s.slice(this.pos, nl + 1);
    this.pos = nl + 1;
    return l;
  }

  parse(): IniSection[] {
    const s = this.s;
    if (s.startsWith('\u00fe\u00ff') || s.startsWith('\u00ff\u00fe')) this.pos = 2;
    else if (s.startsWith('\u00ef\u00bb\u00bf')) this.pos = 3;
    let section: IniSection = { name: DEFAULT_SECTION, comment: '', keys: [] };
    const sections = [section];
    let count = 1;
    while (!this.eof) {
      const line = trimLeft(this.readLine());
      if (line.length === 0) continue;
      if (line[0] === '#' || line[0] === ';') {
        this.comment += line;
        continue;
      }
      if (line[0] === '[') {
        const close = line.lastIndexOf(']');
        if (close < 0) throw this.fail('unclosed section', 'a section header must look like [name]');
        const name = line.slice(1, close);
        if (name.length === 0) throw this.fail('empty section name');
        section = { name, comment: '', keys: [] };
        sections.push(section);
        const c = indexOfAny(line.slice(close + 1), '#;');
        if (c >= 0) this.comment += line.slice(close + 1 + c);
        section.comment = trimSpace(this.comment);
        this.comment = '';
        count = 1;
        continue;
      }
      let [name, offset] = this.readKeyName(line);
      if (name === '-') name = '#' + String(count++);
      const value = this.readValue(line.slice(offset));
      if (name.length === 0) throw this.fail('error creating new key: empty key name');
      const key = newKey(section, name, value);
      key.comment = trimSpace(this.comment);
      this.comment = '';
    }
    return sections;
  }

  private readKeyName(line: string): [string, number] {
    let quote = '';
    if (line[0] === '"') quote = line.length > 6 && line.startsWith('"""') ? '"""' : '"';
    else if (line[0] === '`') quote = '`';
    if (quote) {
      const start = quote.length;
      const pos = line.indexOf(quote, start);
      if (pos < 0) throw this.fail('missing closing key quote');
      const i = indexOfAny(line.slice(pos + start), DELIMITERS);
      if (i < 0) throw this.fail('key-value delimiter not found', 'each line must be key = value, a [section] or a ; comment');
      return [trimSpace(line.slice(start, pos)), pos + start + i + 1];
    }
    const end = indexOfAny(line, DELIMITERS);
    if (end < 0) throw this.fail('key-value delimiter not found', 'each line must be key = value, a [section] or a ; comment');
    if (end === 0) throw this.fail('empty key name');
    return [trimSpace(line.slice(0, end)), end + 1];
  }

  private readValue(input: string): string {
    let line = trimLeft(input);
    if (line.length === 0) return '';
    let quote = '';
    if (line.length > 3 && line.startsWith('"""')) quote = '"""';
    else if (line[0] === '`') quote = '`';
    if (quote) {
      const start = quote.length;
      const pos = line.slice(start).lastIndexOf(quote);
      if (pos < 0) return this.readMultilines(line.slice(start), quote);
      return line.slice(start, start + pos);
    }
    line = trimSpace(line);
    if (line.endsWith('\\')) return this.readContinuation(line.slice(0, -1));
    const c = indexOfAny(line, '#;');
    if (c >= 0) {
      this.comment += line.slice(c);
      line = trimSpace(line.slice(0, c));
    }
    if (surroundedBy(line, "'") || surroundedBy(line, '"')) line = line.slice(1, -1);
    return line;
  }

  private readMultilines(first: string, quote: string): string {
    const startLine = this.lineNo;
    let val = first;
    for (;;) {
      const next = this.readLine();
      const pos = next.lastIndexOf(quote);
      if (pos >= 0) {
        val += next.slice(0, pos);
        const c = indexOfAny(next.slice(pos), '#;');
        if (c >= 0) this.comment += trimSpace(next.slice(pos + c));
        return val;
      }
      val += next;
      if (this.eof) {
        this.lineNo = startLine;
        throw this.fail(`missing closing ${quote} quote of a multi-line value`);
      }
    }
  }

  private readContinuation(start: string): string {
    let val = start;
    for (;;) {
      const next = trimSpace(this.readLine());
      if (next.length === 0) return val;
      val += next;
      if (!val.endsWith('\\')) return val;
      val = val.slice(0, -1);
    }
  }
}

/** ini.v1 `hasSurroundedQuote`: quoted at both ends with no other such quote inside. */
function surroundedBy(s: string, q: string): boolean {
  return s.length >= 2 && s[0] === q && s[s.length - 1] === q && s.indexOf(q, 1) === s.length - 1;
}

/** sops `stripCommentChar`: leading `;`/`#` markers and spaces come off. */
function stripCommentChar(c: string): string {
  if (c.startsWith(';')) return c.replace(/^[; ]+/, '');
  if (c.startsWith('#')) return c.replace(/^[# ]+/, '');
  return c;
}

function sectionToEntry(sec: IniSection): Entry {
  const items: Array<Entry | CommentNode> = [];
  if (sec.comment) items.push(comment(byteStringToText(stripCommentChar(sec.comment))));
  for (const k of sec.keys) {
    items.push(entry(byteStringToText(k.name), byteStringToLeaf(k.value)));
    if (k.comment) items.push(comment(byteStringToText(stripCommentChar(k.comment))));
  }
  return entry(byteStringToText(sec.name), map(items));
}

// ---------------------------------------------------------------------------------------
// writing (ini.v1 file.go writeToBuffer, PrettyFormat)

function commentLines(text: string, trimPlain: boolean): string {
  let out = '';
  for (const l of text.split('\n')) {
    if (l.length === 0) out += '; \n'; // Go panics on an empty comment line; write an empty comment
    else if (l[0] !== '#' && l[0] !== ';') out += '; ' + (trimPlain ? trimSpace(l) : l) + '\n';
    else out += l[0] + ' ' + trimSpace(l.slice(1)) + '\n';
  }
  return out;
}

function quoteKey(name: string): string {
  // Unlike ini.v1, which would read them back as something else: a name with a back-tick goes
  // in triple quotes even if it also has `"` or a delimiter, and a name starting with `#`, `;`
  // or `[` (a comment or a section; an auto-numbered `-` key is named `#1`) in back-ticks.
  if (name.includes('`')) return '"""' + name + '"""';
  if (name.includes('"') || indexOfAny(name, DELIMITERS) >= 0 || /^[#;[]/.test(name)) return '`' + name + '`';
  return name;
}

function quoteValue(v: string): string {
  if (v.includes('\n') || v.includes('`')) {
    // A multi-line value holding `"""` would end early in triple quotes; back-ticks span lines too.
    if (v.includes('\n') && v.includes('"""') && !v.includes('`')) return '`' + v + '`';
    return '"""' + v + '"""';
  }
  if (v.includes('#') || v.includes(';')) return '`' + v + '`';
  // ini.v1 writes the values below bare or in double quotes and reads them back changed
  // (quotes stripped, a continuation line, a multi-line value), which breaks the MAC of a
  // value in clear text: back-ticks keep them as they are.
  if (trimSpace(v).length !== v.length) return v.includes('"') ? '`' + v + '`' : '"' + v + '"';
  if (v.endsWith('\\') || surroundedBy(v, '"') || surroundedBy(v, "'") || v.startsWith('"""')) return '`' + v + '`';
  return v;
}

function writeIni(sections: IniSection[]): string {
  let out = '';
  sections.forEach((sec, i) => {
    if (sec.comment.length > 0) out += commentLines(sec.comment, false);
    if (i > 0 || byteStringToText(sec.name).toUpperCase() !== DEFAULT_SECTION) out += `[${sec.name}]\n`;
    else if (sec.keys.length === 0) return;
    let align = 0;
    for (const k of sec.keys) {
      const q = quoteKey(k.name);
      align = Math.max(align, q.length);
    }
    for (const k of sec.keys) {
      if (k.comment.length > 0) out += commentLines(k.comment, true);
      const q = quoteKey(k.name);
      out += q + ' '.repeat(align - q.length) + ' = ' + quoteValue(k.value) + '\n';
    }
    if (i !== sections.length - 1) out += '\n';
  });
  return out;
}

const NOT_SECTION_HINT = 'INI files hold sections of key = value pairs; use YAML or JSON for other shapes';

/** Builds ini.v1 sections from the tree exactly as sops's `encodeTree` does. */
function treeToSections(doc: MapNode): IniSection[] {
  const sections: IniSection[] = [];
  for (const it of doc.items) {
    if (it.kind === 'comment') continue;
    if (it.key.length === 0) throw new SopsError('error encoding section: empty section name', ExitCode.ErrorDumpingTree);
    if (it.value.kind !== 'map') {
      throw new SopsError(`error encoding section ${JSON.stringify(it.key)}: section values should always be mappings`, ExitCode.ErrorDumpingTree, { hint: NOT_SECTION_HINT });
    }
    const sec: IniSection = { name: textToByteString(it.key), comment: '', keys: [] };
    const items = it.value.items;
    let first = 0;
    if (items[0]?.kind === 'comment') {
      sec.comment = textToByteString(items[0].text);
      first = 1;
    }
    let last: IniKey | undefined;
    for (const kv of items.slice(first)) {
      if (kv.kind === 'comment') {
        if (last) last.comment = textToByteString(kv.text);
        continue;
      }
      if (kv.key.length === 0) throw new SopsError(`error encoding key in section ${JSON.stringify(it.key)}: empty key name`, ExitCode.ErrorDumpingTree);
      if (kv.value.kind === 'map' || kv.value.kind === 'seq') {
        throw new SopsError(`cannot write the nested value of ${it.key}.${kv.key} to an INI file`, ExitCode.ErrorDumpingTree, { hint: NOT_SECTION_HINT });
      }
      last = newKey(sec, textToByteString(kv.key), leafToByteString(kv.value));
    }
    sections.push(sec);
  }
  return sections;
}

/** How multi-line metadata values (PGP/age armor) are written in `[sops]`. */
export type IniMetadataNewlines = 'triple-quoted' | 'escaped';

export interface IniStoreOptions {
  /**
   * `triple-quoted` (default): real newlines, written as `"""…"""` (sops 3.13.0/3.13.1);
   * readable by every sops version. `escaped`: each newline as backslash-`n` on one line
   * (sops ≤3.12 and ≥3.13.2); unreadable for PGP/age by 3.13.0/3.13.1.
   */
  metadataNewlines?: IniMetadataNewlines;
}

/** An INI store; {@link iniStore} is the default one. */
export function createIniStore(options: IniStoreOptions = {}): Store {
  const escape = options.metadataNewlines === 'escaped';
  const store: Store = {
    name: 'ini',

    load(data: Uint8Array): LoadedFile {
      const sections = new IniParser(bytesToByteString(data)).parse();
      const items = sections.map(sectionToEntry);
      const meta = items.filter((e) => e.key === METADATA_SECTION);
      const doc = map(items.filter((e) => e.key !== METADATA_SECTION));
      if (meta.length === 0) return { documents: [doc] };
      if (meta.length > 1) throw new ParseError('found duplicate sops entry', { hint: 'a file may have only one [sops] section' });
      const flat = (meta[0].value as MapNode).items.map((it) =>
        it.kind === 'entry' && it.value.kind === 'str' ? entry(it.key, str(it.value.value.replaceAll('\\n', '\n'))) : it,
      );
      return { documents: [doc], metadata: unflatten(flat) };
    },

    emit(file: LoadedFile, _opts?: EmitOptions): Uint8Array {
      const doc = singleDocument(file, 'INI');
      const sections = treeToSections(doc);
      if (file.metadata) {
        if (doc.items.some((i) => i.kind === 'entry' && i.key === METADATA_SECTION)) {
          throw new SopsError('found key "sops" in the data, which is reserved for SOPS metadata', ExitCode.ErrorDumpingTree, {
            hint: 'rename the [sops] section',
          });
        }
        const sec: IniSection = { name: METADATA_SECTION, comment: '', keys: [] };
        for (const e of flatten(file.metadata)) {
          let v = leafToByteString(e.value);
          if (escape && e.value.kind === 'str') v = v.replaceAll('\n', '\\n');
          newKey(sec, textToByteString(e.key), v);
        }
        sections.push(sec);
      }
      return byteStringToBytes(writeIni(sections));
    },

    emitValue(value: Node): Uint8Array {
      // sops marshals non-string values with encoding/json (compact); mappings are written
      // as INI (sops would print Go's internal item structs).
      if (value.kind === 'map') return store.emit({ documents: [value] });
      return new TextEncoder().encode(encodeJson(value, null));
    },
  };
  return store;
}

/** The INI store, writing multi-line metadata in the triple-quoted form. */
export const iniStore: Store = createIniStore();
