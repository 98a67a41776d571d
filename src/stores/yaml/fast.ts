/**
 * A fast reader for the block-style YAML that sops writes and most configuration files use:
 * one document of nested block mappings and sequences, plain, single- and double-quoted
 * one-line scalars, `|` literal blocks, `[]`/`{}`, and full-line comments where their place in
 * the tree is certain. It reads line by line into the tree directly, about ten times faster
 * than the go-yaml emulation (`load.ts`), which needs the `yaml` package's full parser.
 *
 * It never decides anything the emulation would decide differently: whenever the text leaves
 * that subset (anchors, tags, flow collections, multi-line plain or quoted scalars, inline
 * comments, comments inside sequences or at ambiguous columns, several documents, errors of
 * any kind, ...) it returns undefined and the caller runs the full emulation. The test suite
 * compares both readers on generated documents.
 */
import { comment, entry, map, nul, seq, str, type CommentNode, type Entry, type Node } from '../../tree/types.js';
import type { LoadedFile } from '../types.js';
import { MAX_EXPANDED_NODES } from './convert.js';
import { resolvePlain, toLeaf } from './resolve.js';

/** Characters outside the subset: anything but LF, printable ASCII and non-space printable Unicode. */
const OUTSIDE = /[^\n\x20-\x7e\xa1-\u167f\u1681-\u1fff\u200b-\u2027\u202a-\u202e\u2030-\u205e\u2060-\u2fff\u3001-\ufefe\uff00-\ufffd]/;

/** Characters that cannot start a plain scalar here (`-` is handled separately). */
const INDICATORS = new Set(['?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`', ' ']);

const METADATA_KEY = 'sops';

/** First characters of plain scalars that may resolve to something other than a string (resolve.ts `hint`). */
const MAY_RESOLVE = new Set(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '+', '-', '.', 'y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O', '~']);

interface Frame {
  kind: 'map' | 'seq';
  /** Column of its keys or dashes. */
  indent: number;
  items: Array<Entry | CommentNode> | Array<Node | CommentNode>;
  /** Keys seen (duplicate keys make go-yaml fail). */
  keys?: Set<string>;
  /** Inside the top-level `sops` entry: timestamps stay text. */
  lenient: boolean;
  /** The document's root mapping. */
  root: boolean;
  /** A sequence at the same column as its parent mapping's keys. */
  indentless?: boolean;
}

/** A `key:` whose value starts on a later line. */
interface Pending {
  entry: Entry;
  /** The column of the key. */
  indent: number;
  lenient: boolean;
  /** No blank line since the key. */
  tight: boolean;
}

/** Thrown inside the reader to give up; never escapes. */
const GIVE_UP = Symbol('outside the fast subset');

class Reader {
  private pos = 0;
  private readonly stack: Frame[] = [];
  private pending: Pending | undefined;
  private comments: Array<{ col: number; text: string }> = [];
  private nodes = 0;
  private blankSinceContent = false;
  /** The last content line ended a literal block scalar. */
  private afterBlock = false;

  constructor(private readonly src: string) {}

  private tick(n = 1): void {
    this.nodes += n;
    if (this.nodes > MAX_EXPANDED_NODES) throw GIVE_UP;
  }

  /** The next line (without its line break), or undefined at the end. */
  private nextLine(): string | undefined {
    const src = this.src;
    if (this.pos >= src.length) return undefined;
    let nl = src.indexOf('\n', this.pos);
    if (nl < 0) nl = src.length;
    const line = src.slice(this.pos, nl);
    this.pos = nl + 1;
    return line;
  }

  read(): Frame {
    for (;;) {
      const line = this.nextLine();
      if (line === undefined) break;
      if (line === '') {
        this.blankSinceContent = true;
        if (this.pending) this.pending.tight = false;
        continue;
      }
      if (line.charCodeAt(line.length - 1) === 32) throw GIVE_UP; // trailing or only blanks
      let k = 0;
      while (line.charCodeAt(k) === 32) k++;
      if (line.charCodeAt(k) === 35 /* # */) {
        this.comments.push({ col: k, text: line.slice(k + 1) });
        continue;
      }
      if (k === 0 && (line.startsWith('---') || line.startsWith('...') || line.startsWith('%'))) throw GIVE_UP;
      this.content(line, k);
      this.blankSinceContent = false;
    }
    this.finish();
    const root = this.stack[0];
    if (!root) throw GIVE_UP;
    return root;
  }

