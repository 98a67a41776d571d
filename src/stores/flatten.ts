/**
 * Helpers shared by the two flat stores (dotenv and INI).
 *
 * 1. {@link flatten} / {@link unflatten}: the metadata tree as flat keys, exactly as sops's
 *    `stores/flatten.go` does it: `parent__map_child`, `parent__list_N`, with an optional
 *    prefix (`sops_` for dotenv). Only metadata is ever flattened.
 * 2. {@link goValToString}: how sops's `ValToString` writes a non-string leaf into a flat
 *    file (`1.5`, `2.0`, `1E+06`, `true`, RFC 3339).
 * 3. Byte strings: both flat formats are parsed and written as Go does, on raw bytes. A
 *    "byte string" here is a JS string whose every char code is one byte (0-255), so values
 *    that are not valid UTF-8 survive as {@link BytesLeaf}.
 */
import { ParseError, SopsError, ExitCode } from '../errors.js';
import { bytes as bytesLeaf, entry, map, seq, str } from '../tree/types.js';
import type { BytesLeaf, CommentNode, Entry, Leaf, MapNode, Node, StrLeaf } from '../tree/types.js';

const MAP_SEP = '__map_';
const LIST_SEP = '__list_';

// ---------------------------------------------------------------------------------------
// flatten

/** A flattened metadata entry: its value is always a leaf. */
export type FlatEntry = Entry & { value: Leaf };

/**
 * Flattens a metadata tree into one level of entries whose keys carry the path
 * (`pgp__list_0__map_enc`). Comments are skipped, list indices count non-comment elements,
 * empty mappings and lists vanish (as in sops). Throws {@link SopsError} on a key collision.
 */
export function flatten(tree: MapNode, prefix = ''): FlatEntry[] {
  const out: FlatEntry[] = [];
  const seen = new Set<string>();
  const descend = (value: Node, key: string): void => {
    if (value.kind === 'map') {
      for (const it of value.items) if (it.kind === 'entry') descend(it.value, key + MAP_SEP + it.key);
      return;
    }
    if (value.kind === 'seq') {
      let i = 0;
      for (const it of value.items) {
        if (it.kind === 'comment') continue;
        descend(it, key + LIST_SEP + String(i++));
      }
      return;
    }
    if (seen.has(key)) {
      throw new SopsError(`found key collision ${JSON.stringify(key)} while flattening the metadata`, ExitCode.ErrorDumpingTree);
    }
    seen.add(key);
    out.push({ kind: 'entry', key, value });
  };
  for (const it of tree.items) if (it.kind === 'entry') descend(it.value, prefix + it.key);
  return out;
}

// ---------------------------------------------------------------------------------------
// unflatten

type Token = { map: string } | { list: number };

/** Splits a flat key on the `__map_` / `__list_` markers (Go `tokenize`). */
function tokenize(path: string): Token[] {
  const tokens: Token[] = [];
  let state: 'normal' | 'map' | 'list' = 'normal';
  let start = 0;
  const finish = (end: number): void => {
    if (state === 'normal') tokens.push({ map: path.slice(start, end) });
    else if (state === 'map') tokens.push({ map: path.slice(start + MAP_SEP.length, end) });
    else tokens.push({ list: goAtoi(path.slice(start + LIST_SEP.length, end)) });
    start = end;
  };
  let i = 0;
  while (i < path.length) {
    if (path.startsWith(MAP_SEP, i)) {
      finish(i);
      state = 'map';
      i += MAP_SEP.length;
    } else if (path.startsWith(LIST_SEP, i)) {
      finish(i);
      state = 'list';
      i += LIST_SEP.length;
    } else {
      i++;
    }
  }
  finish(path.length);
  return tokens;
}

/** Go `strconv.Atoi`, with sops's "ignore the error" behaviour: anything unparsable is 0. */
function goAtoi(s: string): number {
  if (!/^[+-]?[0-9]+$/.test(s)) return 0;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : 0;
}

interface PlaceNode {
  value?: Node;
  subkeys?: Map<string, PlaceNode>;
  indices?: Map<number, PlaceNode>;
}

/**
 * Rebuilds the nested metadata tree from flat entries (prefix already removed). Comments
 * are ignored. As in sops, mapping keys come out sorted (byte order) and lists must be
 * contiguous from 0. Throws {@link ParseError} on duplicates, type mismatches and holes.
 */
export function unflatten(items: ReadonlyArray<Entry | CommentNode>): MapNode {
  const root: PlaceNode = {};
  for (const it of items) {
    if (it.kind !== 'entry') continue;
    let node = root;
    for (const t of tokenize(it.key)) {
      if ('map' in t) {
        node.subkeys ??= new Map();
        let next = node.subkeys.get(t.map);
        if (!next) node.subkeys.set(t.map, (next = {}));
        node = next;
      } else {
        node.indices ??= new Map();
        let next = node.indices.get(t.list);
        if (!next) node.indices.set(t.list, (next = {}));
        node = next;
      }
    }
    if (node.value !== undefined) {
      throw new ParseError(`error while unflattening metadata key ${JSON.stringify(it.key)}: duplicate value`);
    }
    node.value = it.value;
  }
  const result = convert(root);
  if (result.kind !== 'map') throw new ParseError('error while unflattening metadata: the root is not a mapping');
  return result;
}

