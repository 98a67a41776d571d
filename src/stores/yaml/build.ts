/**
 * Walks the `yaml` package's CST and builds go-yaml-like nodes (with style, tag, anchor and
 * the head/line/foot comment slots), while feeding {@link TokenModel} the tokens go-yaml's
 * scanner would produce and recording which parser events take comments.
 */
import type { CST } from 'yaml';
import { yamlLib } from './lib.js';
import { ParseError } from '../../errors.js';
import { TokenModel, type FetchOptions, type TokenType } from './tokens.js';
import { MAX_NESTING } from '../depth.js';

export type LStyle = 'plain' | 'single' | 'double' | 'literal' | 'folded';

/** A node as go-yaml's parser builds it. */
export interface LNode {
  kind: 'scalar' | 'alias' | 'map' | 'seq';
  flow: boolean;
  /** Explicit tag in go-yaml short form (`!!int`, `!Ref`, `!`), '' when there is none. */
  tag: string;
  style: LStyle;
  value: string;
  anchor?: string;
  target?: LNode;
  /** Mapping: key, value, key, value...; sequence: items. */
  children: LNode[];
  /** 1-based line. */
  line: number;
  head: string;
  lineComment: string;
  foot: string;
}

export interface LDoc {
  root?: LNode;
  head: string;
  foot: string;
  line: number;
}

/** A parser event that may take the pending comments (`take` is its token index). */
export interface LEvent {
  role: 'node' | 'mapEnd' | 'flowEnd' | 'docStart' | 'docEnd' | 'collStart';
  target: LNode | LDoc;
  take?: number;
  /** collStart of a block collection that is a sequence item: the index of its `-` token. */
  entry?: number;
}

type Src = CST.SourceToken;
type Tok = CST.Token;
interface Ctx extends FetchOptions {
  entry?: number;
}

const newNode = (kind: LNode['kind'], line: number): LNode => ({
  kind, flow: false, tag: '', style: 'plain', value: '', children: [], line, head: '', lineComment: '', foot: '',
});

/** go-yaml's short form of a tag as written (`!!x`, `!<tag:yaml.org,2002:x>`, `!x`). */
function shortTag(source: string): string {
  if (source.startsWith('!<') && source.endsWith('>')) {
    const uri = source.slice(2, -1);
    return uri.startsWith('tag:yaml.org,2002:') ? '!!' + uri.slice(18) : uri;
  }
  return source;
}

export class Builder {
  readonly model: TokenModel;
  readonly events: LEvent[] = [];
  readonly docs: LDoc[] = [];
  private readonly anchors = new Map<string, LNode>();
  private pendingDocEnd: LEvent | undefined;
  /** Columns of the open block collections that raised the indentation (go-yaml's `indents`). */
  private readonly indents: number[] = [];
  private flowLevel = 0;

  constructor(private readonly src: string) {
    this.model = new TokenModel(src);
  }

  private fail(offset: number, msg: string): never {
    const line = this.model.line(offset) + 1;
    throw new ParseError(`line ${line}: ${msg}`);
  }

  private lineOf(offset: number): number {
    return this.model.line(offset) + 1;
  }

  /** Walks every top-level CST token. */
  build(tokens: Iterable<Tok>): void {
    for (const t of tokens) {
      switch (t.type) {
        case 'document':
          this.document(t);
          break;
        case 'doc-end': {
          if (this.docs.length === 0) this.fail(t.offset, "did not find expected node content (a document end marker '...' before any document)");
          const idx = this.model.fetchDocumentBoundary('DOC_END', t.offset);
          if (this.pendingDocEnd) this.pendingDocEnd.take = idx;
          this.pendingDocEnd = undefined;
          break;
        }
        case 'directive':
          this.model.directive(t.offset);
          break;
        case 'error':
          this.fail(t.offset, t.message);
      }
    }
    const idx = this.model.fetchDocumentBoundary('STREAM_END', this.src.length);
    if (this.pendingDocEnd) this.pendingDocEnd.take = idx;
  }

