/**
 * A linear-time `test()` for translated RE2 patterns.
 *
 * Go's RE2 matches in time linear in the input; JavaScript's backtracking engine does not:
 * `(a+)+$` against 30 `a`s and a `!` takes seconds, and a few more characters take hours. A
 * `path_regex` meets file names, and an encryption-rule regex from a file's metadata (which
 * anyone who can edit the file controls) meets every key name, so a pathological pattern
 * could hang tsops where sops answers at once.
 *
 * V8 has a non-backtracking engine (regexps with the `l` flag, enabled by a V8 flag) that
 * handles patterns without the `u` and `i` flags, look-around and Unicode property classes.
 * {@link linearSource} rewrites the `u`-mode source the translator emits into such a pattern
 * that gives the same answers, with one trick for characters outside the BMP: the subject's
 * surrogate pairs and lone surrogates are each replaced by one lone high surrogate
 * (U+D800), and each class either contains all of U+D800-U+DFFF and U+10000-U+10FFFF or none
 * of them (else the pattern is not converted). `u`-mode matches an astral character as one
 * code point, so does the rewritten pattern match the one placeholder. The engine refuses
 * repetition counts above 16, so `x{n,m}` is written out (`x` n times, then `x?` m-n times);
 * RE2's own limit of 1000 keeps that small.
 */
import { setFlagsFromString } from 'node:v8';

const SURROGATE = /[\ud800-\udfff]/;
const SURROGATE_UNITS = /[\ud800-\udbff][\udc00-\udfff]|[\ud800-\udfff]/g;
const PLACEHOLDER = '\ud800';

let enabled: boolean | undefined;

/** Whether the `l` flag works in this process (enables V8's engine once). */
function linearEngine(): boolean {
  if (enabled !== undefined) return enabled;
  try {
    setFlagsFromString('--enable-experimental-regexp-engine');
    new RegExp('a', 'l');
    enabled = true;
  } catch {
    enabled = false;
  }
  return enabled;
}

type Range = [number, number];

const hex4 = (cp: number) => `\\u${cp.toString(16).padStart(4, '0')}`;

/** How much of U+D800-U+DFFF ∪ U+10000-U+10FFFF the ranges cover: 'all', 'none' or 'some'. */
function specialCoverage(ranges: Range[], wide: boolean): 'all' | 'none' | 'some' {
  if (wide) return 'all';
  const parts: Range[] = [
    [0xd800, 0xdfff],
    [0x10000, 0x10ffff],
  ];
  let covered = 0;
  let total = 0;
  for (const [plo, phi] of parts) {
    total += phi - plo + 1;
    // ranges may overlap: count the covered code points of this part exactly
    const clipped = ranges
      .map(([lo, hi]): Range => [Math.max(lo, plo), Math.min(hi, phi)])
      .filter(([lo, hi]) => lo <= hi)
      .sort((a, b) => a[0] - b[0]);
    let next = plo;
    for (const [lo, hi] of clipped) {
      const from = Math.max(lo, next);
      if (hi >= from) covered += hi - from + 1;
      next = Math.max(next, hi + 1);
    }
  }
  return covered === 0 ? 'none' : covered === total ? 'all' : 'some';
}

/** Reads one character of the `u`-mode source at `i` (an escape or a code point): [code point | undefined, next index, raw text]. */
function readChar(src: string, i: number): [number | undefined, number, string] {
  if (src[i] !== '\\') {
    const cp = src.codePointAt(i)!;
    const n = cp > 0xffff ? 2 : 1;
    return [cp, i + n, src.slice(i, i + n)];
  }
  const c = src[i + 1]!;
  if (c === 'u' && src[i + 2] === '{') {
    const end = src.indexOf('}', i);
    return [parseInt(src.slice(i + 3, end), 16), end + 1, src.slice(i, end + 1)];
  }
  // `\d`, `\w`, ... have no single code point; `\.` and friends are the character itself
  if (/[dDwWsSbBpP]/.test(c)) return [undefined, i + 2, src.slice(i, i + 2)];
  return [c.codePointAt(0)!, i + 2, src.slice(i, i + 2)];
}

/** One BMP code point as non-`u` pattern text (outside or inside a class). */
function bmpText(cp: number, raw: string): string {
  return raw.startsWith('\\u{') || cp >= 0x80 ? hex4(cp) : raw;
}

