/**
 * Tree -> emitter events, as sops's YAML store builds go-yaml nodes (comments become head,
 * line and foot comments of neighbouring nodes) and go-yaml's encoder turns nodes into events.
 */
import type { BytesLeaf, CommentNode, Leaf, MapNode, Node, SeqNode, StrLeaf } from '../../tree/types.js';
import type { EmitEvent } from './emitter.js';
import { yamlFloatText } from './gofloat.js';
import { plainResolvesToString } from './resolve.js';
import { analyzeScalar, type ScalarAnalysis, type ScalarStyle } from './writer.js';

/**
 * A go-yaml node. A scalar node is laid out as its own scalar event (`t`, `tail`, and the
 * analysis the emitter would otherwise redo), so that {@link nodeEvents} hands it on as it is
 * instead of copying it: one object per value instead of two.
 */
interface GNode {
  t: 'scalar' | '';
  kind: 'map' | 'seq' | 'scalar';
  head: string;
  line: string;
  foot: string;
  tail: string;
  children: GNode[];
  value: string;
  style: ScalarStyle;
  tag: string | undefined;
  analysis: ScalarAnalysis | undefined;
}

/** Scalars have no children: they share this (never changed) list. */
const NO_CHILDREN: GNode[] = [];

const gnode = (kind: GNode['kind']): GNode => ({
  t: kind === 'scalar' ? 'scalar' : '', kind, head: '', line: '', foot: '', tail: '',
  children: kind === 'scalar' ? NO_CHILDREN : [], value: '', style: 'plain', tag: undefined, analysis: undefined,
});

/** The style go-yaml gives a Go string (marshal, then re-parse, as sops's `Node.Encode` does). */
export function stringStyle(s: string): ScalarStyle {
  return styleAndAnalysis(s).style;
}

/** {@link stringStyle} and the string's `analyze_scalar` (which the emitter needs too), or no analysis when it was not needed. */
function styleAndAnalysis(s: string): { style: ScalarStyle; analysis: ScalarAnalysis | undefined } {
  // Deviations from go-yaml, so that what we write always reads back the same: a multi-line
  // string that needs an indentation indicator (`|4`) is misplaced by go-yaml inside lists, and
  // raw U+2028/U+2029 are line breaks to some readers; both are written double-quoted.
  if (/[\u2028\u2029]/.test(s) || (s.includes('\n') && /^[ \n]/.test(s))) return { style: 'double', analysis: undefined };
  let style: ScalarStyle = s.includes('\n') ? 'literal' : plainResolvesToString(s) ? 'plain' : 'double';
  const a = analyzeScalar(s);
  if (style === 'plain' && !a.blockPlainAllowed) style = 'single';
  if (style === 'single' && !a.singleQuotedAllowed) style = 'double';
  if (style === 'literal' && !a.blockAllowed) style = 'double';
  return { style, analysis: a };
}

/** Styles of mapping keys seen so far: keys repeat (the same names in every entry of a list or service). */
const keyStyles = new Map<string, { style: ScalarStyle; analysis: ScalarAnalysis | undefined }>();
const KEY_STYLES_MAX = 4096;

/** go-yaml's `encodeBase64`: 70-character lines, each followed by `\n` once there is more than one. */
function encodeBase64(b: Uint8Array): string {
  const enc = Buffer.from(b).toString('base64');
  if (enc.length < 70) return enc;
  let out = '';
  for (let i = 0; i < enc.length; i += 70) out += enc.slice(i, i + 70) + '\n';
  return out;
}

/** A scalar's style and analysis (none: the emitter analyzes it). */
export interface StyledScalar {
  style: ScalarStyle;
  analysis: ScalarAnalysis | undefined;
}

// go-yaml writes a literal "<<" as `!!merge <<`, which go-yaml (and so sops) then refuses to
// read back when its value is not a mapping; "<<" quoted reads back as the same plain key.
const MERGE_KEY_STYLE: StyledScalar = { style: 'double', analysis: undefined };

/** The style (and analysis) of a string node; `isKey`: a mapping key. */
export function stringScalar(s: string, isKey: boolean): StyledScalar {
  if (s === '<<') return MERGE_KEY_STYLE;
  let sa = isKey ? keyStyles.get(s) : undefined;
  if (!sa) {
    sa = styleAndAnalysis(s);
    if (isKey && keyStyles.size < KEY_STYLES_MAX) keyStyles.set(s, sa);
  }
  return sa;
}

function stringNode(s: string, isKey = false): GNode {
  const n = gnode('scalar');
  n.value = s;
  const sa = stringScalar(s, isKey);
  n.style = sa.style;
  n.analysis = sa.analysis;
  return n;
}

/** The text of bytes that are valid UTF-8 (written as a string), or undefined (written as `!!binary`). */
export function utf8Text(b: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(b);
  } catch {
    return undefined;
  }
}

