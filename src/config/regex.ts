/**
 * Go RE2 (`regexp` package) syntax translated to a JavaScript {@link RegExp} with the same
 * matching behaviour, for `path_regex` and the `*_regex` creation-rule fields.
 *
 * The translation follows Go's own parser (`regexp/syntax`, Perl flags) and rejects what Go
 * rejects, so a regex that tsops accepts also works in sops:
 *
 * - flags `(?imsU)`, `(?flags:re)` and `(?-flags)`: `s`, `m` and `U` are supported anywhere
 *   (they are translated per position); `i` only at the very start of the pattern
 *   (`(?i)...`, or one `(?i:...)` spanning the whole pattern), because JavaScript cannot
 *   switch case-insensitivity part-way;
 * - `\A`, `\z`, `\Q...\E`, octal and `\x{...}` escapes, Go's ASCII-only `\s`;
 * - named groups `(?P<name>re)` / `(?<name>re)` (the name is dropped: RE2 has no
 *   backreferences, so names never change what matches);
 * - POSIX classes `[[:alpha:]]`, `[[:^digit:]]`, Unicode classes `\pL`, `\p{Greek}`, `\P{..}`;
 * - `.` never matches `\n` unless `s` is set (JavaScript's `.` also stops at `\r` and
 *   U+2028/9), `^`/`$` under `m` only split at `\n`;
 * - look-around, backreferences, `\Z`, `\C`, possessive and nested repetitions and repeat
 *   counts above 1000 are errors, as in Go.
 *
 * Matching is an unanchored search, as Go's `MatchString`: use `regexp.test(s)`.
 */

import { withLinearTest } from './linear-regex.js';

/** A Go regular expression that Go rejects, or that has no JavaScript equivalent. */
export class Re2SyntaxError extends Error {
  /** The pattern as written in the config. */
  readonly pattern: string;
  /** UTF-16 offset in {@link pattern} where the problem starts. */
  readonly offset: number;
  /** What is wrong, without the pattern (e.g. "look-ahead `(?=` is not supported by RE2"). */
  readonly reason: string;
  constructor(pattern: string, offset: number, reason: string) {
    super(`invalid regular expression \`${pattern}\`: ${reason} (at offset ${offset})`);
    this.name = 'Re2SyntaxError';
    this.pattern = pattern;
    this.offset = offset;
    this.reason = reason;
  }
}

/** Result of {@link translateRe2}: arguments for `new RegExp(source, flags)`. */
export interface TranslatedRegex {
  source: string;
  /** Always contains `u`; `i` when the pattern starts with `(?i)`. */
  flags: string;
}

/** Translates a Go RE2 pattern. Throws {@link Re2SyntaxError}. */
export function translateRe2(pattern: string): TranslatedRegex {
  const t = new Translator(pattern);
  const result = t.run();
  try {
    new RegExp(result.source, result.flags);
  } catch (e) {
    throw new Re2SyntaxError(pattern, 0, `cannot be expressed in JavaScript (${(e as Error).message})`);
  }
  return result;
}

/**
 * Translates and compiles a Go RE2 pattern. Throws {@link Re2SyntaxError}. Its `test()` runs
 * in linear time, as Go's matcher does, unless the pattern uses `(?i)`, `(?m)` anchors or
 * `\p{..}` classes (see {@link withLinearTest}).
 */
export function compileRe2(pattern: string): RegExp {
  const { source, flags } = translateRe2(pattern);
  return withLinearTest(new RegExp(source, flags));
}

type Range = [number, number];

const POSIX_CLASSES: Record<string, Range[]> = {
  alnum: [[0x30, 0x39], [0x41, 0x5a], [0x61, 0x7a]],
  alpha: [[0x41, 0x5a], [0x61, 0x7a]],
  ascii: [[0x00, 0x7f]],
  blank: [[0x09, 0x09], [0x20, 0x20]],
  cntrl: [[0x00, 0x1f], [0x7f, 0x7f]],
  digit: [[0x30, 0x39]],
  graph: [[0x21, 0x7e]],
  lower: [[0x61, 0x7a]],
  print: [[0x20, 0x7e]],
  punct: [[0x21, 0x2f], [0x3a, 0x40], [0x5b, 0x60], [0x7b, 0x7e]],
  space: [[0x09, 0x0d], [0x20, 0x20]],
  upper: [[0x41, 0x5a]],
  word: [[0x30, 0x39], [0x41, 0x5a], [0x5f, 0x5f], [0x61, 0x7a]],
  xdigit: [[0x30, 0x39], [0x41, 0x46], [0x61, 0x66]],
};

