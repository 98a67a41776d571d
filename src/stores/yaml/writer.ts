/**
 * Low-level output of the YAML emitter: column tracking, indentation, indicators, comments and
 * the scalar writers, with go-yaml v3's layout rules (escapes, no line folding).
 * Columns count code points, as go-yaml does.
 */

export type ScalarStyle = 'plain' | 'single' | 'double' | 'literal';

/** What go-yaml's `analyze_scalar` concludes about a string. */
export interface ScalarAnalysis {
  multiline: boolean;
  flowPlainAllowed: boolean;
  blockPlainAllowed: boolean;
  singleQuotedAllowed: boolean;
  blockAllowed: boolean;
}

const isBreakCh = (c: string | undefined): boolean =>
  c === '\n' || c === '\r' || c === '\u0085' || c === '\u2028' || c === '\u2029';
const isBlankCh = (c: string | undefined): boolean => c === ' ' || c === '\t';
const isBlankZ = (c: string | undefined): boolean => c === undefined || isBlankCh(c) || isBreakCh(c);

/** go-yaml's `is_printable` for one code point. */
export function isPrintable(c: string): boolean {
  const cp = c.codePointAt(0)!;
  if (cp === 0x0a) return true;
  if (cp >= 0x20 && cp <= 0x7e) return true;
  if (cp >= 0xa0 && cp <= 0xd7ff) return true;
  if (cp >= 0xe000 && cp <= 0xfffd) return cp !== 0xfeff;
  return false;
}

/** {@link isPrintable} for a code point. */
function isPrintableCp(cp: number): boolean {
  if (cp === 0x0a) return true;
  if (cp >= 0x20 && cp <= 0x7e) return true;
  if (cp >= 0xa0 && cp <= 0xd7ff) return true;
  if (cp >= 0xe000 && cp <= 0xfffd) return cp !== 0xfeff;
  return false;
}

const isBreakCp = (c: number): boolean => c === 0x0a || c === 0x0d || c === 0x85 || c === 0x2028 || c === 0x2029;

/** Per ASCII character: 8 for the indicators that make a first character plain-unsafe. */
const ASCII_CLASS = new Uint8Array(128);
for (const c of '#,[]{}&*!|>\'"%@`') ASCII_CLASS[c.charCodeAt(0)] |= 8;

/** After the first character: a flow indicator, or `#` after a space. */
const FLOW_LATER = /.[,?[\]{}:]| #/;
/** After the first character: `:` before a space or at the end, or `#` after a space. */
const BLOCK_LATER = /.:(?: |$)| #/;

/** {@link analyzeScalar} of a non-empty printable ASCII string (no tabs, breaks or specials). */
function analyzePrintableAscii(value: string): ScalarAnalysis {
  const n = value.length;
  let blockInd = value.startsWith('---') || value.startsWith('...');
  let flowInd = blockInd;
  const first = value.charCodeAt(0);
  const firstWs = n === 1 || value.charCodeAt(1) === 0x20;
  if (ASCII_CLASS[first]! & 8) flowInd = blockInd = true;
  else if (first === 0x3f || first === 0x3a) {
    flowInd = true;
    if (firstWs) blockInd = true;
  } else if (first === 0x2d && firstWs) flowInd = blockInd = true;
  if (!flowInd) flowInd = FLOW_LATER.test(value);
  if (!blockInd) blockInd = BLOCK_LATER.test(value);
  const edgeSpace = first === 0x20 || value.charCodeAt(n - 1) === 0x20;
  return ASCII_ANALYSES[(!edgeSpace && !flowInd ? 4 : 0) | (!edgeSpace && !blockInd ? 2 : 0) | (value.charCodeAt(n - 1) !== 0x20 ? 1 : 0)]!;
}

/**
 * The analyses printable ASCII can have, shared (read-only): flowPlainAllowed (4),
 * blockPlainAllowed (2), blockAllowed (1). A new object per scalar was a noticeable share of
 * the garbage a large file's output made.
 */
const ASCII_ANALYSES: readonly ScalarAnalysis[] = Array.from({ length: 8 }, (_, i) =>
  Object.freeze({ multiline: false, flowPlainAllowed: (i & 4) !== 0, blockPlainAllowed: (i & 2) !== 0, singleQuotedAllowed: true, blockAllowed: (i & 1) !== 0 }),
);

