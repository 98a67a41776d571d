/**
 * The common case of writing YAML, straight from the tree: the same calls on the same
 * {@link Writer} that go-yaml's emitter (`emitter.ts`) makes for the events of the tree
 * (`encode.ts`), without building go-yaml nodes and events first (a large file's output had
 * two objects per value and a state machine step per event).
 *
 * It covers block mappings and sequences, empty `{}`/`[]`, scalars of every style, and
 * comments on their own lines before a mapping's entries: where sops puts them (head comments),
 * they are written at the entry. Anything else (inline comments, comments after the last entry
 * or in sequences, comments opening a mapping that is a sequence item, `!!binary` values) makes
 * it give up, and the caller runs the full emulation. The test suite compares both on random
 * trees.
 */
import type { MapNode, Node, SeqNode } from '../../tree/types.js';
import { joinComments, leafText, stringScalar, utf8Text } from './encode.js';
import { finalStyle, nextIndent } from './emitter.js';
import { analyzeScalar, type ScalarAnalysis, type ScalarStyle, Writer } from './writer.js';

/** Thrown inside the writer to give up; never escapes. */
const GIVE_UP = Symbol('outside the direct subset');

/**
 * The YAML text of documents (their roots, metadata included) as the emitter writes their
 * events with indentation `bestIndent` (already clamped), or undefined if a document is
 * outside the subset.
 */
export function directYaml(roots: MapNode[], bestIndent: number): string | undefined {
  const w = new Writer(bestIndent);
  const d = new Direct(w, bestIndent);
  try {
    for (let i = 0; i < roots.length; i++) {
      if (i > 0) {
        // document start (not the first)
        w.writeIndent();
        w.writeIndicator('---', true, false, false);
        w.writeIndent();
      }
      d.node(roots[i]!, false);
      // document end
      w.writeIndent();
    }
  } catch (e) {
    if (e === GIVE_UP) return undefined;
    throw e;
  }
  return w.text();
}

class Direct {
  constructor(private readonly w: Writer, private readonly bestIndent: number) {}

  /** A node; `inSeq`: it is a block sequence item (its indentation grows by 2, not to the next step). */
  node(n: Node, inSeq: boolean): void {
    switch (n.kind) {
      case 'map':
        if (n.items.length === 0) this.emptyFlow('{', '}');
        else this.blockMap(n, inSeq);
        return;
      case 'seq':
        if (n.items.length === 0) this.emptyFlow('[', ']');
        else this.blockSeq(n, inSeq);
        return;
      case 'str': {
        const sa = stringScalar(n.value, false);
        this.scalar(n.value, sa.style, sa.analysis ?? analyzeScalar(n.value), false, inSeq);
        return;
      }
      case 'bytes': {
        const text = utf8Text(n.value);
        if (text === undefined) throw GIVE_UP; // `!!binary`
        const sa = stringScalar(text, false);
        this.scalar(text, sa.style, sa.analysis ?? analyzeScalar(text), false, inSeq);
        return;
      }
      default: {
        const text = leafText(n);
        this.scalar(text, 'plain', analyzeScalar(text), false, inSeq);
      }
    }
  }

  /** An empty collection, in flow style. */
  private emptyFlow(open: string, close: string): void {
    this.w.writeIndicator(open, true, true, false);
    this.w.writeIndicator(close, false, false, false);
  }

  private blockMap(m: MapNode, inSeq: boolean): void {
    const w = this.w;
    const outer = w.indent;
    w.indent = nextIndent(outer, this.bestIndent, false, false, inSeq);
    const items = m.items;
    let heads: string[] | undefined;
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (it.kind === 'comment') {
        // the emitter writes the leading comments of a sequence item's mapping before its `-`
        if (it.inline || (inSeq && i === 0)) throw GIVE_UP;
        (heads ??= []).push(it.text);
        continue;
      }
      if (heads) {
        w.writeIndent();
        w.writeComment(joinComments(heads));
        heads = undefined;
      }
      w.writeIndent();
      this.key(it.key);
      this.node(it.value, false);
    }
    if (heads) throw GIVE_UP; // foot comments
    w.indent = outer;
  }

  private key(k: string): void {
    const w = this.w;
    const sa = stringScalar(k, true);
    const a = sa.analysis ?? analyzeScalar(k);
    // a simple key: one line of at most 128 bytes (a UTF-16 unit is at most 3 bytes)
    if (!a.multiline && (k.length <= 42 || Buffer.byteLength(k, 'utf8') <= 128)) {
      this.scalar(k, sa.style, a, true, false);
      w.writeIndicator(':', false, false, false);
      return;
    }
    w.writeIndicator('?', true, false, true);
    this.scalar(k, sa.style, a, false, false);
    w.writeIndent();
    w.writeIndicator(':', true, false, true);
  }

  private blockSeq(s: SeqNode, inSeq: boolean): void {
    const w = this.w;
    const outer = w.indent;
    w.indent = nextIndent(outer, this.bestIndent, false, false, inSeq);
    const items = s.items;
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (it.kind === 'comment') throw GIVE_UP;
      w.writeIndent();
      w.writeIndicator('-', true, false, true);
      this.node(it, true);
    }
    w.indent = outer;
  }

  private scalar(value: string, style: ScalarStyle, a: ScalarAnalysis, simpleKey: boolean, inSeq: boolean): void {
    const w = this.w;
    const outer = w.indent;
    w.indent = nextIndent(outer, this.bestIndent, true, false, inSeq);
    switch (finalStyle(style, a, value, simpleKey, 0)) {
      case 'plain':
        w.writePlain(value, !simpleKey);
        break;
      case 'single':
        w.writeSingleQuoted(value, !simpleKey);
        break;
      case 'double':
        w.writeDoubleQuoted(value, !simpleKey);
        break;
      case 'literal':
        w.writeLiteralHeader(value);
        w.putBreak();
        w.writeLiteralBody(value);
        break;
    }
    w.indent = outer;
  }
}
