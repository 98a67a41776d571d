/**
 * A YAML event emitter laid out like go-yaml v3's (`emitterc.go`) for the event shapes sops
 * produces: block mappings and sequences, empty flow collections, scalars with comments.
 * Same events in, same bytes out.
 */
import { analyzeScalar, type ScalarAnalysis, type ScalarStyle, Writer } from './writer.js';

interface Comments {
  head?: string;
  line?: string;
  foot?: string;
  tail?: string;
}

/** One emitter event. Comment texts include their `#` markers, lines joined with `\n`. */
export type EmitEvent =
  | { t: 'docStart' }
  | { t: 'docEnd' }
  | ({ t: 'mapStart'; flow: boolean } & Comments)
  | ({ t: 'mapEnd' } & Comments)
  | ({ t: 'seqStart'; flow: boolean } & Comments)
  | ({ t: 'seqEnd' } & Comments)
  | ({ t: 'scalar'; value: string; style: ScalarStyle; tag?: string | undefined; analysis?: ScalarAnalysis | undefined } & Comments);

type State =
  | 'firstDoc' | 'doc' | 'docContent' | 'docEnd'
  | 'flowSeqFirst' | 'flowSeqItem' | 'flowMapFirst' | 'flowMapKey'
  | 'blockSeqFirst' | 'blockSeqItem' | 'blockMapFirst' | 'blockMapKey' | 'blockMapSimpleValue' | 'blockMapValue';

/** The indentation go-yaml uses for a requested one (it clamps it to 2..9). */
export const clampIndent = (indent: number): number => (indent < 2 || indent > 9 ? 2 : indent);

/** Emits a list of events with the given indentation. */
export function emitEvents(events: EmitEvent[], indent: number): string {
  return new Emitter(events, clampIndent(indent)).run();
}

/**
 * go-yaml's `yaml_emitter_increase_indent`: the indentation of a node's content, from the
 * current one (negative at the document level). `inSeqItem`: the node is a block sequence item.
 */
export function nextIndent(indent: number, bestIndent: number, flow: boolean, indentless: boolean, inSeqItem: boolean): number {
  if (indent < 0) return flow ? bestIndent : 0;
  if (indentless) return indent;
  return inSeqItem ? indent + 2 : bestIndent * Math.floor((indent + bestIndent) / bestIndent);
}

/** go-yaml's `yaml_emitter_select_scalar_style` for the scalars written here: the style a scalar is written in. */
export function finalStyle(style: ScalarStyle, a: ScalarAnalysis, value: string, simpleKey: boolean, flowLevel: number): ScalarStyle {
  if (simpleKey && a.multiline) style = 'double';
  if (style === 'plain') {
    if ((flowLevel > 0 && !a.flowPlainAllowed) || (flowLevel === 0 && !a.blockPlainAllowed)) style = 'single';
    if (value.length === 0 && (flowLevel > 0 || simpleKey)) style = 'single';
  }
  if (style === 'single' && !a.singleQuotedAllowed) style = 'double';
  if (style === 'literal' && (!a.blockAllowed || flowLevel > 0 || simpleKey)) style = 'double';
  return style;
}

class Emitter {
  private readonly w: Writer;
  private state: State = 'firstDoc';
  private states: State[] = [];
  private indents: number[] = [];
  private flowLevel = 0;
  private pos = 0;
  private head = '';
  private line = '';
  private foot = '';
  private tail = '';
  private keyLine = '';
  private simpleKeyContext = false;
  private analysis: ScalarAnalysis | undefined;
  private style: ScalarStyle = 'plain';

  constructor(private readonly events: EmitEvent[], private readonly bestIndent: number) {
    this.w = new Writer(bestIndent);
  }

  run(): string {
    for (this.pos = 0; this.pos < this.events.length; this.pos++) {
      const ev = this.events[this.pos]!;
      this.analyze(ev);
      this.dispatch(ev);
    }
    return this.w.text();
  }

  private next(k = 1): EmitEvent | undefined {
    return this.events[this.pos + k];
  }