/** go-yaml's `analyze_scalar` (unicode output enabled), one code point at a time. */
export function analyzeScalar(value: string): ScalarAnalysis {
  const n = value.length;
  if (n > 0 && PLAIN_ASCII.test(value)) return analyzePrintableAscii(value);
  if (n === 0) {
    return { multiline: false, flowPlainAllowed: false, blockPlainAllowed: true, singleQuotedAllowed: true, blockAllowed: false };
  }
  let blockInd = false;
  let flowInd = false;
  let lineBreaks = false;
  let special = false;
  let tabs = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let prevSpace = false;
  let prevBreak = false;
  if (value.startsWith('---') || value.startsWith('...')) {
    blockInd = true;
    flowInd = true;
  }
  let precededByWs = true;
  for (let i = 0; i < n; ) {
    const c = value.codePointAt(i)!;
    const next = i + (c > 0xffff ? 2 : 1);
    const last = next >= n;
    const following = value.charCodeAt(next);
    const followedByWs = last || following === 0x20 || following === 0x09;
    if (i === 0) {
      switch (c) {
        case 0x23: case 0x2c: case 0x5b: case 0x5d: case 0x7b: case 0x7d: case 0x26: case 0x2a: // # , [ ] { } & *
        case 0x21: case 0x7c: case 0x3e: case 0x27: case 0x22: case 0x25: case 0x40: case 0x60: // ! | > ' " % @ `
          flowInd = true;
          blockInd = true;
          break;
        case 0x3f: case 0x3a: // ? :
          flowInd = true;
          if (followedByWs) blockInd = true;
          break;
        case 0x2d: // -
          if (followedByWs) {
            flowInd = true;
            blockInd = true;
          }
          break;
      }
    } else if (c === 0x2c || c === 0x3f || c === 0x5b || c === 0x5d || c === 0x7b || c === 0x7d) {
      flowInd = true;
    } else if (c === 0x3a) {
      flowInd = true;
      if (followedByWs) blockInd = true;
    } else if (c === 0x23 && precededByWs) {
      flowInd = true;
      blockInd = true;
    }
    if (c === 0x09) tabs = true;
    else if (!isPrintableCp(c)) special = true;
    if (c === 0x20) {
      if (i === 0) leadingSpace = true;
      if (last) trailingSpace = true;
      if (prevBreak) breakSpace = true;
      prevSpace = true;
      prevBreak = false;
    } else if (isBreakCp(c)) {
      lineBreaks = true;
      if (i === 0) leadingBreak = true;
      if (last) trailingBreak = true;
      if (prevSpace) spaceBreak = true;
      prevSpace = false;
      prevBreak = true;
    } else {
      prevSpace = false;
      prevBreak = false;
    }
    precededByWs = c === 0x20 || c === 0x09 || isBreakCp(c);
    i = next;
  }
  const a: ScalarAnalysis = { multiline: lineBreaks, flowPlainAllowed: true, blockPlainAllowed: true, singleQuotedAllowed: true, blockAllowed: true };
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) {
    a.flowPlainAllowed = false;
    a.blockPlainAllowed = false;
  }
  if (trailingSpace) a.blockAllowed = false;
  if (breakSpace || spaceBreak || tabs || special) {
    a.flowPlainAllowed = false;
    a.blockPlainAllowed = false;
    a.singleQuotedAllowed = false;
  }
  if (spaceBreak || special) a.blockAllowed = false;
  if (lineBreaks) {
    a.flowPlainAllowed = false;
    a.blockPlainAllowed = false;
  }
  if (flowInd) a.flowPlainAllowed = false;
  if (blockInd) a.blockPlainAllowed = false;
  return a;
}

/** Printable ASCII only (`\x20`-`\x7e`): one column per character, nothing to escape or break. */
const PLAIN_ASCII = /^[\x20-\x7e]*$/;

const ESCAPES: Record<number, string> = {
  0x00: '0', 0x07: 'a', 0x08: 'b', 0x09: 't', 0x0a: 'n', 0x0b: 'v', 0x0c: 'f', 0x0d: 'r', 0x1b: 'e',
  0x22: '"', 0x5c: '\\', 0x85: 'N', 0xa0: '_', 0x2028: 'L', 0x2029: 'P',
};