/** Converts a class `[...]` starting at `i`; returns [text, next index] or undefined. */
function convertClass(src: string, i: number): [string, number] | undefined {
  let j = i + 1;
  const negated = src[j] === '^';
  if (negated) j++;
  const ranges: Range[] = [];
  let wide = false;
  let body = '';
  while (src[j] !== ']') {
    if (j >= src.length) return undefined;
    const [lo, after, raw] = readChar(src, j);
    if (lo === undefined) {
      if (/^\\[pP]/.test(raw)) return undefined;
      // \D and \W (no `i` flag) contain every non-ASCII code point; \d and \w none
      if (raw === '\\D' || raw === '\\W') wide = true;
      body += raw;
      j = after;
      continue;
    }
    let hi = lo;
    let hiRaw = raw;
    j = after;
    if (src[j] === '-' && src[j + 1] !== ']') {
      [hi, j, hiRaw] = readChar(src, j + 1) as [number, number, string];
      if (hi === undefined) return undefined;
    }
    ranges.push([lo, hi]);
    // the BMP part outside the surrogates goes in as is; the rest is decided below
    const bmpLo = lo;
    const bmpHi = Math.min(hi, 0xffff);
    const pieces: Range[] = [];
    if (bmpLo <= Math.min(bmpHi, 0xd7ff)) pieces.push([bmpLo, Math.min(bmpHi, 0xd7ff)]);
    if (Math.max(bmpLo, 0xe000) <= bmpHi) pieces.push([Math.max(bmpLo, 0xe000), bmpHi]);
    for (const [a, b] of pieces) {
      const aText = a === lo ? bmpText(a, raw) : hex4(a);
      const bText = b === hi ? bmpText(b, hiRaw) : hex4(b);
      body += a === b ? aText : `${aText}-${bText}`;
    }
  }
  const cov = specialCoverage(ranges, wide);
  if (cov === 'some') return undefined;
  // \D / \W already contain the surrogates in non-`u` mode; explicit ranges need them added
  if (cov === 'all' && !wide) body += '\\ud800-\\udfff';
  return [`[${negated ? '^' : ''}${body}]`, j + 1];
}

/**
 * The `u`-mode source (as the translator emits it) rewritten for the linear engine, or
 * undefined when it cannot be (case-insensitive, look-around, `\p{..}`, an astral character
 * outside a class, a class that holds some but not all astral characters).
 */
export function linearSource(source: string, flags: string): string | undefined {
  if (flags !== 'u') return undefined;
  let out = '';
  let i = 0;
  /** Where the last atom (a character, an escape, a class or a group) starts in `out`. */
  let atomStart = 0;
  const groups: number[] = [];
  while (i < source.length) {
    const c = source[i]!;
    if (c === '[') {
      const r = convertClass(source, i);
      if (!r) return undefined;
      atomStart = out.length;
      out += r[0];
      i = r[1];
      continue;
    }
    if (c === '(') {
      if (source[i + 1] === '?' && source[i + 2] !== ':') return undefined; // look-around
      groups.push(out.length);
      const open = source[i + 1] === '?' ? '(?:' : '(';
      out += open;
      i += open.length;
      continue;
    }
    if (c === ')') {
      atomStart = groups.pop() ?? 0;
      out += c;
      i++;
      continue;
    }
    if (c === '{') {
      // a counted repetition (a literal `{` is always escaped): the engine refuses counts
      // above 16, so the atom is written out that many times
      const m = /^\{(\d+)(,(\d*))?\}\??/.exec(source.slice(i));
      if (!m) return undefined;
      const min = Number(m[1]);
      const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      const atom = `(?:${out.slice(atomStart)})`;
      let rep = atom.repeat(min);
      rep += max === Infinity ? `${atom}*` : `${atom}?`.repeat(max - min);
      out = out.slice(0, atomStart) + rep;
      if (out.length > 100_000) return undefined;
      i += m[0].length;
      continue;
    }
    atomStart = out.length;
    if (c === '\\') {
      const [cp, next, raw] = readChar(source, i);
      if (/^\\[pP]/.test(raw)) return undefined;
      if (cp !== undefined && (cp > 0xffff || (cp >= 0xd800 && cp <= 0xdfff))) return undefined;
      out += cp === undefined ? raw : bmpText(cp, raw);
      i = next;
      continue;
    }
    const cp = source.codePointAt(i)!;
    if (cp > 0xffff || (cp >= 0xd800 && cp <= 0xdfff)) return undefined;
    out += cp >= 0x80 ? hex4(cp) : c;
    i++;
  }
  return out;
}

/**
 * Gives `re` (a translated `u`-mode regex) a `test()` that runs in linear time when the pattern
 * allows it (see the module comment); otherwise `re` is returned unchanged.
 */
export function withLinearTest(re: RegExp): RegExp {
  const src = linearSource(re.source, re.flags);
  if (src === undefined || !linearEngine()) return re;
  let lin: RegExp;
  try {
    lin = new RegExp(src, 'l');
  } catch {
    return re; // e.g. a construct the linear engine rejects: keep the exact one
  }
  Object.defineProperty(re, 'test', {
    value: (s: string) => lin.test(SURROGATE.test(s) ? s.replace(SURROGATE_UNITS, PLACEHOLDER) : s),
  });
  return re;
}