  private document(t: CST.Document): void {
    const docStart = t.start.find((s) => s.type === 'doc-start');
    // An extra `...` shows up as an empty document without `---`: go-yaml has no document there.
    if (!docStart && !t.value && !t.start.some((s) => s.type === 'anchor' || s.type === 'tag')) return;
    const doc: LDoc = { head: '', foot: '', line: this.lineOf(t.offset) };
    if (docStart) {
      const idx = this.model.fetchDocumentBoundary('DOC_START', docStart.offset);
      if (this.pendingDocEnd) this.pendingDocEnd.take = idx;
    } else {
      this.events.push({ role: 'docStart', target: doc, take: this.model.tokens.length });
    }
    this.pendingDocEnd = undefined;
    const props = t.start.filter((s) => s.type === 'anchor' || s.type === 'tag');
    if (t.value) doc.root = this.node(t.value, props, {});
    else if (props.length) doc.root = this.propsOnly(props, {});
    this.docs.push(doc);
    const end: LEvent = { role: 'docEnd', target: doc };
    this.events.push(end);
    this.pendingDocEnd = end;
  }

  /** Fetches anchor/tag tokens (the first one carries `ctx`); returns what they say. */
  private props(props: Src[], ctx: Ctx): { anchor?: string; tag: string; ctx: Ctx } {
    let anchor: string | undefined;
    let tag = '';
    for (const p of props) {
      this.model.fetch(p.type === 'anchor' ? 'ANCHOR' : 'TAG', p.offset, p.offset + p.source.length, ctx);
      ctx = {};
      if (p.type === 'anchor') anchor = p.source.slice(1);
      else tag = shortTag(p.source);
    }
    return { anchor, tag, ctx };
  }

  private register(n: LNode, anchor: string | undefined): void {
    if (anchor === undefined) return;
    n.anchor = anchor;
    this.anchors.set(anchor, n);
  }

  /** `key: !!str` or `- &a`: a scalar with properties and no text. */
  private propsOnly(props: Src[], ctx: Ctx): LNode {
    const p = this.props(props, ctx);
    const n = newNode('scalar', this.lineOf(props[0]!.offset));
    n.tag = p.tag;
    this.register(n, p.anchor);
    return n;
  }

  private empty(offset: number): LNode {
    return newNode('scalar', this.lineOf(offset));
  }

  private node(t: Tok, propToks: Src[], ctxIn: Ctx): LNode {
    const p = this.props(propToks, ctxIn);
    const ctx = p.ctx;
    switch (t.type) {
      case 'scalar':
      case 'single-quoted-scalar':
      case 'double-quoted-scalar':
      case 'block-scalar':
        return this.scalar(t, p.tag, p.anchor, ctx);
      case 'alias': {
        const { index } = this.model.fetch('ALIAS', t.offset, t.offset + t.source.length, ctx);
        const n = newNode('alias', this.lineOf(t.offset));
        n.value = t.source.slice(1);
        n.target = this.anchors.get(n.value);
        if (!n.target) this.fail(t.offset, `unknown anchor '${n.value}' referenced`);
        this.events.push({ role: 'node', target: n, take: index });
        return n;
      }
      case 'block-map':
        return this.blockMap(t, p.tag, p.anchor, ctx, ctxIn.entry);
      case 'block-seq':
        return this.blockSeq(t, p.tag, p.anchor, ctx, ctxIn.entry);
      case 'flow-collection':
        return this.flow(t, p.tag, p.anchor, ctx);
      default:
        return this.fail(t.offset, `unexpected ${t.type} in YAML`);
    }
  }

  private scalar(t: CST.FlowScalar | CST.BlockScalar, tag: string, anchor: string | undefined, ctx: Ctx): LNode {
    const errors: string[] = [];
    const r = yamlLib().CST.resolveAsScalar(t, true, (_o, _c, msg) => errors.push(msg));
    if (errors.length || !r) this.fail(t.offset, errors[0] ?? 'invalid scalar');
    const n = newNode('scalar', this.lineOf(t.offset));
    n.value = r.value;
    n.tag = tag;
    n.style = r.type === 'QUOTE_DOUBLE' ? 'double' : r.type === 'QUOTE_SINGLE' ? 'single'
      : r.type === 'BLOCK_LITERAL' ? 'literal' : r.type === 'BLOCK_FOLDED' ? 'folded' : 'plain';
    this.register(n, anchor);
    let index: number;
    if (t.type === 'block-scalar') {
      // A last content line cut off by the end of the input has no line break in go-yaml.
      const lastLine = t.source.slice(Math.max(t.source.lastIndexOf('\n'), t.source.lastIndexOf('\r')) + 1);
      if (lastLine.trim() !== '' && n.value.endsWith('\n')) n.value = n.value.slice(0, -1);
      index = this.model.fetch('SCALAR', t.offset, t.offset + 1, { ...ctx, noLineComment: true }).index;
      const hash = t.props.find((s) => s.type === 'comment');
      if (hash) this.model.headerComment(t.offset, hash.offset);
      const nl = t.props.find((s) => s.type === 'newline') as Src | undefined;
      let pos = nl ? nl.offset + nl.source.length + t.source.length : this.src.length;
      for (;;) {
        let q = pos;
        while (this.src[q] === ' ') q++;
        if (this.src[q] === '\r' && this.src[q + 1] === '\n') pos = q + 2;
        else if (this.src[q] === '\n' || this.src[q] === '\r') pos = q + 1;
        else {
          pos = q;
          break;
        }
      }
      this.model.setScanPos(Math.min(pos, this.src.length));
    } else {
      index = this.model.fetch('SCALAR', t.offset, t.offset + t.source.length, { ...ctx, plain: t.type === 'scalar' }).index;
    }
    this.events.push({ role: 'node', target: n, take: index });
    return n;
  }

