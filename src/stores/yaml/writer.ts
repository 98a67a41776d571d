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

/** go-yaml's `analyze_scalar` (unicode output enabled). */
export function analyzeScalar(value: string): ScalarAnalysis {
  const chars = Array.from(value);
  if (chars.length === 0) {
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
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    const followedByWs = i + 1 >= chars.length || isBlankCh(chars[i + 1]);
    if (i === 0) {
      if ('#,[]{}&*!|>\'"%@`'.includes(c)) {
        flowInd = true;
        blockInd = true;
      } else if (c === '?' || c === ':') {
        flowInd = true;
        if (followedByWs) blockInd = true;
      } else if (c === '-' && followedByWs) {
        flowInd = true;
        blockInd = true;
      }
    } else if (',?[]{}'.includes(c)) {
      flowInd = true;
    } else if (c === ':') {
      flowInd = true;
      if (followedByWs) blockInd = true;
    } else if (c === '#' && precededByWs) {
      flowInd = true;
      blockInd = true;
    }
    if (c === '\t') tabs = true;
    else if (!isPrintable(c)) special = true;
    if (c === ' ') {
      if (i === 0) leadingSpace = true;
      if (i === chars.length - 1) trailingSpace = true;
      if (prevBreak) breakSpace = true;
      prevSpace = true;
      prevBreak = false;
    } else if (isBreakCh(c)) {
      lineBreaks = true;
      if (i === 0) leadingBreak = true;
      if (i === chars.length - 1) trailingBreak = true;
      if (prevSpace) spaceBreak = true;
      prevSpace = false;
      prevBreak = true;
    } else {
      prevSpace = false;
      prevBreak = false;
    }
    precededByWs = isBlankZ(c);
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

const ESCAPES: Record<number, string> = {
  0x00: '0', 0x07: 'a', 0x08: 'b', 0x09: 't', 0x0a: 'n', 0x0b: 'v', 0x0c: 'f', 0x0d: 'r', 0x1b: 'e',
  0x22: '"', 0x5c: '\\', 0x85: 'N', 0xa0: '_', 0x2028: 'L', 0x2029: 'P',
};

/** The output buffer plus the layout state go-yaml keeps while writing. */
export class Writer {
  private parts: string[] = [];
  column = 0;
  whitespace = true;
  indention = true;
  indent = -1;
  footIndent = -1;
  /** go-yaml v3 sets no preferred width (`best_width: -1`), so long lines are never folded. */
  readonly bestWidth = 2 ** 31 - 1;

  constructor(readonly bestIndent: number) {}

  text(): string {
    return this.parts.join('');
  }

  put(c: string): void {
    this.parts.push(c);
    this.column++;
  }

  putBreak(): void {
    this.parts.push('\n');
    this.column = 0;
    this.indention = true;
  }

  /** Copies a line break character (`\n` becomes the output break). */
  writeBreak(c: string): void {
    if (c === '\n') {
      this.putBreak();
      return;
    }
    this.parts.push(c);
    this.column = 0;
    this.indention = true;
  }

  writeIndent(): void {
    const indent = Math.max(this.indent, 0);
    if (!this.indention || this.column > indent || (this.column === indent && !this.whitespace)) this.putBreak();
    if (this.footIndent === indent) this.putBreak();
    while (this.column < indent) this.put(' ');
    this.whitespace = true;
    this.footIndent = -1;
  }

  writeIndicator(ind: string, needWs: boolean, isWs: boolean, isIndention: boolean): void {
    if (needWs && !this.whitespace) this.put(' ');
    for (const c of ind) this.put(c);
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
