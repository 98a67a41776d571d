/**
 * Plain JavaScript values from a tree, for programs that just want the data. Mappings become
 * objects (integer-like keys are then listed first by JavaScript, and only the first of
 * duplicate keys is kept; use the tree itself where order matters); integers beyond 2^53 stay
 * BigInt.
 */
import type { Node } from './types.js';

export type JSValue = string | number | bigint | boolean | null | Uint8Array | JSValue[] | { [k: string]: JSValue };

/** Converts a tree to plain values. Comments are dropped; timestamps are their RFC 3339 text. */
export function toJS(n: Node): JSValue {
  switch (n.kind) {
    case 'str':
    case 'time':
      return n.value;
    case 'bytes':
      return n.value;
    case 'int':
      return n.value >= BigInt(Number.MIN_SAFE_INTEGER) && n.value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n.value) : n.value;
    case 'float':
    case 'bool':
      return n.value;
    case 'null':
      return null;
    case 'seq':
      return n.items.flatMap((i) => (i.kind === 'comment' ? [] : [toJS(i)]));
    case 'map': {
      const o: { [k: string]: JSValue } = Object.create(null);
      for (const i of n.items) if (i.kind === 'entry' && !(i.key in o)) o[i.key] = toJS(i.value);
      return o;
    }
  }
}
