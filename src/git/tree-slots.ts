/**
 * What the tree diff and the three-way merge share: exact node equality (comments included),
 * key paths as `["a"][0]["b"]`, and a container seen as "slots" (one per mapping key or list
 * element, each with the comments that stand before it). Pure.
 */
import type { PathStep } from '../tree/path.js';
import { sameLeaf } from '../tree/mutate.js';
import type { CommentNode, MapNode, Node, SeqNode } from '../tree/types.js';

/** `["a"][0]["b"]` (the document itself: `(document)`). */
export function formatKeyPath(steps: readonly PathStep[]): string {
  if (steps.length === 0) return '(document)';
  return steps.map((s) => (typeof s === 'number' ? `[${s}]` : `[${JSON.stringify(s)}]`)).join('');
}

/** Equality of comment lists (text and inline flag, in order). */
export function sameComments(a: readonly CommentNode[], b: readonly CommentNode[]): boolean {
  return a.length === b.length && a.every((c, i) => c.text === b[i]!.text && !!c.inline === !!b[i]!.inline);
}

/** Exact equality: kinds, values, key order and comments. `undefined` stands for "absent". */
export function sameNode(a: Node | undefined, b: Node | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'map':
    case 'seq': {
      const ia = a.items as Array<Node | CommentNode | MapNode['items'][number]>;
      const ib = (b as MapNode | SeqNode).items as typeof ia;
      if (ia.length !== ib.length) return false;
      return ia.every((x, i) => {
        const y = ib[i]!;
        if (x.kind === 'comment' || y.kind === 'comment') return x.kind === y.kind && sameComments([x as CommentNode], [y as CommentNode]);
        if (x.kind === 'entry' || y.kind === 'entry') return x.kind === 'entry' && y.kind === 'entry' && x.key === y.key && sameNode(x.value, y.value);
        return sameNode(x, y);
      });
    }
    default:
      return sameLeaf(a, b);
  }
}

/** One mapping entry or list element with the comments before it. */
export interface Slot {
  /** Mapping: the key (with `#n` for the n-th duplicate); list: the element index. */
  id: string;
  /** The path step: the key, or the element index. */
  step: PathStep;
  comments: CommentNode[];
  value: Node;
}

/** A container as slots plus the comments after its last element. */
export interface Slots {
  kind: 'map' | 'seq';
  slots: Slot[];
  trailing: CommentNode[];
}

/** Splits a mapping or list into slots. */
export function toSlots(n: MapNode | SeqNode): Slots {
  const slots: Slot[] = [];
  const seen = new Map<string, number>();
  let pending: CommentNode[] = [];
  let index = 0;
  for (const it of n.items as Array<MapNode['items'][number] | SeqNode['items'][number]>) {
    if (it.kind === 'comment') {
      pending.push(it);
      continue;
    }
    if (it.kind === 'entry') {
      const k = seen.get(it.key) ?? 0;
      seen.set(it.key, k + 1);
      slots.push({ id: k === 0 ? it.key : `${it.key}#${k}`, step: it.key, comments: pending, value: it.value });
    } else {
      slots.push({ id: String(index), step: index, comments: pending, value: it });
      index++;
    }
    pending = [];
  }
  return { kind: n.kind, slots, trailing: pending };
}

/** Builds a container back from slots. */
export function fromSlots(s: Slots): MapNode | SeqNode {
  if (s.kind === 'map') {
    const items: MapNode['items'] = [];
    for (const sl of s.slots) items.push(...sl.comments, { kind: 'entry', key: String(sl.step), value: sl.value });
    items.push(...s.trailing);
    return { kind: 'map', items };
  }
  const items: SeqNode['items'] = [];
  for (const sl of s.slots) items.push(...sl.comments, sl.value);
  items.push(...s.trailing);
  return { kind: 'seq', items };
}

/**
 * The ids of `primary` in order, with the ids only `secondary` has inserted after their
 * nearest predecessor in `secondary` and after the `primary`-only ids that follow it (so two
 * sides appending keys give ours's, then theirs's).
 */
export function unionOrder(primary: readonly string[], secondary: readonly string[]): string[] {
  const out = [...primary];
  const have = new Set(primary);
  const inSecondary = new Set(secondary);
  let anchor = -1;
  for (const id of secondary) {
    if (have.has(id)) {
      anchor = out.indexOf(id);
      continue;
    }
    while (anchor + 1 < out.length && !inSecondary.has(out[anchor + 1]!)) anchor++;
    out.splice(anchor + 1, 0, id);
    have.add(id);
    anchor += 1;
  }
  return out;
}
