/**
 * A key-path-level diff of two decrypted documents (`tsops diff`), and its text form. Pure.
 *
 * Mappings are compared key by key, lists element by element (a longest-common-subsequence
 * alignment, so an insertion does not show every later element as changed). Values are
 * masked unless asked for: the key names, the kind of change and the value types are shown,
 * since an encrypted file shows them too.
 */
import { diffArrays, diffLines, structuredPatch } from 'diff';
import { formatGoFloat } from '../crypto/scalar.js';
import type { PathStep } from '../tree/path.js';
import type { CommentNode, MapNode, Node, SeqNode } from '../tree/types.js';
import { formatKeyPath, sameComments, sameNode, toSlots, unionOrder } from './tree-slots.js';

/** One difference. */
export interface TreeChange {
  kind: 'added' | 'removed' | 'changed' | 'comments';
  /** 0-based document index (YAML files may hold several). */
  document: number;
  path: PathStep[];
  old?: Node;
  new?: Node;
  /** For `comments`: the comment texts of the container before and after. */
  oldComments?: string[];
  newComments?: string[];
}

const commentsOf = (n: MapNode | SeqNode): CommentNode[] => (n.items as Array<{ kind: string }>).filter((i): i is CommentNode => i.kind === 'comment');

function diffNode(out: TreeChange[], doc: number, path: PathStep[], a: Node, b: Node): void {
  if (sameNode(a, b)) return;
  if ((a.kind === 'map' && b.kind === 'map') || (a.kind === 'seq' && b.kind === 'seq')) {
    const ca = commentsOf(a);
    const cb = commentsOf(b as MapNode | SeqNode);
    if (!sameComments(ca, cb)) out.push({ kind: 'comments', document: doc, path, oldComments: ca.map((c) => c.text), newComments: cb.map((c) => c.text) });
    if (a.kind === 'map') diffMaps(out, doc, path, a, b as MapNode);
    else diffSeqs(out, doc, path, a, b as SeqNode);
    return;
  }
  out.push({ kind: 'changed', document: doc, path, old: a, new: b });
}

function diffMaps(out: TreeChange[], doc: number, path: PathStep[], a: MapNode, b: MapNode): void {
  const sa = toSlots(a).slots;
  const sb = toSlots(b).slots;
  const ma = new Map(sa.map((s) => [s.id, s]));
  const mb = new Map(sb.map((s) => [s.id, s]));
  for (const id of unionOrder(sb.map((s) => s.id), sa.map((s) => s.id))) {
    const x = ma.get(id);
    const y = mb.get(id);
    const here = [...path, (x ?? y)!.step];
    if (x && y) diffNode(out, doc, here, x.value, y.value);
    else if (x) out.push({ kind: 'removed', document: doc, path: here, old: x.value });
    else out.push({ kind: 'added', document: doc, path: here, new: y!.value });
  }
}

function diffSeqs(out: TreeChange[], doc: number, path: PathStep[], a: SeqNode, b: SeqNode): void {
  const ea = toSlots(a).slots.map((s) => s.value);
  const eb = toSlots(b).slots.map((s) => s.value);
  const parts = diffArrays(ea, eb, { comparator: (x, y) => sameNode(x, y) });
  let i = 0;
  let j = 0;
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p]!;
    if (!part.added && !part.removed) {
      i += part.count;
      j += part.count;
      continue;
    }
    if (part.removed && parts[p + 1]?.added) {
      // a removed run followed by an added run: pair them up as changes
      const added = parts[p + 1]!;
      const paired = Math.min(part.count, added.count);
      for (let k = 0; k < paired; k++) diffNode(out, doc, [...path, j + k], ea[i + k]!, eb[j + k]!);
      for (let k = paired; k < part.count; k++) out.push({ kind: 'removed', document: doc, path: [...path, i + k], old: ea[i + k]! });
      for (let k = paired; k < added.count; k++) out.push({ kind: 'added', document: doc, path: [...path, j + k], new: eb[j + k]! });
      i += part.count;
      j += added.count;
      p++;
      continue;
    }
    if (part.removed) {
      for (let k = 0; k < part.count; k++) out.push({ kind: 'removed', document: doc, path: [...path, i + k], old: ea[i + k]! });
      i += part.count;
    } else {
      for (let k = 0; k < part.count; k++) out.push({ kind: 'added', document: doc, path: [...path, j + k], new: eb[j + k]! });
      j += part.count;
    }
  }
}

/** The differences between two lists of documents (old first). */
export function diffDocuments(oldDocs: readonly MapNode[], newDocs: readonly MapNode[]): TreeChange[] {
  const out: TreeChange[] = [];
  const n = Math.max(oldDocs.length, newDocs.length);
  for (let d = 0; d < n; d++) {
    const a = oldDocs[d];
    const b = newDocs[d];
    if (a && b) diffNode(out, d, [], a, b);
    else if (a) out.push({ kind: 'removed', document: d, path: [], old: a });
    else out.push({ kind: 'added', document: d, path: [], new: b! });
  }
  return out;
}

