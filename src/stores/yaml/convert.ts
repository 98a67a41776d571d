/**
 * go-yaml nodes -> tree, as sops's YAML store converts them: comments become comment items
 * (head and line comments before the item, foot comments after it), aliases are expanded
 * (bounded), scalars are typed as go-yaml decodes them into `interface{}`.
 */
import { ParseError } from '../../errors.js';
import {
  bytes, comment, entry, float, map, seq, str,
  type CommentNode, type Entry, type Leaf, type MapNode, type Node,
} from '../../tree/types.js';
import type { LDoc, LNode } from './build.js';
import { resolvePlain, toLeaf } from './resolve.js';

/** Hard cap on nodes produced by alias expansion in one file. */
export const MAX_EXPANDED_NODES = 1_000_000;

const RESOLVABLE: Record<string, string> = {
  '!!bool': 'bool', '!!int': 'int', '!!float': 'float', '!!null': 'null', '!!timestamp': 'timestamp',
};

type Items = Array<Entry | CommentNode>;

function addComments(text: string, out: Array<Entry | CommentNode | Node>, inline = false): void {
  if (!text) return;
  for (const l of text.split('\n')) if (l !== '') out.push(comment(l.slice(1), inline));
}

function describe(leaf: Leaf): string {
  switch (leaf.kind) {
    case 'int':
      return `the integer ${leaf.value}`;
    case 'float':
      return `the float ${leaf.value}`;
    case 'bool':
      return `the boolean ${leaf.value}`;
    case 'null':
      return 'null';
    case 'time':
      return `the timestamp ${leaf.value}`;
    default:
      return 'binary data';
  }
}

/** Allowed share of alias-made nodes (go-yaml's `allowedAliasRatio`). */
function allowedAliasRatio(count: number): number {
  if (count <= 400_000) return 0.99;
  if (count >= 4_000_000) return 0.1;
  return 0.99 - 0.89 * ((count - 400_000) / 3_600_000);
}

/** Converts the documents of one file. */
export class Converter {
  private decodeCount = 0;
  private aliasCount = 0;
  private aliasDepth = 0;
  private readonly expanding = new Set<LNode>();
  private lenientTime = false;
  /** Keys from the document root to the value being converted, for messages. */
  private readonly path: string[] = [];

  private where(n: LNode): string {
    return this.path.length ? `line ${n.line} (key ${this.path.join(':')})` : `line ${n.line}`;
  }

  private tick(): void {
    this.decodeCount++;
    if (this.aliasDepth > 0) this.aliasCount++;
    if (this.decodeCount > MAX_EXPANDED_NODES) {
      throw new ParseError(`the YAML expands to more than ${MAX_EXPANDED_NODES} nodes (aliases)`, { hint: 'reduce the use of anchors and aliases' });
    }
    if (this.aliasCount > 100 && this.decodeCount > 1000 && this.aliasCount / this.decodeCount > allowedAliasRatio(this.decodeCount)) {
      throw new ParseError('the YAML document contains excessive aliasing', { hint: 'reduce the use of anchors and aliases' });
    }
  }

  /** One document's mapping (`sops` entries inside it read leniently: timestamps stay text). */
  document(d: LDoc, index: number): MapNode {
    const items: Items = [];
    addComments(d.head, items);
    const root = d.root;
    if (root) {
      const r = root.kind === 'alias' ? this.follow(root) : root;
      if (r.kind === 'seq') throw new ParseError(`document ${index + 1} (line ${d.line}) is a sequence; only YAML documents that are mappings are supported`);
      if (r.kind === 'scalar') {
        addComments(root.head, items);
        addComments(root.lineComment, items);
        if (!(r.value === '' && r.style === 'plain' && r.tag === '') && this.scalar(r).kind !== 'null') {
          throw new ParseError(`document ${index + 1} (line ${d.line}) is a single value; only YAML documents that are mappings are supported`);
        }
      } else {
        if (root.kind === 'alias') this.mapInto(r, false, items, true);
        else this.mapInto(root, false, items, true);
      }
    }
    addComments(d.foot, items);
    return map(items);
  }

  private follow(a: LNode): LNode {
    let t = a;
    while (t.kind === 'alias') t = t.target!;
    return t;
  }

