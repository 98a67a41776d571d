/**
 * A model of the token stream and comment records that go-yaml v3's scanner produces.
 *
 * sops places each comment where go-yaml attaches it (head, line or foot comment of some
 * node), and go-yaml decides that while scanning: which earlier token a comment block is
 * "the foot of", where a block ends relative to the comments that follow it, and so on. The
 * structure walker (`build.ts`) feeds this model the tokens it finds in the `yaml` package's
 * CST, in source order; the model records the comments the way go-yaml would.
 */

export type TokenType =
  | 'DOC_START' | 'DOC_END' | 'DIRECTIVE' | 'STREAM_END'
  | 'BMAP_START' | 'BSEQ_START' | 'BLOCK_END'
  | 'KEY' | 'VALUE' | 'ENTRY'
  | 'SCALAR' | 'ALIAS' | 'ANCHOR' | 'TAG'
  | 'FLOW_START' | 'FLOW_END' | 'FLOW_ENTRY';

export interface Token {
  type: TokenType;
  /** Offset in the (line-break normalised) source. */
  start: number;
}

export type CommentKind = 'head' | 'line' | 'foot';

export interface CommentRecord {
  kind: CommentKind;
  /** Comment lines including their `#`, joined with `\n` (an empty line marks a blank line). */
  text: string;
  /** The comment is handed to the parser once a token at or after this offset is looked at. */
  tokenMark: number;
  startOffset: number;
  /** 1-based column of the first `#`. */
  startCol: number;
  startLine: number;
  scanMark: number;
  endMark: number;
}

/** Called when an indentation level closes, with the index of its BLOCK_END token. */
export type BlockEndHook = (tokenIndex: number) => void;

export interface FetchOptions {
  /** A block collection that starts at this token (BMAP_START/BSEQ_START if it is deeper). */
  open?: { kind: 'BMAP_START' | 'BSEQ_START'; column: number; onEnd: BlockEndHook };
  /** The token starts a mapping key (a KEY token goes before it). */
  key?: boolean;
  noLineComment?: boolean;
  /** A plain scalar: go-yaml's scanner also eats the blank lines after it (looking for a continuation). */
  plain?: boolean;
}

/** Positions and the scanner state go-yaml keeps between tokens. */
export class TokenModel {
  readonly tokens: Token[] = [];
  readonly comments: CommentRecord[] = [];
  private indent = -1;
  private readonly indents: Array<{ indent: number; onEnd?: BlockEndHook }> = [];
  private flowLevel = 0;
  /** Where the next scan starts (end of the last token, or of its line comment). */
  private scanPos = 0;
  private lastType: TokenType | undefined;
  private lastStart = 0;
  private prevStart = 0;
  private prevType: TokenType | undefined;
  private readonly lineStarts: number[] = [0];

  constructor(private readonly src: string) {
    for (let i = 0; i < src.length; i++) {
      if (src[i] === '\n' || (src[i] === '\r' && src[i + 1] !== '\n')) this.lineStarts.push(i + 1);
    }
  }

