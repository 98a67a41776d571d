/**
 * Mutations of text for the fuzz suite: a few edits (replace, insert, delete, duplicate, swap,
 * truncate) chosen by fast-check, so that shrinking finds the smallest failing edit.
 */
import fc from 'fast-check';

export type Edit =
  | { op: 'replace'; at: number; text: string }
  | { op: 'insert'; at: number; text: string }
  | { op: 'delete'; at: number; len: number }
  | { op: 'duplicate'; at: number; len: number }
  | { op: 'swap'; at: number; other: number }
  | { op: 'truncate'; at: number };

/** Characters that matter to the ENC grammar and its fields, plus anything. */
const SPECIAL = fc.constantFrom(',', ':', ']', '[', '=', '+', '/', 'A', 'a', '0', ' ', '\n', '\u0000', '\uFFFD', 'é', '😀', 'data:', 'iv:', 'tag:', 'type:', 'ENC[', 'AES256_GCM', '==', '\\');
const TEXT = fc.oneof(SPECIAL, fc.string({ maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 4 }));

export const edit: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ op: fc.constant('replace' as const), at: fc.nat(), text: TEXT }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), text: TEXT }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 12 }) }),
  fc.record({ op: fc.constant('duplicate' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ op: fc.constant('swap' as const), at: fc.nat(), other: fc.nat() }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
);

/** Applies edits to `s` (positions are taken modulo the current length). */
export function applyEdits(s: string, edits: readonly Edit[]): string {
  let out = s;
  for (const e of edits) {
    const n = Math.max(out.length, 1);
    const at = e.at % n;
    switch (e.op) {
      case 'replace':
        out = out.slice(0, at) + e.text + out.slice(at + Math.max(1, e.text.length));
        break;
      case 'insert':
        out = out.slice(0, at) + e.text + out.slice(at);
        break;
      case 'delete':
        out = out.slice(0, at) + out.slice(at + e.len);
        break;
      case 'duplicate':
        out = out.slice(0, at + e.len) + out.slice(at, at + e.len) + out.slice(at + e.len);
        break;
      case 'swap': {
        const b = e.other % n;
        const [i, j] = at < b ? [at, b] : [b, at];
        if (i !== j && j < out.length) out = out.slice(0, i) + out[j] + out.slice(i + 1, j) + out[i] + out.slice(j + 1);
        break;
      }
      case 'truncate':
        out = out.slice(0, at);
        break;
    }
  }
  return out;
}

/** One to three edits. */
export const edits = fc.array(edit, { minLength: 1, maxLength: 3 });
