/**
 * `set` and `unset` on a document, as sops does them: missing mapping keys are created
 * (with intermediate mappings), an index past the end of a list appends, and unset removes a
 * mapping key or a list element. Pure functions on the ordered tree.
 */
import { ExitCode, SopsError } from '../errors.js';
import type { PathStep } from './path.js';
import type { MapNode, Node, SeqNode } from './types.js';

/** Deep equality of two values (comments ignored, types compared). */
export function sameValue(a: Node, b: Node): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'map': {
      const ea = a.items.filter((i) => i.kind === 'entry');
      const eb = (b as MapNode).items.filter((i) => i.kind === 'entry');
      return ea.length === eb.length && ea.every((x, i) => x.key === eb[i]!.key && sameValue(x.value, eb[i]!.value));
    }
    case 'seq': {
      const xa = a.items.filter((i): i is Node => i.kind !== 'comment');
      const xb = (b as SeqNode).items.filter((i): i is Node => i.kind !== 'comment');
      return xa.length === xb.length && xa.every((x, i) => sameValue(x, xb[i]!));
    }
    default:
      return sameLeaf(a, b);
  }
}

/** Equality of two leaves of the same kind (floats by Object.is, so -0 and NaN are exact). */
export function sameLeaf(a: Exclude<Node, MapNode | SeqNode>, b: Node): boolean {
  switch (a.kind) {
    case 'bytes':
      return Buffer.from(a.value).equals(Buffer.from((b as typeof a).value));
    case 'float':
      return Object.is(a.value, (b as typeof a).value);
    case 'null':
      return true;
    default:
      return a.value === (b as typeof a).value;
  }
}

/** The value a path creates when nothing exists there yet. */
function fromPath(steps: readonly PathStep[], leaf: Node): Node {
  let v = leaf;
  for (let i = steps.length - 1; i >= 0; i--) {
    const s = steps[i]!;
    v = typeof s === 'number' ? { kind: 'seq', items: [v] } : { kind: 'map', items: [{ kind: 'entry', key: s, value: v }] };
  }
  return v;
}

/** Element positions of a list, skipping comment items. */
function elementIndex(s: SeqNode, n: number): number {
  let seen = -1;
  for (let i = 0; i < s.items.length; i++) {
    if (s.items[i]!.kind === 'comment') continue;
    seen += 1;
    if (seen === n) return i;
  }
  return -1;
}

function setIn(node: Node, steps: readonly PathStep[], value: Node): { node: Node; changed: boolean } {
  const [step, ...rest] = steps;
  if (step === undefined) return { node: value, changed: !sameValue(node, value) };
  if (typeof step === 'string' && node.kind === 'map') {
    const e = node.items.find((i) => i.kind === 'entry' && i.key === step);
    if (e && e.kind === 'entry') {
      const r = setIn(e.value, rest, value);
      e.value = r.node;
      return { node, changed: r.changed };
    }
    node.items.push({ kind: 'entry', key: step, value: fromPath(rest, value) });
    return { node, changed: true };
  }
  if (typeof step === 'number' && node.kind === 'seq') {
    const at = elementIndex(node, step);
    if (at < 0) {
      node.items.push(fromPath(rest, value));
      return { node, changed: true };
    }
    const r = setIn(node.items[at] as Node, rest, value);
    node.items[at] = r.node;
    return { node, changed: r.changed };
  }
  // A scalar (or the wrong kind of container) is replaced by the path's new structure.
  return { node: fromPath(steps, value), changed: true };
}

/** Sets the value at a path in a document; returns whether anything changed. */
export function setValue(doc: MapNode, steps: readonly PathStep[], value: Node): boolean {
  if (steps.length === 0) throw new SopsError('set needs a path with at least one key', ExitCode.InvalidSetFormat);
  if (typeof steps[0] !== 'string') throw new SopsError('the first step of a set path must be a key: the document is a mapping', ExitCode.InvalidSetFormat);
  return setIn(doc, steps, value).changed;
}

/**
 * Removes the key or list element at a path. Returns false when it does not exist (callers
 * decide whether that is an error: `--idempotent`).
 */
export function unsetValue(doc: MapNode, steps: readonly PathStep[]): boolean {
  if (steps.length === 0) throw new SopsError('unset needs a path with at least one key', ExitCode.InvalidSetFormat);
  let cur: Node = doc;
  for (let i = 0; i < steps.length - 1; i++) {
    const s = steps[i]!;
    if (typeof s === 'string' && cur.kind === 'map') {
      const e: MapNode['items'][number] | undefined = cur.items.find((it) => it.kind === 'entry' && it.key === s);
      if (!e || e.kind !== 'entry') return false;
      cur = e.value;
    } else if (typeof s === 'number' && cur.kind === 'seq') {
      const at = elementIndex(cur, s);
      if (at < 0) return false;
      cur = cur.items[at] as Node;
    } else return false;
  }
  const last = steps[steps.length - 1]!;
  if (typeof last === 'string' && cur.kind === 'map') {
    const at = cur.items.findIndex((it) => it.kind === 'entry' && it.key === last);
    if (at < 0) return false;
    cur.items.splice(at, 1);
    return true;
  }
  if (typeof last === 'number' && cur.kind === 'seq') {
    const at = elementIndex(cur, last);
    if (at < 0) return false;
    cur.items.splice(at, 1);
    return true;
  }
  return false;
}