// ---- text form ----

/** How {@link renderChanges} prints. */
export interface RenderOptions {
  /** Print the values themselves (default: masked). */
  showValues?: boolean;
  /** Prefix paths with the document number (files with several documents). */
  multiDocument?: boolean;
}

const kindName = (n: Node): string => (n.kind === 'map' ? 'mapping' : n.kind === 'seq' ? 'list' : n.kind === 'str' ? 'string' : n.kind);

function countOf(n: Node): string {
  if (n.kind === 'map') {
    const k = n.items.filter((i) => i.kind === 'entry').length;
    return ` with ${k} ${k === 1 ? 'key' : 'keys'}`;
  }
  if (n.kind === 'seq') {
    const k = n.items.filter((i) => i.kind !== 'comment').length;
    return ` with ${k} ${k === 1 ? 'element' : 'elements'}`;
  }
  return '';
}

/** A value on one line: strings as JSON strings, containers in flow style. */
export function renderValue(n: Node): string {
  switch (n.kind) {
    case 'str':
      return JSON.stringify(n.value);
    case 'bytes':
      return `<${n.value.length} bytes, base64 ${Buffer.from(n.value).toString('base64')}>`;
    case 'int':
      return n.value.toString();
    case 'float':
      return formatGoFloat(n.value);
    case 'bool':
      return n.value ? 'true' : 'false';
    case 'time':
      return n.value;
    case 'null':
      return 'null';
    case 'map':
      return `{${n.items.flatMap((i) => (i.kind === 'entry' ? [`${JSON.stringify(i.key)}: ${renderValue(i.value)}`] : [])).join(', ')}}`;
    case 'seq':
      return `[${n.items.flatMap((i) => (i.kind === 'comment' ? [] : [renderValue(i)])).join(', ')}]`;
  }
}

const isMultiLine = (n: Node | undefined): n is Extract<Node, { kind: 'str' }> => n?.kind === 'str' && n.value.includes('\n');

function textDiff(a: string, b: string, show: boolean): string[] {
  if (!show) {
    let plus = 0;
    let minus = 0;
    for (const part of diffLines(a, b)) {
      if (part.added) plus += part.count;
      else if (part.removed) minus += part.count;
    }
    return [`    (multi-line: ${plus} ${plus === 1 ? 'line' : 'lines'} added, ${minus} removed)`];
  }
  const patch = structuredPatch('old', 'new', a, b, undefined, undefined, { context: 2 });
  const lines: string[] = [];
  for (const h of patch.hunks) {
    lines.push(`    @@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`);
    for (const l of h.lines) lines.push(`    ${l}`);
  }
  return lines;
}

function renderOne(c: TreeChange, o: RenderOptions): string[] {
  const where = (o.multiDocument ? `document ${c.document + 1}: ` : '') + formatKeyPath(c.path);
  const show = !!o.showValues;
  switch (c.kind) {
    case 'added':
      return [`+ ${where}: ${show ? renderValue(c.new!) : `<added ${kindName(c.new!)}${countOf(c.new!)}>`}`];
    case 'removed':
      return [`- ${where}: ${show ? renderValue(c.old!) : `<removed ${kindName(c.old!)}${countOf(c.old!)}>`}`];
    case 'comments': {
      if (!show) return [`~ ${where}: <comments changed>`];
      const lines = [`~ ${where}: comments changed`];
      for (const part of diffArrays(c.oldComments ?? [], c.newComments ?? [])) {
        const mark = part.added ? '+' : part.removed ? '-' : ' ';
        for (const v of part.value) lines.push(`    ${mark}#${v}`);
      }
      return lines;
    }
    case 'changed': {
      const a = c.old!;
      const b = c.new!;
      const types = a.kind === b.kind ? '' : `: ${kindName(a)} -> ${kindName(b)}`;
      if (a.kind === 'str' && b.kind === 'str' && (isMultiLine(a) || isMultiLine(b))) {
        return [`~ ${where}: ${show ? 'changed' : '<changed>'}`, ...textDiff(a.value, b.value, show)];
      }
      return [`~ ${where}: ${show ? `${renderValue(a)} -> ${renderValue(b)}` : `<changed${types}>`}`];
    }
  }
}

/** The changes as text, one `+`/`-`/`~` line per key path (plus text diffs of multi-line strings). */
export function renderChanges(changes: readonly TreeChange[], opts: RenderOptions = {}): string {
  const lines = changes.flatMap((c) => renderOne(c, opts));
  return lines.length ? lines.join('\n') + '\n' : '';
}