/** Go's `\s`: ASCII `[\t\n\f\r ]` (no `\v`, no Unicode spaces, unlike JavaScript). */
const PERL_SPACE: Range[] = [[0x09, 0x0a], [0x0c, 0x0d], [0x20, 0x20]];

/** Unicode general categories Go knows (`unicode.Categories`). Anything else is a script. */
const CATEGORIES = new Set(
  'C Cc Cf Co Cs L Ll Lm Lo Lt Lu M Mc Me Mn N Nd Nl No P Pc Pd Pe Pf Pi Po Ps S Sc Sk Sm So Z Zl Zp Zs'.split(' '),
);

const MAX_REPEAT = 1000;
const SYNTAX_OUTSIDE = '^$\\.*+?()[]{}|/';
const SYNTAX_INSIDE = '\\]-^[';

function escapeChar(cp: number, inClass: boolean): string {
  const ch = String.fromCodePoint(cp);
  if ((inClass ? SYNTAX_INSIDE : SYNTAX_OUTSIDE).includes(ch)) return '\\' + ch;
  if (cp < 0x20 || cp === 0x7f || (cp >= 0xd800 && cp <= 0xdfff) || cp === 0x2028 || cp === 0x2029 || (cp >= 0xfff0 && cp <= 0xffff) || cp >= 0xf0000) {
    return `\\u{${cp.toString(16)}}`;
  }
  return ch;
}

function rangesText(ranges: Range[]): string {
  return ranges.map(([lo, hi]) => (lo === hi ? escapeChar(lo, true) : `${escapeChar(lo, true)}-${escapeChar(hi, true)}`)).join('');
}

/** Complement of sorted, non-overlapping ranges over all code points. */
function complement(ranges: Range[]): Range[] {
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of ranges) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= 0x10ffff) out.push([next, 0x10ffff]);
  return out;
}

interface Flags {
  s: boolean;
  m: boolean;
  U: boolean;
}

interface Group {
  saved: Flags;
  savedWeight: number;
  outStart: number;
  /** `(?i:` spanning the whole pattern. */
  wholeIgnoreCase: boolean;
}

type LastKind = 'none' | 'atom' | 'assertion' | 'repeat';

class Translator {
  private pos = 0;
  private out = '';
  private flags: Flags = { s: false, m: false, U: false };
  private ignoreCase = false;
  private leading = true;
  private readonly stack: Group[] = [];
  private lastKind: LastKind = 'none';
  private lastStart = 0;
  private lastWeight = 0;
  private lastOp = '';
  /** Largest product of nested `{n,m}` counts in the current group (Go caps it at 1000). */
  private groupWeight = 0;

  constructor(private readonly pattern: string) {}

  private fail(offset: number, reason: string): never {
    throw new Re2SyntaxError(this.pattern, offset, reason);
  }

  run(): TranslatedRegex {
    const p = this.pattern;
    while (this.pos < p.length) {
      const start = this.pos;
      const c = p[this.pos]!;
      switch (c) {
        case '(':
          this.openGroup();
          break;
        case ')':
          this.closeGroup();
          break;
        case '|':
          this.pos++;
          this.out += '|';
          this.lastKind = 'none';
          this.leading = false;
          break;
        case '*':
        case '+':
        case '?':
          this.pos++;
          this.repeat(c, start, undefined);
          break;
        case '{': {
          const rep = this.parseRepeatCount();
          if (rep) this.repeat(rep.text, start, rep.weight);
          else {
            this.pos++;
            this.atom('\\{');
          }
          break;
        }
        case '^':
          this.pos++;
          this.atom(this.flags.m ? '(?:^|(?<=\\n))' : '^', 'assertion');
          break;
        case '$':
          this.pos++;
          this.atom(this.flags.m ? '(?:$|(?=\\n))' : '$', 'assertion');
          break;
        case '.':
          this.pos++;
          this.atom(this.flags.s ? '[^]' : '[^\\n]');
          break;
        case '[':
          this.atom(this.parseClass());
          break;
        case '\\':
          this.parseEscapeOutside();
          break;
        default: {
          const cp = p.codePointAt(this.pos)!;
          this.pos += cp > 0xffff ? 2 : 1;
          this.atom(escapeChar(cp, false));
        }
      }
    }
    if (this.stack.length > 0) this.fail(p.length, 'missing closing `)`');
    return { source: this.out, flags: this.ignoreCase ? 'iu' : 'u' };
  }