  /**
   * go-yaml's nesting limit: a block collection that starts right of the current indentation
   * pushes a level; more than {@link MAX_NESTING} fail. Returns whether a level was pushed.
   */
  private indentTo(offset: number): boolean {
    const col = this.model.col(offset);
    if (col <= (this.indents[this.indents.length - 1] ?? -1)) return false;
    this.indents.push(col);
    if (this.indents.length > MAX_NESTING) this.fail(offset, `exceeded max depth of ${MAX_NESTING}`);
    return true;
  }

  private blockMap(t: CST.BlockMap, tag: string, anchor: string | undefined, ctx: Ctx, entry?: number): LNode {
    const first0 = t.items[0];
    const at0 = first0?.start.find((s) => s.type === 'explicit-key-ind' || s.type === 'anchor' || s.type === 'tag')?.offset ?? first0?.key?.offset ?? t.offset;
    const pushed = this.indentTo(at0);
    try {
      return this.blockMapIn(t, tag, anchor, ctx, entry);
    } finally {
      if (pushed) this.indents.pop();
    }
  }

  private blockMapIn(t: CST.BlockMap, tag: string, anchor: string | undefined, ctx: Ctx, entry?: number): LNode {
    const n = newNode('map', this.lineOf(t.offset));
    n.tag = tag;
    this.register(n, anchor);
    const end: LEvent = { role: 'mapEnd', target: n };
    this.events.push({ role: 'collStart', target: n, entry });
    let first = true;
    for (const item of t.items) {
      const q = item.start.find((s) => s.type === 'explicit-key-ind');
      const colon = item.sep?.find((s) => s.type === 'map-value-ind');
      if (!q && !item.key && !colon && !item.value) continue;
      const keyProps = item.start.filter((s) => s.type === 'anchor' || s.type === 'tag');
      const keyAt = q?.offset ?? keyProps[0]?.offset ?? item.key?.offset ?? colon?.offset ?? t.offset;
      const open = first ? { kind: 'BMAP_START' as const, column: this.model.col(keyAt), onEnd: (i: number) => (end.take = i) } : undefined;
      const itemCtx: Ctx = { ...ctx, open };
      let key: LNode;
      if (q) {
        this.model.fetch('KEY', q.offset, q.offset + 1, itemCtx);
        key = item.key ? this.node(item.key, keyProps, {}) : keyProps.length ? this.propsOnly(keyProps, {}) : this.empty(q.offset);
      } else if (item.key || keyProps.length) {
        key = item.key ? this.node(item.key, keyProps, { ...itemCtx, key: true }) : this.propsOnly(keyProps, { ...itemCtx, key: true });
      } else {
        key = this.empty(keyAt);
      }
      ctx = {};
      let value: LNode;
      if (colon) {
        this.model.fetch('VALUE', colon.offset, colon.offset + 1, q || item.key || keyProps.length ? {} : itemCtx);
        const after = item.sep!.slice(item.sep!.indexOf(colon) + 1);
        const valueProps = after.filter((s) => s.type === 'anchor' || s.type === 'tag');
        value = item.value ? this.node(item.value, valueProps, {}) : valueProps.length ? this.propsOnly(valueProps, {}) : this.empty(colon.offset);
      } else {
        value = this.empty(keyAt);
      }
      n.children.push(key, value);
      first = false;
    }
    this.events.push(end);
    return n;
  }