/** Runs of spaces for indentation, by length (made once). */
const SPACES: string[] = [];
const spaces = (n: number): string => (SPACES[n] ??= ' '.repeat(n));
/** A line break and then `n` spaces, by `n`. */
const BREAK_SPACES: string[] = [];
const breakAndSpaces = (n: number): string => (BREAK_SPACES[n] ??= '\n' + spaces(n));

/** The output buffer plus the layout state go-yaml keeps while writing. */
export class Writer {
  /** The output so far, in pieces (joined once at the end: `+=` would make a string object per piece). */
  private readonly out: string[] = [];
  column = 0;
  whitespace = true;
  indention = true;
  indent = -1;
  footIndent = -1;
  /** go-yaml v3 sets no preferred width (`best_width: -1`), so long lines are never folded. */
  readonly bestWidth = 2 ** 31 - 1;

  constructor(readonly bestIndent: number) {}

  text(): string {
    return this.out.join('');
  }

  put(c: string): void {
    this.out.push(c);
    this.column++;
  }

  /** The space between a `:` or `-` indicator and what follows, joined to the indicator (fewer pieces to join). */
  private space(): void {
    const last = this.out.length - 1;
    const prev = this.out[last];
    if (prev === ':') this.out[last] = ': ';
    else if (prev === '-') this.out[last] = '- ';
    else this.out.push(' ');
    this.column++;
  }

  putBreak(): void {
    this.out.push('\n');
    this.column = 0;
    this.indention = true;
  }

  /** Copies a line break character (`\n` becomes the output break). */
  writeBreak(c: string): void {
    if (c === '\n') {
      this.putBreak();
      return;
    }
    this.out.push(c);
    this.column = 0;
    this.indention = true;
  }

  writeIndent(): void {
    const indent = Math.max(this.indent, 0);
    const newLine = !this.indention || this.column > indent || (this.column === indent && !this.whitespace);
    if (newLine && this.footIndent !== indent) {
      // the common case, a new line at the indentation: one piece
      this.out.push(breakAndSpaces(indent));
      this.column = indent;
      this.indention = true;
    } else {
      if (newLine) this.putBreak();
      if (this.footIndent === indent) this.putBreak();
      if (this.column < indent) {
        this.out.push(spaces(indent - this.column));
        this.column = indent;
      }
    }
    this.whitespace = true;
    this.footIndent = -1;
  }

  writeIndicator(ind: string, needWs: boolean, isWs: boolean, isIndention: boolean): void {
    if (needWs && !this.whitespace) this.space();
    // indicators are ASCII: one column per character
    this.out.push(ind);
    this.column += ind.length;
    this.whitespace = isWs;
    this.indention = this.indention && isIndention;
  }

  /** Writes `!!suffix` (only the `!!` handle is ever used here). */
  writeTag(tag: string): void {
    if (!this.whitespace) this.put(' ');
    this.put('!');
    this.put('!');
    for (const c of tag) this.put(c);
    this.whitespace = false;
    this.indention = false;
  }

  /** Writes a (possibly multi-line) comment; every line gets a `#` if it lacks one. */
  writeComment(comment: string): void {
    let breaks = false;
    let pound = false;
    for (const c of comment) {
      if (isBreakCh(c)) {
        this.writeBreak(c);
        breaks = true;
        pound = false;
      } else {
        if (breaks) this.writeIndent();
        if (!pound) {
          if (c !== '#') {
            this.put('#');
            this.put(' ');
          }
          pound = true;
        }
        this.put(c);
        this.indention = false;
        breaks = false;
      }
    }
    if (!breaks) this.putBreak();
    this.whitespace = true;
  }

