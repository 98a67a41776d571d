/**
 * Which leaves a selection rule encrypts, without encrypting anything: the same walk as the
 * cipher (sops-format.md §4: mapping keys from the root, a comment stack per mapping or list,
 * cleared after each non-comment item), reporting each leaf with its full path. Used by
 * `config explain`, `verify` and the encrypt-time plaintext guard. Pure.
 */
import { isEncryptedValue } from '../crypto/cipher.js';
import type { PathStep } from '../tree/path.js';
import { makeSelector, type EncryptionRule, type Selector } from '../tree/select.js';
import type { Leaf, MapNode, Node } from '../tree/types.js';

/** One leaf and what the rule decides for it. */
export interface LeafSelection {
  /** 0-based document index. */
  document: number;
  /** Keys and list indices from the document root. */
  path: PathStep[];
  leaf: Leaf;
  /** The rule encrypts this value (null values and empty strings are still written as they are). */
  selected: boolean;
}

function walk(out: LeafSelection[], doc: number, sel: Selector, n: Node, keys: string[], path: PathStep[], stack: string[][]): void {
  if (n.kind === 'map' || n.kind === 'seq') {
    // keys/path/stack are shared along the walk (pushed and popped; copied at a leaf), so that
    // deep nesting costs O(depth), not O(depth^2)
    const level: string[] = [];
    stack.push(level);
    let index = 0;
    for (const it of n.items as Array<MapNode['items'][number] | Node | { kind: 'comment'; text: string }>) {
      if (it.kind === 'comment') {
        level.push(it.text);
        continue;
      }
      if (it.kind === 'entry') {
        keys.push(it.key);
        path.push(it.key);
        walk(out, doc, sel, it.value, keys, path, stack);
        keys.pop();
      } else {
        path.push(index++);
        walk(out, doc, sel, it as Node, keys, path, stack);
      }
      path.pop();
      level.length = 0;
    }
    stack.pop();
    return;
  }
  out.push({ document: doc, path: [...path], leaf: n, selected: sel(keys, stack, false) });
}

/** Every leaf of the documents with the rule's decision (undefined rule: the default `_unencrypted` suffix). */
export function selectLeaves(documents: readonly MapNode[], rule: EncryptionRule | undefined): LeafSelection[] {
  const sel = makeSelector(rule);
  const out: LeafSelection[] = [];
  documents.forEach((d, i) => walk(out, i, sel, d, [], [], []));
  return out;
}

/** Whether a leaf can carry an encrypted value at all (null and '' are written as they are). */
export function isEncryptable(l: Leaf): boolean {
  return l.kind !== 'null' && !(l.kind === 'str' && l.value === '');
}

/** Whether an (encrypted file's) leaf holds an `ENC[...]` value. */
export function holdsCiphertext(l: Leaf): boolean {
  return l.kind === 'str' && isEncryptedValue(l.value);
}