  private atom(text: string, kind: LastKind = 'atom', weight = 0): void {
    this.lastKind = kind;
    this.lastStart = this.out.length;
    this.lastWeight = weight;
    this.out += text;
    this.groupWeight = Math.max(this.groupWeight, weight);
    this.leading = false;
  }

  private repeat(op: string, start: number, count: number | undefined): void {
    if (this.lastKind === 'none') this.fail(start, `missing argument to repetition operator \`${op}\``);
    let lazy = false;
    if (this.pattern[this.pos] === '?') {
      lazy = true;
      this.pos++;
    }
    const opText = op + (lazy ? '?' : '');
    if (this.lastKind === 'repeat') this.fail(start, `invalid nested repetition operator \`${this.lastOp}${opText}\``);
    let weight = this.lastWeight;
    if (count !== undefined && count > 0) {
      if (count * Math.max(weight, 1) > MAX_REPEAT) this.fail(start, `invalid repeat count \`${op}\` (nested repeats above ${MAX_REPEAT})`);
      weight = count * Math.max(weight, 1);
    }
    if (this.lastKind === 'assertion') {
      this.out = `${this.out.slice(0, this.lastStart)}(?:${this.out.slice(this.lastStart)})`;
    }
    if (this.flags.U) lazy = !lazy;
    this.out += op + (lazy ? '?' : '');
    this.lastKind = 'repeat';
    this.lastOp = opText;
    this.lastWeight = weight;
    this.groupWeight = Math.max(this.groupWeight, weight);
  }