  writePlain(value: string, allowBreaks: boolean): void {
    if (PLAIN_ASCII.test(value)) {
      // what the loop below does for such text (go-yaml never folds: bestWidth is unlimited)
      if (value.length > 0 && !this.whitespace) this.space();
      this.out.push(value);
      this.column += value.length;
      if (value.length > 0) this.whitespace = false;
      this.indention = false;
      return;
    }
    const chars = Array.from(value);
    if (chars.length > 0 && !this.whitespace) this.put(' ');
    let spaces = false;
    let breaks = false;
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      if (c === ' ') {
        if (allowBreaks && !spaces && this.column > this.bestWidth && chars[i + 1] !== ' ') this.writeIndent();
        else this.put(c);
        spaces = true;
      } else if (isBreakCh(c)) {
        if (!breaks && c === '\n') this.putBreak();
        this.writeBreak(c);
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        this.put(c);
        this.indention = false;
        spaces = false;
        breaks = false;
      }
    }
    if (chars.length > 0) this.whitespace = false;
    this.indention = false;
  }

  writeSingleQuoted(value: string, allowBreaks: boolean): void {
    if (PLAIN_ASCII.test(value) && !value.includes("'")) {
      // what the loop below does for such text
      this.writeIndicator("'", true, false, false);
      this.out.push(value);
      this.column += value.length;
      this.writeIndicator("'", false, false, false);
      this.whitespace = false;
      this.indention = false;
      return;
    }
    const chars = Array.from(value);
    this.writeIndicator("'", true, false, false);
    let spaces = false;
    let breaks = false;
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      if (c === ' ') {
        if (allowBreaks && !spaces && this.column > this.bestWidth && i > 0 && i < chars.length - 1 && chars[i + 1] !== ' ') {
          this.writeIndent();
        } else this.put(c);
        spaces = true;
      } else if (isBreakCh(c)) {
        if (!breaks && c === '\n') this.putBreak();
        this.writeBreak(c);
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        if (c === "'") this.put("'");
        this.put(c);
        this.indention = false;
        spaces = false;
        breaks = false;
      }
    }
    this.writeIndicator("'", false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  writeDoubleQuoted(value: string, allowBreaks: boolean): void {
    if (PLAIN_ASCII.test(value) && !value.includes('"') && !value.includes('\\')) {
      // what the loop below does for such text: nothing to escape
      this.writeIndicator('"', true, false, false);
      this.out.push(value);
      this.column += value.length;
      this.writeIndicator('"', false, false, false);
      this.whitespace = false;
      this.indention = false;
      return;
    }
    const chars = Array.from(value);
    const bom = chars[0] === '\ufeff';
    this.writeIndicator('"', true, false, false);
    let spaces = false;
    for (let i = 0; i < chars.length; i++) {
      const c = chars[i]!;
      if (!isPrintable(c) || bom || isBreakCh(c) || c === '"' || c === '\\') {
        const cp = c.codePointAt(0)!;
        this.put('\\');
        const e = ESCAPES[cp];
        if (e !== undefined) this.put(e);
        else {
          const [ind, w] = cp <= 0xff ? ['x', 2] : cp <= 0xffff ? ['u', 4] : ['U', 8];
          this.put(ind);
          for (const h of cp.toString(16).toUpperCase().padStart(w, '0')) this.put(h);
        }
        spaces = false;
      } else if (c === ' ') {
        if (allowBreaks && !spaces && this.column > this.bestWidth && i > 0 && i < chars.length - 1) {
          this.writeIndent();
          if (chars[i + 1] === ' ') this.put('\\');
        } else this.put(c);
        spaces = true;
      } else {
        this.put(c);
        spaces = false;
      }
    }
    this.writeIndicator('"', false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  /** `|` header with indentation and chomping hints; the caller then writes the line comment or break. */
  writeLiteralHeader(value: string): void {
    this.writeIndicator('|', true, false, false);
    const chars = Array.from(value);
    if (chars[0] === ' ' || isBreakCh(chars[0])) this.writeIndicator(String(this.bestIndent), false, false, false);
    let chomp = '';
    const n = chars.length;
    if (n === 0 || !isBreakCh(chars[n - 1])) chomp = '-';
    else if (n === 1 || isBreakCh(chars[n - 2])) chomp = '+';
    if (chomp) this.writeIndicator(chomp, false, false, false);
  }

  /** Body of a literal block scalar (after the header line). */
  writeLiteralBody(value: string): void {
    this.whitespace = true;
    let breaks = true;
    for (const c of value) {
      if (isBreakCh(c)) {
        this.writeBreak(c);
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        this.put(c);
        this.indention = false;
        breaks = false;
      }
    }
  }
}