/** The plain-style text of a leaf that is not a string. */
export function leafText(leaf: Exclude<Leaf, StrLeaf | BytesLeaf>): string {
  switch (leaf.kind) {
    case 'int':
      return leaf.value.toString();
    case 'float':
      // go-yaml writes -0 as `-0`, which reads back as the integer 0 (and breaks the MAC of a
      // clear-text value); `-0.0` reads back as the float -0.
      return Object.is(leaf.value, -0) ? '-0.0' : yamlFloatText(leaf.value);
    case 'bool':
      return leaf.value ? 'true' : 'false';
    case 'time':
      return leaf.value;
    case 'null':
      return 'null';
  }
}

function leafNode(leaf: Leaf): GNode {
  if (leaf.kind === 'str') return stringNode(leaf.value);
  const n = gnode('scalar');
  if (leaf.kind === 'bytes') {
    const text = utf8Text(leaf.value);
    if (text !== undefined) return stringNode(text);
    n.tag = 'binary';
    n.value = encodeBase64(leaf.value);
    n.style = n.value.includes('\n') ? 'literal' : 'plain';
    return n;
  }
  n.value = leafText(leaf);
  return n;
}

/** Comment lines as one head/line/foot comment text. */
export const joinComments = (cs: string[]): string => '#' + cs.join('\n#');
const addHead = (n: GNode, cs: string[]): void => {
  if (cs.length) n.head = n.head ? `${joinComments(cs)}\n${n.head}` : joinComments(cs);
};
const addFoot = (n: GNode, cs: string[]): void => {
  if (cs.length) n.foot = n.foot ? `${n.foot}\n${joinComments(cs)}` : joinComments(cs);
};
const addLine = (n: GNode, cs: string[]): void => {
  if (cs.length) n.line = n.line ? `${n.line}\n${joinComments(cs)}` : joinComments(cs);
};

/** Builds a node from a tree value, placing comments the way sops does. */
export function toGNode(v: Node): GNode {
  if (v.kind === 'map' || v.kind === 'seq') return collectionNode(v);
  return leafNode(v);
}

function collectionNode(v: MapNode | SeqNode): GNode {
  const n = gnode(v.kind);
  let heads: string[] = [];
  let inlines: string[] = [];
  let beginning = true;
  let last: GNode | undefined;
  const items = v.items as Array<Node | CommentNode | MapNode['items'][number]>;
  // indexed loops: a cold run executes this unoptimized, where for-of allocates per step
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    if (it.kind === 'comment') {
      (it.inline ? inlines : heads).push(it.text);
      continue;
    }
    if (beginning) {
      addHead(n, heads);
      heads = [];
      beginning = false;
    }
    if (it.kind === 'entry') {
      const key = stringNode(it.key, true);
      addHead(key, heads);
      const value = toGNode(it.value);
      addLine(value, inlines);
      n.children.push(key, value);
      last = key;
    } else {
      const item = toGNode(it);
      addHead(item, heads);
      addLine(item, inlines);
      n.children.push(item);
      last = item;
    }
    heads = [];
    inlines = [];
  }
  const rest = [...heads, ...inlines];
  if (rest.length) {
    if (last) addFoot(last, rest);
    else addHead(n, rest);
  }
  return n;
}

/** go-yaml encoder: node -> events (a key's foot comment travels as the next event's tail). */
export function nodeEvents(n: GNode, tail: string, out: EmitEvent[]): void {
  if (n.kind === 'scalar') {
    // the node is laid out as its event (see GNode); a tail makes it a copy
    out.push((tail === '' && n.tail === '' ? n : { ...n, tail }) as EmitEvent);
    return;
  }
  if (n.kind === 'seq') {
    out.push({ t: 'seqStart', flow: false, head: n.head });
    for (let i = 0; i < n.children.length; i++) nodeEvents(n.children[i]!, '', out);
    out.push({ t: 'seqEnd', line: n.line, foot: n.foot });
    return;
  }
  out.push({ t: 'mapStart', flow: false, head: n.head, tail });
  let carry = '';
  for (let i = 0; i + 1 < n.children.length; i += 2) {
    const k = n.children[i]!;
    const foot = k.foot;
    nodeEvents(foot ? { ...k, foot: '' } : k, carry, out);
    carry = foot;
    nodeEvents(n.children[i + 1]!, '', out);
  }
  out.push({ t: 'mapEnd', tail: carry, line: n.line, foot: n.foot });
}

/** Events of one document whose root is `root`, appended to `out` if given. */
export function documentEvents(root: GNode, out: EmitEvent[] = []): EmitEvent[] {
  out.push({ t: 'docStart' });
  nodeEvents(root, '', out);
  out.push({ t: 'docEnd' });
  return out;
}