  private analyze(ev: EmitEvent): void {
    this.analysis = undefined;
    if ('head' in ev && ev.head) this.head = ev.head;
    if ('line' in ev && ev.line) this.line = ev.line;
    if ('foot' in ev && ev.foot) this.foot = ev.foot;
    if ('tail' in ev && ev.tail) this.tail = ev.tail;
    if (ev.t === 'scalar') this.analysis = ev.analysis ?? analyzeScalar(ev.value);
  }

  private popState(): void {
    this.state = this.states.pop()!;
  }

  private popIndent(): void {
    this.w.indent = this.indents.pop()!;
  }

  private increaseIndent(flow: boolean, indentless: boolean): void {
    this.indents.push(this.w.indent);
    this.w.indent = nextIndent(this.w.indent, this.bestIndent, flow, indentless, this.states[this.states.length - 1] === 'blockSeqItem');
  }

  private dispatch(ev: EmitEvent): void {
    switch (this.state) {
      case 'firstDoc':
      case 'doc':
        return this.documentStart(ev, this.state === 'firstDoc');
      case 'docContent':
        this.states.push('docEnd');
        this.processHead();
        this.node(ev);
        this.processLine();
        this.processFoot();
        return;
      case 'docEnd':
        return this.documentEnd();
      case 'flowSeqFirst':
      case 'flowSeqItem':
        return this.flowSequenceItem(ev, this.state === 'flowSeqFirst');
      case 'flowMapFirst':
      case 'flowMapKey':
        return this.flowMappingKey(ev, this.state === 'flowMapFirst');
      case 'blockSeqFirst':
      case 'blockSeqItem':
        return this.blockSequenceItem(ev, this.state === 'blockSeqFirst');
      case 'blockMapFirst':
      case 'blockMapKey':
        return this.blockMappingKey(ev, this.state === 'blockMapFirst');
      case 'blockMapSimpleValue':
      case 'blockMapValue':
        return this.blockMappingValue(ev, this.state === 'blockMapSimpleValue');
    }
  }

  private documentStart(ev: EmitEvent, first: boolean): void {
    if (ev.t !== 'docStart') throw new Error('yaml emitter: expected a document start');
    if (!first) {
      this.w.writeIndent();
      this.w.writeIndicator('---', true, false, false);
      this.w.writeIndent();
    }
    if (this.head) {
      this.processHead();
      this.w.putBreak();
    }
    this.state = 'docContent';
  }

  private documentEnd(): void {
    this.w.footIndent = 0;
    this.processFoot();
    this.w.footIndent = -1;
    this.w.writeIndent();
    this.state = 'doc';
  }

  private flowSequenceItem(ev: EmitEvent, first: boolean): void {
    if (first) {
      this.w.writeIndicator('[', true, true, false);
      this.increaseIndent(true, false);
      this.flowLevel++;
    }
    if (ev.t !== 'seqEnd') throw new Error('yaml emitter: only empty flow sequences are supported');
    this.flowLevel--;
    this.popIndent();
    if (this.w.column === 0) this.w.writeIndent();
    this.w.writeIndicator(']', false, false, false);
    this.processLine();
    this.processFoot();
    this.popState();
  }

  private flowMappingKey(ev: EmitEvent, first: boolean): void {
    if (first) {
      this.w.writeIndicator('{', true, true, false);
      this.increaseIndent(true, false);
      this.flowLevel++;
    }
    if (ev.t !== 'mapEnd') throw new Error('yaml emitter: only empty flow mappings are supported');
    this.processHead();
    this.flowLevel--;
    this.popIndent();
    this.w.writeIndicator('}', false, false, false);
    this.processLine();
    this.processFoot();
    this.popState();
  }

  private blockSequenceItem(ev: EmitEvent, first: boolean): void {
    if (first) this.increaseIndent(false, false);
    if (ev.t === 'seqEnd') {
      this.popIndent();
      this.popState();
      return;
    }
    this.processHead();
    this.w.writeIndent();
    this.w.writeIndicator('-', true, false, true);
    this.states.push('blockSeqItem');
    this.node(ev);
    this.processLine();
    this.processFoot();
  }

