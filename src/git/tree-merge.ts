/**
 * Three-way merge of decrypted documents, key by key (the merge driver's core). Pure.
 *
 * For each mapping key (and each list element, when the three lists have the same length):
 * a side that did not change it takes the other side's version; both sides making the same
 * change is fine; both changing it differently, one deleting what the other changed, or both
 * adding it with different values is a conflict at that key path. Lists whose lengths differ
 * on both sides are merged only when one side left the list alone; otherwise the whole list is
 * one conflict. Comments travel with the key or element they stand before and merge the same
 * way.
 */
import type { PathStep } from '../tree/path.js';
import type { CommentNode, MapNode, Node, SeqNode } from '../tree/types.js';
import { formatKeyPath, fromSlots, sameComments, sameNode, toSlots, unionOrder, type Slot } from './tree-slots.js';

/** One key path both sides changed in incompatible ways. */
export interface MergeConflict {
  /** `["db"]["password"]`, prefixed by `document N: ` in multi-document files. */
  path: string;
  /** What happened on each side (no values). */
  reason: string;
}

/** The merged documents, or the conflicts that prevent them. */
export interface TreeMergeResult {
  documents: MapNode[];
  conflicts: MergeConflict[];
}

interface Ctx {
  conflicts: MergeConflict[];
  prefix: string;
}

function describe(b: Node | undefined, a: Node | undefined, t: Node | undefined): string {
  if (b === undefined) return 'added on both sides with different values';
  if (a === undefined) return 'deleted in ours, changed in theirs';
  if (t === undefined) return 'changed in ours, deleted in theirs';
  return 'changed differently on both sides';
}

function conflict(ctx: Ctx, path: readonly PathStep[], reason: string): void {
  ctx.conflicts.push({ path: ctx.prefix + formatKeyPath(path), reason });
}

/** Three-way merge of one value; undefined = absent (deleted). */
function mergeNode(ctx: Ctx, path: PathStep[], b: Node | undefined, a: Node | undefined, t: Node | undefined): Node | undefined {
  if (sameNode(a, t)) return a;
  if (sameNode(b, a)) return t;
  if (sameNode(b, t)) return a;
  if (a?.kind === 'map' && t?.kind === 'map' && (b === undefined || b.kind === 'map')) return mergeContainer(ctx, path, b, a, t);
  if (a?.kind === 'seq' && t?.kind === 'seq' && b?.kind === 'seq') {
    const n = (s: SeqNode) => s.items.filter((i) => i.kind !== 'comment').length;
    if (n(a) === n(b) && n(t) === n(b)) return mergeContainer(ctx, path, b, a, t);
    conflict(ctx, path, 'list changed on both sides, with elements added or removed');
    return a;
  }
  conflict(ctx, path, describe(b, a, t));
  return a;
}

function mergeCommentList(ctx: Ctx, where: string, b: CommentNode[], a: CommentNode[], t: CommentNode[]): CommentNode[] {
  if (sameComments(a, t) || sameComments(b, t)) return a;
  if (sameComments(b, a)) return t;
  ctx.conflicts.push({ path: ctx.prefix + where, reason: 'comments changed differently on both sides' });
  return a;
}

function mergeContainer<T extends MapNode | SeqNode>(ctx: Ctx, path: PathStep[], b: T | undefined, a: T, t: T): T {
  const sb = b ? toSlots(b) : { kind: a.kind, slots: [] as Slot[], trailing: [] as CommentNode[] };
  const sa = toSlots(a);
  const st = toSlots(t);
  const byId = (s: Slot[]) => new Map(s.map((x) => [x.id, x]));
  const mb = byId(sb.slots);
  const ma = byId(sa.slots);
  const mt = byId(st.slots);
  const order = unionOrder(
    sa.slots.map((s) => s.id),
    unionOrder(
      st.slots.map((s) => s.id),
      sb.slots.map((s) => s.id),
    ),
  );
  const out: Slot[] = [];
  for (const id of order) {
    const [xb, xa, xt] = [mb.get(id), ma.get(id), mt.get(id)];
    const step = (xa ?? xt ?? xb)!.step;
    const here = [...path, step];
    const value = mergeNode(ctx, here, xb?.value, xa?.value, xt?.value);
    if (value === undefined) continue;
    const comments = mergeCommentList(ctx, `comments before ${formatKeyPath(here)}`, xb?.comments ?? [], xa?.comments ?? [], xt?.comments ?? []);
    out.push({ id, step, comments, value });
  }
  const trailing = mergeCommentList(ctx, `comments at the end of ${formatKeyPath(path)}`, sb.trailing, sa.trailing, st.trailing);
  return fromSlots({ kind: a.kind, slots: out, trailing }) as T;
}

/**
 * Merges base, ours and theirs. Documents are merged by position; when the number of
 * documents changed on both sides differently, that is one conflict.
 */
export function mergeDocuments(base: readonly MapNode[], ours: readonly MapNode[], theirs: readonly MapNode[]): TreeMergeResult {
  const conflicts: MergeConflict[] = [];
  const multi = Math.max(base.length, ours.length, theirs.length) > 1;
  const sameDocs = (x: readonly MapNode[], y: readonly MapNode[]) => x.length === y.length && x.every((d, i) => sameNode(d, y[i]));
  if (sameDocs(ours, theirs) || sameDocs(base, theirs)) return { documents: [...ours], conflicts };
  if (sameDocs(base, ours)) return { documents: [...theirs], conflicts };
  if (ours.length !== theirs.length || (base.length !== 0 && base.length !== ours.length)) {
    return { documents: [...ours], conflicts: [{ path: '(documents)', reason: 'documents added or removed on both sides' }] };
  }
  const documents = ours.map((a, i) => {
    const ctx: Ctx = { conflicts, prefix: multi ? `document ${i + 1}: ` : '' };
    const merged = mergeNode(ctx, [], base[i], a, theirs[i]!);
    return merged?.kind === 'map' ? merged : a;
  });
  return { documents, conflicts };
}