  /** `{n}`, `{n,}`, `{n,m}` at pos; undefined (and pos unchanged) when `{` is a literal. */
  private parseRepeatCount(): { text: string; weight: number } | undefined {
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.pattern.slice(this.pos));
    if (!m) return undefined;
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? -1 : Number(m[3]);
    if (min > MAX_REPEAT || max > MAX_REPEAT || (max >= 0 && min > max)) {
      this.fail(this.pos, `invalid repeat count \`${m[0]}\``);
    }
    this.pos += m[0].length;
    return { text: m[0], weight: max === -1 ? min : max };
  }

  private openGroup(): void {
    const p = this.pattern;
    const start = this.pos;
    if (p[start + 1] !== '?') {
      this.pos++;
      this.pushGroup(false);
      this.out += '(';
      return;
    }
    const rest = p.slice(start + 2);
    if (rest.startsWith('=') || rest.startsWith('!')) this.fail(start, `look-ahead \`(?${rest[0]}\` is not supported by RE2`);
    if (rest.startsWith('<=') || rest.startsWith('<!')) this.fail(start, `look-behind \`(?${rest.slice(0, 2)}\` is not supported by RE2`);
    if (rest.startsWith('P=') || rest.startsWith('P>')) this.fail(start, 'backreferences are not supported by RE2');
    if (rest.startsWith('P<') || rest.startsWith('<')) {
      const nameStart = start + 2 + (rest[0] === 'P' ? 2 : 1);
      const end = p.indexOf('>', nameStart);
      const name = end < 0 ? '' : p.slice(nameStart, end);
      if (end < 0 || !/^[A-Za-z0-9_]+$/.test(name)) this.fail(start, `invalid named capture \`${p.slice(start, end < 0 ? p.length : end + 1)}\``);
      this.pos = end + 1;
      this.pushGroup(false);
      this.out += '(';
      return;
    }
    this.parseFlagGroup(start);
  }

  private parseFlagGroup(start: number): void {
    const p = this.pattern;
    const flags = { ...this.flags };
    let ignoreCase = this.ignoreCase;
    let negate = false;
    let sawFlag = false;
    let i = start + 2;
    for (; ; i++) {
      const c = p[i];
      if (c === undefined) this.fail(start, 'missing closing `)`');
      if (c === 'i' || c === 'm' || c === 's' || c === 'U') {
        if (c === 'i') ignoreCase = !negate;
        else flags[c] = !negate;
        sawFlag = true;
        continue;
      }
      if (c === '-' && !negate) {
        negate = true;
        sawFlag = false;
        continue;
      }
      if ((c === ':' || c === ')') && !(negate && !sawFlag)) break;
      this.fail(start, `invalid or unsupported Perl syntax \`${p.slice(start, i + 1)}\``);
    }
    const scoped = p[i] === ':';
    let whole = false;
    if (ignoreCase !== this.ignoreCase) {
      const atStart = this.leading && this.stack.length === 0;
      if (!atStart || !ignoreCase) {
        this.fail(start, 'the `i` flag can only be set at the very start of the pattern (`(?i)...`); JavaScript cannot switch case-insensitivity part-way');
      }
      this.ignoreCase = true;
      whole = scoped;
    }
    this.pos = i + 1;
    if (scoped) {
      this.pushGroup(whole);
      this.out += '(?:';
      this.flags = flags;
    } else {
      this.flags = flags;
    }
  }

  private pushGroup(wholeIgnoreCase: boolean): void {
    this.stack.push({ saved: { ...this.flags }, savedWeight: this.groupWeight, outStart: this.out.length, wholeIgnoreCase });
    this.groupWeight = 0;
    this.lastKind = 'none';
    this.leading = false;
  }

  private closeGroup(): void {
    const g = this.stack.pop();
    if (!g) this.fail(this.pos, 'unexpected `)`');
    if (g.wholeIgnoreCase && this.pos !== this.pattern.length - 1) {
      this.fail(this.pos, 'the `i` flag can only be set for the whole pattern (`(?i)...`); JavaScript cannot switch case-insensitivity part-way');
    }
    this.pos++;
    this.out += ')';
    const weight = this.groupWeight;
    this.flags = g.saved;
    this.groupWeight = Math.max(g.savedWeight, weight);
    this.lastKind = 'atom';
    this.lastStart = g.outStart;
    this.lastWeight = weight;
  }

  private parseEscapeOutside(): void {
    const p = this.pattern;
    const start = this.pos;
    const c = p[start + 1];
    switch (c) {
      case 'A':
        this.pos += 2;
        return this.atom('^', 'assertion');
      case 'z':
        this.pos += 2;
        return this.atom('$', 'assertion');
      case 'b':
      case 'B':
        this.pos += 2;
        return this.atom('\\' + c, 'assertion');
      case 'Q': {
        const end = p.indexOf('\\E', start + 2);
        const text = p.slice(start + 2, end < 0 ? p.length : end);
        this.pos = end < 0 ? p.length : end + 2;
        // Each character is its own atom, so a following repeat applies to the last one only.
        for (const ch of text) this.atom(escapeChar(ch.codePointAt(0)!, false));
        return;
      }
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        this.pos += 2;
        return this.atom('\\' + c);
      case 's':
      case 'S':
        this.pos += 2;
        return this.atom(`[${c === 'S' ? '^' : ''}${rangesText(PERL_SPACE)}]`);
      case 'p':
      case 'P': {
        const body = this.parseUnicodeClass();
        return this.atom(body.lastIndexOf('\\') === 0 ? body : `[${body}]`);
      }
      default:
        return this.atom(escapeChar(this.parseCharEscape(), false));
    }
  }

  /** `\pL`, `\p{Name}`, `\p{^Name}`, `\P...` at pos; returns JavaScript class contents (`\p{..}`, ...). */
  private parseUnicodeClass(): string {
    const p = this.pattern;
    const start = this.pos;
    let negated = p[start + 1] === 'P';
    let name: string;
    if (p[start + 2] === '{') {
      const end = p.indexOf('}', start + 3);
      if (end < 0) this.fail(start, `invalid character class range \`${p.slice(start)}\``);
      name = p.slice(start + 3, end);
      this.pos = end + 1;
    } else {
      const cp = p.codePointAt(start + 2);
      if (cp === undefined) this.fail(start, 'invalid character class range (missing name after `\\p`)');
      name = String.fromCodePoint(cp);
      this.pos = start + 2 + name.length;
    }
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    // Go's `C` is Cc|Cf|Co|Cs; JavaScript's also has the unassigned code points (Cn).
    if (name === 'C') return negated ? '\\P{C}\\p{Cn}' : '\\p{Cc}\\p{Cf}\\p{Co}\\p{Cs}';
    const js = CATEGORIES.has(name) || name === 'Any' ? name : `Script=${name}`;
    const text = `\\${negated ? 'P' : 'p'}{${js}}`;
    try {
      new RegExp(text, 'u');
    } catch {
      this.fail(start, `invalid character class range \`${p.slice(start, this.pos)}\` (unknown Unicode class \`${name}\`)`);
    }
    return text;
  }

  /** A single-character escape at pos (`\n`, `\x41`, `\101`, `\.`); returns its code point. */
  private parseCharEscape(): number {
    const p = this.pattern;
    const start = this.pos;
    const c = p[start + 1];
    if (c === undefined) this.fail(start, 'trailing backslash at end of expression');
    this.pos = start + 2;
    const isOctal = (ch: string | undefined) => ch !== undefined && ch >= '0' && ch <= '7';
    if (c >= '1' && c <= '9' && !(c <= '7' && isOctal(p[start + 2]))) {
      this.fail(start, `backreferences (\`\\${c}\`) are not supported by RE2`);
    }
    if (c >= '0' && c <= '7') {
      let v = Number(c);
      for (let n = 1; n < 3 && isOctal(p[this.pos]); n++) v = v * 8 + Number(p[this.pos++]);
      return v;
    }
    if (c === 'x') {
      if (p[this.pos] === '{') {
        const end = p.indexOf('}', this.pos);
        const hex = end < 0 ? '' : p.slice(this.pos + 1, end);
        if (!/^[0-9A-Fa-f]+$/.test(hex) || parseInt(hex, 16) > 0x10ffff) this.fail(start, 'invalid escape sequence `\\x{...}`');
        this.pos = end + 1;
        return parseInt(hex, 16);
      }
      const hex = p.slice(this.pos, this.pos + 2);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) this.fail(start, `invalid escape sequence \`${p.slice(start, this.pos + 2)}\``);
      this.pos += 2;
      return parseInt(hex, 16);
    }
    const controls: Record<string, number> = { a: 7, f: 12, t: 9, n: 10, r: 13, v: 11 };
    if (c in controls) return controls[c]!;
    const cp = c.charCodeAt(0);
    if (cp < 0x80 && !/[0-9A-Za-z]/.test(c)) return cp;
    const hints: Record<string, string> = {
      Z: '; use `\\z` for end of text',
      C: ' (`\\C`, any byte, is not supported)',
      k: ' (backreferences are not supported by RE2)',
      G: ' (`\\G` is not supported by RE2)',
    };
    const shown = String.fromCodePoint(p.codePointAt(start + 1)!);
    this.fail(start, `invalid escape sequence \`\\${shown}\`${hints[c] ?? ''}`);
  }

  /** A bracket expression at pos; returns the JavaScript class. */
  private parseClass(): string {
    const p = this.pattern;
    const start = this.pos;
    this.pos++;
    let negated = false;
    if (p[this.pos] === '^') {
      negated = true;
      this.pos++;
    }
    let body = '';
    let first = true;
    while (first || p[this.pos] !== ']') {
      if (this.pos >= p.length) this.fail(start, `missing closing \`]\`: \`${p.slice(start)}\``);
      first = false;
      if (p.startsWith('[:', this.pos)) {
        const end = p.indexOf(':]', this.pos + 2);
        if (end >= 0) {
          let name = p.slice(this.pos + 2, end);
          const neg = name.startsWith('^');
          if (neg) name = name.slice(1);
          const ranges = POSIX_CLASSES[name];
          if (!ranges) this.fail(this.pos, `invalid character class range \`${p.slice(this.pos, end + 2)}\``);
          body += rangesText(neg ? complement(ranges) : ranges);
          this.pos = end + 2;
          continue;
        }
      }
      if (p[this.pos] === '\\') {
        const e = p[this.pos + 1];
        if (e === 'p' || e === 'P') {
          body += this.parseUnicodeClass();
          continue;
        }
        if (e === 'd' || e === 'D' || e === 'w' || e === 'W') {
          body += '\\' + e;
          this.pos += 2;
          continue;
        }
        if (e === 's' || e === 'S') {
          body += rangesText(e === 's' ? PERL_SPACE : complement(PERL_SPACE));
          this.pos += 2;
          continue;
        }
      }
      const rangeStart = this.pos;
      const lo = this.parseClassChar();
      let hi = lo;
      if (p[this.pos] === '-' && this.pos + 1 < p.length && p[this.pos + 1] !== ']') {
        this.pos++;
        hi = this.parseClassChar();
        if (hi < lo) this.fail(rangeStart, `invalid character class range \`${p.slice(rangeStart, this.pos)}\``);
      }
      body += rangesText([[lo, hi]]);
    }
    this.pos++;
    return `[${negated ? '^' : ''}${body}]`;
  }

  private parseClassChar(): number {
    const p = this.pattern;
    if (this.pos >= p.length) this.fail(this.pos, 'missing closing `]`');
    if (p[this.pos] === '\\') return this.parseCharEscape();
    const cp = p.codePointAt(this.pos)!;
    this.pos += cp > 0xffff ? 2 : 1;
    return cp;
  }
}