  line(offset: number): number {
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  col(offset: number): number {
    return offset - this.lineStarts[this.line(offset)]!;
  }

  /**
   * A real token at `start` (its text ends at `end`): scans the comments before it, closes the
   * indentation levels it leaves, opens `open` if it is deeper than the current level, inserts
   * a KEY token if `key`, then the token itself, then looks for a comment on the same line.
   */
  fetch(type: TokenType, start: number, end: number, opts: FetchOptions = {}): { index: number; opened: boolean } {
    this.scanGap(start);
    if (this.flowLevel === 0) this.unroll(this.col(start), this.gapScanMark);
    let opened = false;
    if (opts.open && this.flowLevel === 0 && opts.open.column > this.indent) {
      this.indents.push({ indent: this.indent, onEnd: opts.open.onEnd });
      this.indent = opts.open.column;
      this.tokens.push({ type: opts.open.kind, start });
      opened = true;
    }
    if (opts.key) this.tokens.push({ type: 'KEY', start });
    const index = this.tokens.length;
    this.tokens.push({ type, start });
    let commentMark = start;
    if ((type === 'VALUE' && this.flowLevel === 0) || (type === 'FLOW_ENTRY' && this.flowLevel > 0)) commentMark = this.lastStart;
    this.prevType = this.lastType;
    this.prevStart = this.lastStart;
    this.lastType = type;
    this.lastStart = start;
    if (type === 'FLOW_START') this.flowLevel++;
    if (type === 'FLOW_END') this.flowLevel = Math.max(0, this.flowLevel - 1);
    this.scanPos = opts.plain ? this.skipBlankLines(end) : end;
    if (type !== 'ENTRY' && !opts.noLineComment && this.newlinesAt(this.scanPos) === 0) this.lineComment(commentMark);
    return { index, opened };
  }

  /** A directive line (`%YAML 1.1`): its comment is dropped, as go-yaml does. */
  directive(start: number): void {
    this.scanGap(start);
    this.unroll(this.col(start), this.gapScanMark);
    this.tokens.push({ type: 'DIRECTIVE', start });
    this.lastType = 'DIRECTIVE';
    this.lastStart = start;
    this.scanPos = this.eol(start);
  }

  /** The first character after `from` that is neither blank nor a line break (a `#` on the same line stops it). */
  private skipBlankLines(from: number): number {
    const src = this.src;
    let p = from;
    while (src[p] === ' ' || src[p] === '\t') p++;
    if (src[p] === '#') return p;
    while (p < src.length && (src[p] === ' ' || src[p] === '\t' || src[p] === '\n' || src[p] === '\r')) p++;
    return p;
  }

  /** Offset of the line break (or end of input) that ends the line containing `from`. */
  eol(from: number): number {
    let i = from;
    while (i < this.src.length && this.src[i] !== '\n' && this.src[i] !== '\r') i++;
    return i;
  }

  /** Line comment of a block scalar header (`key: | # c`). */
  headerComment(tokenStart: number, hashAt: number): void {
    this.pushLineComment(tokenStart, hashAt);
  }

  /** Where the scanner continues after a token that consumed more than its text (block scalars). */
  setScanPos(pos: number): void {
    this.scanPos = pos;
  }

  /** `---`, `...` or the end of the stream: scan, then close every level. */
  fetchDocumentBoundary(type: 'DOC_START' | 'DOC_END' | 'STREAM_END', start: number): number {
    this.scanGap(start);
    this.unroll(this.col(start), this.gapScanMark);
    this.unroll(-1, start);
    const idx = this.tokens.length;
    this.tokens.push({ type, start });
    this.lastType = type;
    this.lastStart = start;
    this.scanPos = type === 'STREAM_END' ? start : start + 3;
    return idx;
  }

  private gapScanMark = 0;

  /** go-yaml `scan_to_next_token` over the text between the last token and `next`. */
  private scanGap(next: number): void {
    const src = this.src;
    this.gapScanMark = this.scanPos;
    let pos = this.scanPos;
    while (pos < next) {
      while (pos < next && (src[pos] === ' ' || src[pos] === '\t')) pos++;
      if (src[pos] === '#') pos = this.scanComments(pos, this.gapScanMark);
      if (src[pos] === '\r' && src[pos + 1] === '\n') pos += 2;
      else if (src[pos] === '\n' || src[pos] === '\r') pos++;
      else break;
    }
  }

  /** Line breaks since the last non-blank character before `pos`. */
  private newlinesAt(pos: number): number {
    let n = 0;
    for (let i = pos - 1; i >= 0; i--) {
      const c = this.src[i];
      if (c === '\n' || (c === '\r' && this.src[i + 1] !== '\n')) n++;
      else if (c !== ' ' && c !== '\t' && c !== '\r') break;
    }
    return n;
  }

  private lineComment(mark: number): void {
    const src = this.src;
    let p = this.scanPos;
    while (src[p] === ' ' || src[p] === '\t') p++;
    if (src[p] === '#') this.pushLineComment(mark, p);
  }

  private pushLineComment(mark: number, hashAt: number): void {
    const eol = this.eol(hashAt);
    this.comments.push({
      kind: 'line', text: this.src.slice(hashAt, eol), tokenMark: mark,
      startOffset: hashAt, startCol: this.col(hashAt) + 1, startLine: this.line(hashAt), scanMark: 0, endMark: 0,
    });
    this.scanPos = eol;
  }

  /**
   * go-yaml `scan_comments`: splits the comment lines after a token into foot comments of
   * what came before and a head comment of what follows, by blank lines and indentation.
   */
  private scanComments(hashPos: number, scanMarkIn: number): number {
    const src = this.src;
    const lastIsFlowEntry = this.lastType === 'FLOW_ENTRY' && this.prevType !== undefined;
    const tokType = lastIsFlowEntry ? this.prevType : this.lastType;
    let tokenMark = lastIsFlowEntry ? this.prevStart : this.lastStart;
    const nextIndent = Math.max(this.indent, 0);
    const newlines = this.newlinesAt(hashPos);
    let recentEmpty = false;
    let firstEmpty = newlines <= 1;
    let line = this.line(hashPos);
    let column = this.col(hashPos);
    let scanMark = scanMarkIn;
    let text = '';
    let startOffset = 0;
    let startLine = 0;
    let startCol = 0;
    let footLine = -1;
    if (this.line(scanMarkIn) > 0) {
      footLine = line - newlines + 1;
      if (newlines === 0 && column > 1) footLine++;
    }
    const push = (kind: CommentKind, mark: number, end: number): void => {
      this.comments.push({ kind, text, tokenMark: mark, startOffset, startCol, startLine, scanMark, endMark: end });
    };
    let p = hashPos;
    let consumedTo = hashPos;
    for (;;) {
      column++;
      const c = src[p];
      if (c === ' ' || c === '\t') {
        p++;
        continue;
      }
      const closeFlow = this.flowLevel > 0 && (c === ']' || c === '}');
      const isBreak = c === '\n' || c === '\r';
      if (closeFlow || isBreak || c === undefined) {
        if (closeFlow || !recentEmpty) {
          if (closeFlow || (firstEmpty && ((startLine === footLine && tokType !== 'VALUE') || startCol - 1 < nextIndent))) {
            if (text) {
              if (startCol - 1 < nextIndent) tokenMark = startOffset;
              push('foot', tokenMark, p);
              scanMark = p;
              tokenMark = p;
              text = '';
            }
          } else if (text && c !== undefined) text += '\n';
        }
        if (!isBreak) break;
        firstEmpty = false;
        recentEmpty = true;
        column = 0;
        line++;
        p++;
        continue;
      }
      if (text && (closeFlow || (column - 1 < nextIndent && column !== startCol))) {
        push('foot', tokenMark, p);
        scanMark = p;
        tokenMark = p;
        text = '';
      }
      if (c !== '#') break;
      if (!text) {
        startOffset = p;
        startLine = line;
        startCol = column;
      } else text += '\n';
      recentEmpty = false;
      const eol = this.eol(p);
      text += src.slice(p, eol);
      consumedTo = eol;
      // go-yaml resumes one character after the line break (after the CR of a CRLF) without counting the line.
      column = 0;
      line = this.line(eol);
      p = eol + 1;
    }
    if (text) {
      this.comments.push({ kind: 'head', text, tokenMark: startOffset, startOffset, startCol, startLine, scanMark, endMark: p - 1 });
    }
    return consumedTo;
  }

  /** go-yaml `unroll_indent`: BLOCK_END tokens, placed before trailing comments of their level. */
  private unroll(column: number, scanMark: number): void {
    if (this.flowLevel > 0) return;
    let blockMark = scanMark - 1;
    while (this.indent > column) {
      let stop = blockMark;
      for (let i = this.comments.length - 1; i >= 0; i--) {
        const c = this.comments[i]!;
        if (c.endMark < stop) break;
        if (c.startCol === this.indent + 1) blockMark = c.startOffset;
        stop = c.scanMark;
      }
      const idx = this.tokens.length;
      this.tokens.push({ type: 'BLOCK_END', start: blockMark });
      const level = this.indents.pop()!;
      this.indent = level.indent;
      level.onEnd?.(idx);
    }
  }
}