  private content(line: string, k: number): void {
    const rest = line.slice(k);
    const dash = rest === '-' || rest.startsWith('- ');
    let top = this.stack[this.stack.length - 1];
    if (!top) {
      // the document's root mapping
      if (k !== 0 || dash || this.pending) throw GIVE_UP;
      const root: Frame = { kind: 'map', indent: 0, items: [], keys: new Set(), lenient: false, root: true };
      this.stack.push(root);
      this.flushInto(root);
      this.entryLine(root, rest);
      return;
    }
    if (this.pending) {
      const p = this.pending;
      this.pending = undefined;
      if ((dash && k >= p.indent) || (!dash && k > p.indent)) {
        // the pending key's value is a block collection starting here
        if (this.comments.length && (dash || !p.tight)) throw GIVE_UP;
        const frame: Frame = dash
          ? { kind: 'seq', indent: k, items: [], lenient: p.lenient, root: false, indentless: k === p.indent }
          : { kind: 'map', indent: k, items: [], keys: new Set(), lenient: p.lenient, root: false };
        this.tick();
        p.entry.value = dash ? seq(frame.items as Array<Node | CommentNode>) : map(frame.items as Array<Entry | CommentNode>);
        this.stack.push(frame);
        this.flushInto(frame);
        if (dash) this.seqLine(frame, rest, k);
        else this.entryLine(frame, rest);
        return;
      }
      // nothing nested: the value is empty (null)
      if (this.comments.length) throw GIVE_UP;
      this.tick();
      p.entry.value = nul();
    }
    const sameLevel = top.indent === k;
    if (this.comments.length) {
      // comments before a line of the same mapping, or at its column before a line of an outer one
      if (this.afterBlock || this.stack.some((f) => f.kind === 'seq') || this.comments.some((c) => !sameLevel && c.col !== k)) throw GIVE_UP;
    }
    while (top.indent > k) {
      this.stack.pop();
      top = this.stack[this.stack.length - 1];
      if (!top) throw GIVE_UP;
    }
    if (top.indent !== k) throw GIVE_UP;
    if (top.kind === 'seq' && !dash) {
      // a key after an indentless sequence continues the mapping it belongs to
      if (!top.indentless) throw GIVE_UP;
      this.stack.pop();
      top = this.stack[this.stack.length - 1]!;
      if (top.indent !== k) throw GIVE_UP;
    }
    this.flushInto(top);
    if (top.kind === 'seq') this.seqLine(top, rest, k);
    else if (dash) throw GIVE_UP;
    else this.entryLine(top, rest);
  }

  /** Buffered comments go to `f` (before what comes next). */
  private flushInto(f: Frame): void {
    if (!this.comments.length) return;
    if (f.kind !== 'map') throw GIVE_UP;
    for (const c of this.comments) (f.items as Array<Entry | CommentNode>).push(comment(c.text));
    this.comments = [];
  }

  private finish(): void {
    if (this.pending) {
      if (this.comments.length) throw GIVE_UP;
      this.tick();
      this.pending.entry.value = nul();
      this.pending = undefined;
    }
    if (!this.comments.length) return;
    // trailing comments: only at the column of the last content line's mapping, outside sequences
    const top = this.stack[this.stack.length - 1];
    if (!top || this.afterBlock || this.stack.some((f) => f.kind === 'seq') || this.comments.some((c) => c.col !== top.indent)) throw GIVE_UP;
    this.flushInto(top);
  }

  /** `key: value`, `key:` (value on later lines) in mapping `f`. */
  private entryLine(f: Frame, rest: string): void {
    const { key, after } = this.key(rest);
    if (f.keys!.has(key)) throw GIVE_UP;
    f.keys!.add(key);
    this.tick();
    const lenient = f.lenient || (f.root && key === METADATA_KEY);
    const e = entry(key, nul());
    (f.items as Array<Entry | CommentNode>).push(e);
    this.afterBlock = false;
    if (after === '') {
      this.pending = { entry: e, indent: f.indent, lenient, tight: true };
      return;
    }
    this.tick();
    e.value = this.value(after, lenient, f.indent);
  }

  /** `- value` or `- key: value` in sequence `f` (whose dashes are at column `k`). */
  private seqLine(f: Frame, rest: string, k: number): void {
    if (rest === '-') throw GIVE_UP;
    const text = rest.slice(2);
    const c = text.charCodeAt(0);
    if (c === 32 || (c === 45 /* - */ && (text.length === 1 || text.charCodeAt(1) === 32))) throw GIVE_UP;
    this.tick();
    this.afterBlock = false;
    const items = f.items as Array<Node | CommentNode>;
    const asKey = this.tryKey(text);
    if (!asKey) {
      items.push(this.value(text, f.lenient, k));
      return;
    }
    // a mapping item whose first key is on the dash line
    const m: Frame = { kind: 'map', indent: k + 2, items: [], keys: new Set(), lenient: f.lenient, root: false };
    items.push(map(m.items as Array<Entry | CommentNode>));
    this.stack.push(m);
    this.entryLine(m, text);
  }

  private key(rest: string): { key: string; after: string } {
    const k = this.tryKey(rest);
    if (!k) throw GIVE_UP;
    return k;
  }