  private blockSeq(t: CST.BlockSequence, tag: string, anchor: string | undefined, ctx: Ctx, entry?: number): LNode {
    const dash0 = t.items[0]?.start.find((s) => s.type === 'seq-item-ind');
    const pushed = this.indentTo(dash0?.offset ?? t.offset);
    try {
      return this.blockSeqIn(t, tag, anchor, ctx, entry);
    } finally {
      if (pushed) this.indents.pop();
    }
  }

  private blockSeqIn(t: CST.BlockSequence, tag: string, anchor: string | undefined, ctx: Ctx, entry?: number): LNode {
    const n = newNode('seq', this.lineOf(t.offset));
    n.tag = tag;
    this.register(n, anchor);
    this.events.push({ role: 'collStart', target: n, entry });
    let first = true;
    for (const item of t.items) {
      const dash = item.start.findIndex((s) => s.type === 'seq-item-ind');
      if (dash < 0) continue;
      const d = item.start[dash]!;
      const open = first ? { kind: 'BSEQ_START' as const, column: this.model.col(d.offset), onEnd: () => undefined } : undefined;
      const { index } = this.model.fetch('ENTRY', d.offset, d.offset + 1, { ...ctx, open });
      ctx = {};
      first = false;
      const props = item.start.slice(dash + 1).filter((s) => s.type === 'anchor' || s.type === 'tag');
      n.children.push(item.value ? this.node(item.value, props, { entry: index }) : props.length ? this.propsOnly(props, {}) : this.empty(d.offset));
    }
    return n;
  }

  private flow(t: CST.FlowCollection, tag: string, anchor: string | undefined, ctx: Ctx): LNode {
    if (++this.flowLevel > MAX_NESTING) this.fail(t.start.offset, `exceeded max depth of ${MAX_NESTING}`);
    try {
      return this.flowIn(t, tag, anchor, ctx);
    } finally {
      this.flowLevel--;
    }
  }

  private flowIn(t: CST.FlowCollection, tag: string, anchor: string | undefined, ctx: Ctx): LNode {
    const isMap = t.start.type === 'flow-map-start';
    const n = newNode(isMap ? 'map' : 'seq', this.lineOf(t.offset));
    n.flow = true;
    n.tag = tag;
    this.register(n, anchor);
    const { index } = this.model.fetch('FLOW_START', t.start.offset, t.start.offset + 1, ctx);
    this.events.push({ role: 'node', target: n, take: index });
    for (const item of t.items) {
      for (const s of item.start) if (s.type === 'comma') this.model.fetch('FLOW_ENTRY', s.offset, s.offset + 1);
      const props = item.start.filter((s) => s.type === 'anchor' || s.type === 'tag');
      const colon = item.sep?.find((s) => s.type === 'map-value-ind');
      if (!item.key && !colon && !item.value && !props.length) continue;
      const isPair = isMap || item.key !== undefined || colon !== undefined;
      if (!isPair) {
        if (item.value) n.children.push(this.node(item.value, props, {}));
        else if (props.length) n.children.push(this.propsOnly(props, {}));
        continue;
      }
      const target = isMap ? n : newNode('map', this.lineOf(item.key?.offset ?? t.offset));
      if (!isMap) {
        target.flow = true;
        n.children.push(target);
      }
      const keyAt = props[0]?.offset ?? item.key?.offset ?? colon?.offset ?? t.offset;
      const key = item.key ? this.node(item.key, props, { key: true }) : props.length ? this.propsOnly(props, { key: true }) : this.empty(keyAt);
      let value = this.empty(keyAt);
      if (colon) {
        this.model.fetch('VALUE', colon.offset, colon.offset + 1);
        const after = item.sep!.slice(item.sep!.indexOf(colon) + 1);
        const vprops = after.filter((s) => s.type === 'anchor' || s.type === 'tag');
        if (item.value) value = this.node(item.value, vprops, {});
        else if (vprops.length) value = this.propsOnly(vprops, {});
      } else if (!isMap && item.value) {
        value = this.node(item.value, [], {});
      }
      target.children.push(key, value);
    }
    const close = t.end.find((s) => s.type === 'flow-map-end' || s.type === 'flow-seq-end');
    if (!close) this.fail(t.offset, 'unterminated flow collection');
    const endIdx = this.model.fetch('FLOW_END' as TokenType, close.offset, close.offset + 1).index;
    this.events.push({ role: 'flowEnd', target: n, take: endIdx });
    return n;
  }
}