  private mapInto(n: LNode, handled: boolean, items: Items, top = false): void {
    if (!handled) {
      addComments(n.head, items);
      addComments(n.lineComment, items);
    }
    const ch = n.children;
    for (let i = 0; i + 1 < ch.length; i += 2) {
      const k = ch[i]!;
      const v = ch[i + 1]!;
      addComments(k.head, items);
      addComments(k.lineComment, items);
      const scalarish = v.kind === 'scalar' || v.kind === 'alias';
      if (scalarish) {
        addComments(v.head, items);
        addComments(v.lineComment, items, true);
      }
      const key = this.key(k);
      const before = this.lenientTime;
      if (top && key === 'sops') this.lenientTime = true;
      this.path.push(key);
      const value = this.value(v, scalarish);
      this.path.pop();
      this.lenientTime = before;
      items.push(entry(key, value));
      if (scalarish) addComments(v.foot, items);
      addComments(k.foot, items);
    }
    if (!handled) addComments(n.foot, items);
  }

  /** sops `nodeToTreeValue`. */
  value(n: LNode, handled: boolean): Node {
    this.tick();
    switch (n.kind) {
      case 'scalar':
        return this.scalar(n);
      case 'alias':
        return this.alias(n);
      case 'map': {
        const items: Items = [];
        this.mapInto(n, handled, items);
        return map(items);
      }
      case 'seq': {
        const items: Array<Node | CommentNode> = [];
        if (!handled) {
          addComments(n.head, items);
          addComments(n.lineComment, items);
        }
        for (const c of n.children) {
          addComments(c.head, items);
          addComments(c.lineComment, items, true);
          items.push(this.value(c, true));
          addComments(c.foot, items);
        }
        if (!handled) addComments(n.foot, items);
        return seq(items);
      }
    }
  }

  private alias(n: LNode): Node {
    const t = n.target!;
    if (this.expanding.has(t)) throw new ParseError(`line ${n.line}: anchor '${n.value}' value contains itself`);
    this.expanding.add(t);
    this.aliasDepth++;
    try {
      return this.value(t, false);
    } finally {
      this.aliasDepth--;
      this.expanding.delete(t);
    }
  }

  private key(k: LNode): string {
    this.tick();
    const t = this.follow(k);
    if (t.kind !== 'scalar') throw new ParseError(`line ${k.line}: a mapping key is a ${t.kind === 'map' ? 'mapping' : 'sequence'}; only string keys are supported`);
    const leaf = this.scalar(t, true);
    if (leaf.kind === 'str') return leaf.value;
    const text = t.value;
    throw new ParseError(`line ${k.line}: the key ${JSON.stringify(text)} is ${describe(leaf)}; only string keys are supported`, {
      hint: leaf.kind === 'bytes' ? 'use a text key' : `quote the key: "${text}":`,
    });
  }

  /** go-yaml `decoder.scalar` into `interface{}`. */
  scalar(n: LNode, isKey = false): Leaf {
    const tag = n.tag;
    if (tag === '!!str' || ((tag === '' || tag === '!') && n.style !== 'plain')) return str(n.value);
    if (tag === '!!binary') return this.binary(n);
    const want = RESOLVABLE[tag];
    if (tag !== '' && tag !== '!' && want === undefined) return str(n.value);
    const r = resolvePlain(n.value, tag === '' || tag === '!' || tag === '!!timestamp');
    if (want !== undefined && r.tag !== want && !(want === 'int' && r.tag === 'uint')) {
      if (want === 'float' && r.tag === 'int') return float(Number(r.value));
      throw new ParseError(`${this.where(n)}: cannot decode ${JSON.stringify(n.value)} as ${tag}`);
    }
    if (r.tag === 'uint') {
      throw new ParseError(`${this.where(n)}: the integer ${n.value} is larger than 2^63-1, which sops does not support`, {
        hint: `quote it to keep it as a string: "${n.value}"`,
      });
    }
    if (r.tag === 'timestamp' && this.lenientTime && !isKey) return str(n.value);
    return toLeaf(r);
  }

  private binary(n: LNode): Leaf {
    const b64 = n.value.replace(/[\r\n]/g, '');
    // (no repeated group: its backtracking overflows the regex stack on a value of tens of MB)
    if (b64.length % 4 !== 0 || !/^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64)) {
      throw new ParseError(`${this.where(n)}: !!binary value contains invalid base64 data`);
    }
    const data = new Uint8Array(Buffer.from(b64, 'base64'));
    try {
      return str(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(data));
    } catch {
      return bytes(data);
    }
  }
}