  /** A mapping key at the start of `s` and the text after its `:` (value, '' for none). */
  private tryKey(s: string): { key: string; after: string } | undefined {
    const c = s[0];
    let key: string;
    let end: number;
    if (c === '"' || c === "'") {
      const q = quoted(s);
      if (!q) return undefined;
      key = q.value;
      end = q.end;
      if (s[end] !== ':') return undefined;
    } else {
      end = s.indexOf(': ');
      if (end < 0) {
        if (s.charCodeAt(s.length - 1) !== 58 /* : */) return undefined;
        end = s.length - 1;
      }
      key = s.slice(0, end);
      if (!plainOk(key) || key.charCodeAt(key.length - 1) === 32 || key.includes(':') || key.includes('#') || key.length > 1000 || key === '<<') throw GIVE_UP;
      if (MAY_RESOLVE.has(key[0]!) && resolvePlain(key).tag !== 'str') throw GIVE_UP;
    }
    const after = s.slice(end + 1);
    if (after !== '' && after.charCodeAt(0) !== 32) return undefined;
    let i = 0;
    while (after.charCodeAt(i) === 32) i++;
    return { key, after: after.slice(i) };
  }

  /** A value written after `key: ` or `- ` (`indent`: the column of the key or dash). */
  private value(s: string, lenient: boolean, indent: number): Node {
    const c = s[0]!;
    if (c === '"' || c === "'") {
      const q = quoted(s);
      if (!q || q.end !== s.length) throw GIVE_UP;
      return str(q.value);
    }
    if (s === '[]') return seq([]);
    if (s === '{}') return map([]);
    if (s === '|' || s === '|-') return str(this.block(indent, s === '|'));
    if (!plainOk(s) || s.includes(' #') || s.includes(': ') || s.charCodeAt(s.length - 1) === 58) throw GIVE_UP;
    if (!MAY_RESOLVE.has(c)) return str(s);
    const r = resolvePlain(s, true);
    if (r.tag === 'uint') throw GIVE_UP;
    if (r.tag === 'timestamp' && lenient) return str(s);
    return toLeaf(r);
  }

  /** The lines of a `|` / `|-` block scalar (more indented than `indent`, no blank lines). */
  private block(indent: number, clip: boolean): string {
    const src = this.src;
    const lines: string[] = [];
    let m = -1;
    for (;;) {
      if (this.pos >= src.length) break;
      let i = this.pos;
      while (src.charCodeAt(i) === 32) i++;
      const col = i - this.pos;
      if (m < 0) {
        if (col <= indent) break;
        m = col;
      } else if (col < m) break;
      if (src.charCodeAt(i) === 10 || i >= src.length) throw GIVE_UP; // blank line
      const start = this.pos;
      const line = this.nextLine()!;
      if (this.pos > src.length) throw GIVE_UP; // no line break after the last line
      if (line.charCodeAt(line.length - 1) === 32) throw GIVE_UP;
      lines.push(src.slice(start + m, start + line.length));
    }
    if (lines.length === 0) throw GIVE_UP;
    this.afterBlock = true;
    return clip ? lines.join('\n') + '\n' : lines.join('\n');
  }
}

/** Whether `s` can be a one-line plain scalar here (first character and no trailing blank). */
function plainOk(s: string): boolean {
  if (s === '') return false;
  const c = s[0]!;
  if (c === '-') return s.length > 1 && s[1] !== ' ';
  return !INDICATORS.has(c);
}

/** A one-line quoted scalar at the start of `s`: its value and the offset after the closing quote. */
function quoted(s: string): { value: string; end: number } | undefined {
  const q = s[0];
  let out = '';
  let from = 1;
  for (let i = 1; i < s.length; i++) {
    const c = s[i];
    if (q === "'") {
      if (c !== "'") continue;
      if (s[i + 1] === "'") {
        out += s.slice(from, i + 1);
        from = i + 2;
        i++;
        continue;
      }
      return { value: out + s.slice(from, i), end: i + 1 };
    }
    if (c === '\\') {
      const e = s[i + 1];
      if (e !== '\\' && e !== '"') return undefined;
      out += s.slice(from, i) + e;
      from = i + 2;
      i++;
      continue;
    }
    if (c === '"') return { value: out + s.slice(from, i), end: i + 1 };
  }
  return undefined;
}

/** Whether `text` has only characters of the fast subset (all of them allowed in YAML text). */
export const inFastCharset = (text: string): boolean => !OUTSIDE.test(text);

/**
 * Reads YAML text (already decoded, CR handling done) if it is in the fast subset; undefined
 * when it is not, and the full reader must decide. `charsetChecked`: {@link inFastCharset} is
 * known to hold.
 */
export function fastLoadYaml(text: string, charsetChecked = false): LoadedFile | undefined {
  if (text.length === 0 || (!charsetChecked && !inFastCharset(text))) return undefined;
  let root: Frame;
  try {
    root = new Reader(text).read();
  } catch (e) {
    if (e === GIVE_UP) return undefined;
    throw e;
  }
  const items = root.items as Array<Entry | CommentNode>;
  let metadata: Node | undefined;
  const kept: Array<Entry | CommentNode> = [];
  for (const it of items) {
    if (it.kind === 'entry' && it.key === METADATA_KEY) metadata = it.value;
    else kept.push(it);
  }
  if (metadata === undefined) return { documents: [map(items)] };
  if (metadata.kind !== 'map') return undefined;
  return { documents: [map(kept)], metadata };
}