function convert(node: PlaceNode): Node {
  const hasValue = node.value !== undefined;
  const hasSub = (node.subkeys?.size ?? 0) > 0;
  const hasIdx = (node.indices?.size ?? 0) > 0;
  if (Number(hasValue) + Number(hasSub) + Number(hasIdx) > 1) {
    throw new ParseError('error while unflattening metadata: type mismatch (a key is both a value, a mapping or a list)');
  }
  if (hasValue) return node.value!;
  if (hasSub) {
    const keys = [...node.subkeys!.keys()].sort(compareBytewise);
    return map(keys.map((k) => entry(k, convert(node.subkeys!.get(k)!))));
  }
  if (hasIdx) {
    const idx = [...node.indices!.keys()].sort((a, b) => a - b);
    if (idx[0] !== 0 || idx[idx.length - 1] + 1 !== idx.length) {
      throw new ParseError('error while unflattening metadata: incomplete list (indices must be contiguous from 0)');
    }
    return seq(idx.map((i) => convert(node.indices!.get(i)!)));
  }
  return map();
}

/** Orders strings as Go's `sort.Strings` does (UTF-8 byte order = code point order). */
export function compareBytewise(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

// ---------------------------------------------------------------------------------------
// Go value formatting (sops `stores.ValToString`)

/**
 * Text of a non-string leaf as sops writes it into dotenv/INI: floats as the shortest `%G`
 * form with at least one decimal (`1.5`, `2.0`, `1E+06`), bools `true`/`false`, timestamps as
 * RFC 3339 without fraction, null as Go prints nil (`<nil>`).
 */
export function goValToString(leaf: Exclude<Leaf, BytesLeaf>): string {
  switch (leaf.kind) {
    case 'str':
      return leaf.value;
    case 'int':
      return leaf.value.toString();
    case 'bool':
      return leaf.value ? 'true' : 'false';
    case 'null':
      return '<nil>';
    case 'time':
      return leaf.value.replace(/(T\d\d:\d\d:\d\d)\.\d+/, '$1');
    case 'float': {
      const g = formatFloatG(leaf.value);
      if (g.includes('.') || g.includes('E')) return g;
      return formatFloatF1(leaf.value);
    }
  }
}

/** Go `strconv.FormatFloat(v, 'G', -1, 64)`. */
export function formatFloatG(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  const neg = v < 0 || Object.is(v, -0);
  const sign = neg ? '-' : '';
  if (v === 0) return sign + '0';
  // Shortest round-trip digits, as Go's shortest mode computes them.
  const [mant, expText] = Math.abs(v).toExponential().split('e');
  const digits = mant.replace('.', '');
  const exp = Number(expText);
  const nd = digits.length;
  if (exp < -4 || exp >= 6) {
    const frac = digits.slice(1);
    const e = Math.abs(exp);
    return `${sign}${digits[0]}${frac ? '.' + frac : ''}E${exp < 0 ? '-' : '+'}${e < 10 ? '0' + e : String(e)}`;
  }
  const dp = exp + 1;
  if (dp <= 0) return `${sign}0.${'0'.repeat(-dp)}${digits}`;
  if (dp >= nd) return sign + digits + '0'.repeat(dp - nd);
  return `${sign}${digits.slice(0, dp)}.${digits.slice(dp)}`;
}

/** Go `strconv.FormatFloat(v, 'f', 1, 64)` for the values {@link goValToString} needs. */
function formatFloatF1(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '+Inf' : '-Inf';
  if (Object.is(v, -0)) return '-0.0';
  return v.toFixed(1);
}

// ---------------------------------------------------------------------------------------
// byte strings

const utf8Fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8Lossy = new TextDecoder('utf-8', { ignoreBOM: true });
const utf8Encoder = new TextEncoder();

/** Raw bytes as a byte string (one char per byte). */
export function bytesToByteString(b: Uint8Array): string {
  // latin1 is exactly one char per byte
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
}

/** A byte string back to bytes. */
export function byteStringToBytes(s: string): Uint8Array {
  const b = Buffer.from(s, 'latin1');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** ASCII text is its own UTF-8 byte string (and the other way round). */
const ASCII = /^[\x00-\x7f]*$/;

/** A JS string as the byte string of its UTF-8 encoding. */
export function textToByteString(s: string): string {
  if (ASCII.test(s)) return s;
  return bytesToByteString(utf8Encoder.encode(s));
}

/** Decodes a byte string as UTF-8 for keys and comments (invalid bytes become U+FFFD). */
export function byteStringToText(s: string): string {
  if (ASCII.test(s)) return s;
  return utf8Lossy.decode(byteStringToBytes(s));
}

/** A value as a leaf: a string when it is valid UTF-8, raw bytes otherwise. */
export function byteStringToLeaf(s: string): StrLeaf | BytesLeaf {
  if (ASCII.test(s)) return str(s);
  const b = byteStringToBytes(s);
  try {
    return str(utf8Fatal.decode(b));
  } catch {
    return bytesLeaf(b);
  }
}

/** The byte string a leaf is written as in a flat file ({@link goValToString} for non-strings). */
export function leafToByteString(leaf: Leaf): string {
  if (leaf.kind === 'bytes') return bytesToByteString(leaf.value);
  return textToByteString(goValToString(leaf));
}
