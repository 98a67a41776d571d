/**
 * The ordered document tree shared by every store, the cipher and the CLI.
 *
 * Documents are never plain JS objects: a mapping is an ordered list of items, so key order,
 * integer-like keys and duplicate keys survive, and every leaf carries its type tag.
 */

/** A UTF-8 (or arbitrary, see {@link BytesLeaf}) string value. */
export interface StrLeaf {
  kind: 'str';
  value: string;
}
/**
 * A string whose bytes are not valid UTF-8 (binary store, YAML `!!binary`). It is encrypted
 * as `type:str` like any string; decrypting `type:str` yields a {@link StrLeaf} when the
 * bytes are valid UTF-8 and a BytesLeaf otherwise.
 */
export interface BytesLeaf {
  kind: 'bytes';
  value: Uint8Array;
}
/** A signed 64-bit integer (BigInt, so nothing is lost above 2^53). */
export interface IntLeaf {
  kind: 'int';
  value: bigint;
}
/** An IEEE double. `-0`, NaN and the infinities are kept. */
export interface FloatLeaf {
  kind: 'float';
  value: number;
}
export interface BoolLeaf {
  kind: 'bool';
  value: boolean;
}
/**
 * A YAML timestamp. `value` is its canonical RFC 3339 text with nanoseconds, as Go formats
 * it (`2024-01-01T00:00:00Z`, `2024-01-01T10:00:00.5+02:00`): that text is both the MAC bytes
 * and the encrypted plaintext.
 */
export interface TimeLeaf {
  kind: 'time';
  value: string;
}
export interface NullLeaf {
  kind: 'null';
}

export type Leaf = StrLeaf | BytesLeaf | IntLeaf | FloatLeaf | BoolLeaf | TimeLeaf | NullLeaf;

/** A comment line. `text` is what follows the comment marker (YAML: leading space kept). */
export interface CommentNode {
  kind: 'comment';
  text: string;
  /** YAML: the comment stood after a value on the same line (`k: v # c`). */
  inline?: boolean;
}

export interface Entry {
  kind: 'entry';
  key: string;
  value: Node;
}

export interface MapNode {
  kind: 'map';
  items: Array<Entry | CommentNode>;
}

export interface SeqNode {
  kind: 'seq';
  items: Array<Node | CommentNode>;
}

export type Node = Leaf | MapNode | SeqNode;

/** One leaf type tag as written in `ENC[...,type:X]`. */
export type TypeTag = 'str' | 'int' | 'float' | 'bytes' | 'bool' | 'time' | 'comment';

// ---- small constructors, so callers never build shapes by hand ----

export const str = (value: string): StrLeaf => ({ kind: 'str', value });
export const bytes = (value: Uint8Array): BytesLeaf => ({ kind: 'bytes', value });
export const int = (value: bigint | number): IntLeaf => ({ kind: 'int', value: BigInt(value) });
export const float = (value: number): FloatLeaf => ({ kind: 'float', value });
export const bool = (value: boolean): BoolLeaf => ({ kind: 'bool', value });
export const time = (value: string): TimeLeaf => ({ kind: 'time', value });
export const nul = (): NullLeaf => ({ kind: 'null' });
export const comment = (text: string, inline?: boolean): CommentNode =>
  inline ? { kind: 'comment', text, inline } : { kind: 'comment', text };
export const entry = (key: string, value: Node): Entry => ({ kind: 'entry', key, value });
export const map = (items: Array<Entry | CommentNode> = []): MapNode => ({ kind: 'map', items });
export const seq = (items: Array<Node | CommentNode> = []): SeqNode => ({ kind: 'seq', items });

export function isLeaf(n: Node | CommentNode): n is Leaf {
  return n.kind !== 'map' && n.kind !== 'seq' && n.kind !== 'comment';
}

/** First entry with this key, or undefined. */
export function getEntry(m: MapNode, key: string): Entry | undefined {
  for (const it of m.items) if (it.kind === 'entry' && it.key === key) return it;
  return undefined;
}

/** Value of the first entry with this key. */
export function get(m: MapNode, key: string): Node | undefined {
  return getEntry(m, key)?.value;
}

/** Sets (replacing the first match in place) or appends an entry. */
export function set(m: MapNode, key: string, value: Node): void {
  const e = getEntry(m, key);
  if (e) e.value = value;
  else m.items.push(entry(key, value));
}

/** Removes every entry with this key; returns how many were removed. */
export function remove(m: MapNode, key: string): number {
  const before = m.items.length;
  m.items = m.items.filter((it) => !(it.kind === 'entry' && it.key === key));
  return before - m.items.length;
}

/** Deep copy. */
export function clone<T extends Node | CommentNode>(n: T): T {
  switch (n.kind) {
    case 'map':
      return { kind: 'map', items: n.items.map((i) => (i.kind === 'entry' ? entry(i.key, clone(i.value)) : { ...i })) } as T;
    case 'seq':
      return { kind: 'seq', items: n.items.map((i) => clone(i)) } as T;
    case 'bytes':
      return { kind: 'bytes', value: new Uint8Array(n.value) } as T;
    default:
      return { ...n };
  }
}