  private blockMappingKey(ev: EmitEvent, first: boolean): void {
    if (first) this.increaseIndent(false, false);
    this.processHead();
    if (ev.t === 'mapEnd') {
      this.popIndent();
      this.popState();
      return;
    }
    this.w.writeIndent();
    if (this.line) {
      this.keyLine = this.line;
      this.line = '';
    }
    if (this.checkSimpleKey(ev)) {
      this.states.push('blockMapSimpleValue');
      this.node(ev, true);
      return;
    }
    this.w.writeIndicator('?', true, false, true);
    this.states.push('blockMapValue');
    this.node(ev);
  }

  private blockMappingValue(ev: EmitEvent, simple: boolean): void {
    if (simple) this.w.writeIndicator(':', false, false, false);
    else {
      this.w.writeIndent();
      this.w.writeIndicator(':', true, false, true);
    }
    if (this.keyLine) {
      if (ev.t === 'scalar') {
        if (!this.line) {
          this.line = this.keyLine;
          this.keyLine = '';
        }
      } else if ((ev.t === 'mapStart' || ev.t === 'seqStart') && !(ev.t === 'seqStart' && ev.flow)) {
        [this.line, this.keyLine] = [this.keyLine, this.line];
        this.processLine();
        [this.line, this.keyLine] = [this.keyLine, this.line];
      }
    }
    this.states.push('blockMapKey');
    this.node(ev);
    this.processLine();
    this.processFoot();
  }

  private checkSimpleKey(ev: EmitEvent): boolean {
    if (ev.t === 'scalar') {
      if (this.analysis!.multiline) return false;
      return (ev.tag ? ev.tag.length + 2 : 0) + Buffer.byteLength(ev.value, 'utf8') <= 128;
    }
    if (ev.t === 'mapStart') return this.next()?.t === 'mapEnd';
    if (ev.t === 'seqStart') return this.next()?.t === 'seqEnd';
    return false;
  }

  private node(ev: EmitEvent, simpleKey = false): void {
    this.simpleKeyContext = simpleKey;
    switch (ev.t) {
      case 'scalar':
        return this.scalar(ev);
      case 'seqStart':
        this.state = this.flowLevel > 0 || ev.flow || this.next()?.t === 'seqEnd' ? 'flowSeqFirst' : 'blockSeqFirst';
        return;
      case 'mapStart':
        this.state = this.flowLevel > 0 || ev.flow || this.next()?.t === 'mapEnd' ? 'flowMapFirst' : 'blockMapFirst';
        return;
      default:
        throw new Error(`yaml emitter: unexpected ${ev.t}`);
    }
  }

  private scalar(ev: Extract<EmitEvent, { t: 'scalar' }>): void {
    this.selectStyle(ev);
    if (ev.tag) this.w.writeTag(ev.tag);
    this.increaseIndent(true, false);
    const allowBreaks = !this.simpleKeyContext;
    switch (this.style) {
      case 'plain':
        this.w.writePlain(ev.value, allowBreaks);
        break;
      case 'single':
        this.w.writeSingleQuoted(ev.value, allowBreaks);
        break;
      case 'double':
        this.w.writeDoubleQuoted(ev.value, allowBreaks);
        break;
      case 'literal':
        this.w.writeLiteralHeader(ev.value);
        this.processLine(true);
        this.w.writeLiteralBody(ev.value);
        break;
    }
    this.popIndent();
    this.popState();
  }

  private selectStyle(ev: Extract<EmitEvent, { t: 'scalar' }>): void {
    this.style = finalStyle(ev.style, this.analysis!, ev.value, this.simpleKeyContext, this.flowLevel);
  }

  private processHead(): void {
    if (this.tail) {
      this.w.writeIndent();
      this.w.writeComment(this.tail);
      this.tail = '';
      this.w.footIndent = Math.max(this.w.indent, 0);
    }
    if (!this.head) return;
    this.w.writeIndent();
    this.w.writeComment(this.head);
    this.head = '';
  }

  private processLine(linebreak = false): void {
    if (!this.line) {
      if (linebreak) this.w.putBreak();
      return;
    }
    if (!this.w.whitespace) this.w.put(' ');
    this.w.writeComment(this.line);
    this.line = '';
  }

  private processFoot(): void {
    if (!this.foot) return;
    this.w.writeIndent();
    this.w.writeComment(this.foot);
    this.foot = '';
    this.w.footIndent = Math.max(this.w.indent, 0);
  }
}
