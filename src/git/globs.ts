/**
 * From a creation rule's `path_regex` to `.gitattributes` patterns (`tsops git setup`). Pure.
 *
 * `path_regex` is an unanchored RE2 search in the path relative to `.sops.yaml`'s directory;
 * gitattributes patterns are globs. The pattern derived here is meant to cover at least every
 * path the regex matches (a little more is harmless: the textconv and merge driver pass files
 * that are not sops files through unchanged). It is built from the regex's literal prefix (its
 * directories) and literal suffix (the file name ending, usually the extension):
 *
 * - `^secrets/.*\.yaml$`            -> `secrets/**\/*.yaml`
 * - `secrets/.*\.ya?ml$`            -> `**\/*secrets/**\/*.yaml`, `**\/*secrets/**\/*.yml`
 * - `\.enc\.(json|yaml)$`           -> `*.enc.json`, `*.enc.yaml`
 * - `^prod/`                        -> `prod/**`
 * - `a|b`                           -> the patterns of each alternative
 *
 * A regex without a usable literal part (`.*`, `prod` unanchored at both ends, a flag such as
 * `(?i)`) and a rule without `path_regex` get {@link FALLBACK_GLOBS}: every file of a
 * structured format.
 */

/** The catch-all used when a rule cannot be mapped: every YAML, JSON, dotenv and INI file. */
export const FALLBACK_GLOBS: readonly string[] = ['*.yaml', '*.yml', '*.json', '*.env', '*.ini'];

type Token =
  | { t: 'lit'; ch: string; optional: boolean }
  | { t: 'group'; alternatives: string[][] | undefined }
  | { t: 'other' }
  | { t: 'start' }
  | { t: 'end' };

class Unmappable extends Error {}

const META = new Set(['\\', '.', '^', '$', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}']);

/** Splits at top-level `|`. */
function splitTop(re: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let inClass = false;
  let cur = '';
  for (let i = 0; i < re.length; i++) {
    const c = re[i]!;
    if (c === '\\') {
      cur += c + (re[i + 1] ?? '');
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') {
      inClass = true;
      cur += c;
      if (re[i + 1] === '^') cur += re[++i];
      if (re[i + 1] === ']') cur += re[++i];
      continue;
    } else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      parts.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  parts.push(cur);
  return parts;
}

function tokenize(re: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < re.length) {
    const c = re[i]!;
    if (c === '\\') {
      const n = re[i + 1];
      if (n === undefined) throw new Unmappable();
      out.push(/[A-Za-z0-9]/.test(n) ? { t: 'other' } : { t: 'lit', ch: n, optional: false });
      i += 2;
    } else if (c === '^') {
      out.push({ t: 'start' });
      i++;
    } else if (c === '$') {
      out.push({ t: 'end' });
      i++;
    } else if (c === '[') {
      let j = i + 1;
      if (re[j] === '^') j++;
      if (re[j] === ']') j++;
      while (j < re.length && re[j] !== ']') {
        if (re[j] === '\\') j++;
        else if (re[j] === '[' && re[j + 1] === ':') j = re.indexOf(':]', j + 2) + 1 || re.length;
        j++;
      }
      if (j >= re.length) throw new Unmappable();
      out.push({ t: 'other' });
      i = j + 1;
    } else if (c === '(') {
      let depth = 1;
      let j = i + 1;
      while (j < re.length && depth > 0) {
        if (re[j] === '\\') j++;
        else if (re[j] === '(') depth++;
        else if (re[j] === ')') depth--;
        j++;
      }
      if (depth !== 0) throw new Unmappable();
      let inner = re.slice(i + 1, j - 1);
      if (inner.startsWith('?')) {
        const named = /^\?P?<[^>]*>/.exec(inner);
        if (named) inner = inner.slice(named[0].length);
        else if (inner.startsWith('?:')) inner = inner.slice(2);
        else throw new Unmappable(); // flags such as (?i) change what matches
      }
      out.push({ t: 'group', alternatives: literalAlternatives(inner) });
      i = j;
    } else if (c === '?' || c === '*' || c === '+' || c === '{') {
      let j = i + 1;
      if (c === '{') {
        j = re.indexOf('}', i);
        if (j < 0) throw new Unmappable();
        j++;
      }
      if (re[j] === '?') j++; // lazy
      const prev = out.pop();
      if (!prev || prev.t === 'start' || prev.t === 'end') throw new Unmappable();
      const optionalOnly = c === '?' || /^\{0,1\}$/.test(re.slice(i, j).replace(/\?$/, ''));
      out.push(prev.t === 'lit' && optionalOnly ? { ...prev, optional: true } : { t: 'other' });
      i = j;
    } else if (c === '.' || c === '|' || c === ')' || c === ']' || c === '}') {
      if (c === '|' || c === ')') throw new Unmappable();
      out.push({ t: 'other' });
      i++;
    } else {
      out.push({ t: 'lit', ch: c, optional: false });
      i++;
    }
  }
  return out;
}

/** A group's alternatives when each is a plain literal (with optional characters): `yaml|ya?ml|json`. */
function literalAlternatives(inner: string): string[][] | undefined {
  try {
    const variants = splitTop(inner).map((alt) => {
      const toks = tokenize(alt);
      if (!toks.every((t) => t.t === 'lit')) throw new Unmappable();
      return expand(toks);
    });
    return variants;
  } catch {
    return undefined;
  }
}

/** Every string a run of literal tokens (some optional, some groups of literals) can match. */
function expand(tokens: readonly Token[]): string[] {
  let acc = [''];
  for (const tok of tokens) {
    if (tok.t === 'lit') acc = acc.flatMap((s) => (tok.optional ? [s + tok.ch, s] : [s + tok.ch]));
    else if (tok.t === 'group' && tok.alternatives) acc = acc.flatMap((s) => tok.alternatives!.flat().map((v) => s + v));
    else throw new Unmappable();
    if (acc.length > 16) throw new Unmappable();
  }
  return acc;
}

const literalish = (tok: Token) => tok.t === 'lit' || (tok.t === 'group' && tok.alternatives !== undefined);

/** Escapes glob characters; a name with whitespace or quotes cannot be written as a pattern. */
function escapeGlob(s: string): string {
  if (/[\s"]/.test(s) || /[\u0000-\u001f]/.test(s)) throw new Unmappable();
  return s.replace(/[*?[\\]/g, (m) => `\\${m}`);
}

function branchGlobs(branch: string): string[] {
  const toks = tokenize(branch);
  const anchoredStart = toks[0]?.t === 'start';
  if (anchoredStart) toks.shift();
  const anchoredEnd = toks[toks.length - 1]?.t === 'end';
  if (anchoredEnd) toks.pop();
  if (toks.some((t) => t.t === 'start' || t.t === 'end')) throw new Unmappable();
  if (toks.every(literalish)) {
    // literal strings (with optional characters and alternatives)
    return expand(toks).flatMap((v) => {
      if (anchoredStart && anchoredEnd) return [v.includes('/') ? escapeGlob(v) : `/${escapeGlob(v)}`];
      return dirAndFile(v, anchoredStart, anchoredEnd ? v : undefined);
    });
  }
  // the literal prefix: plain literal characters only (stopping early keeps the glob a superset)
  let p = 0;
  while (p < toks.length && toks[p]!.t === 'lit' && !(toks[p] as { optional: boolean }).optional) p++;
  const prefix = toks.slice(0, p).map((t) => (t as { ch: string }).ch).join('');
  let s = toks.length;
  while (s > p && literalish(toks[s - 1]!)) s--;
  const suffixes = anchoredEnd && s < toks.length ? expand(toks.slice(s)) : [undefined];
  return [...new Set(suffixes.flatMap((suf) => dirAndFile(prefix, anchoredStart, suf)))];
}

/** The glob for: the path starts (anchored) or contains `prefix`, then anything, then ends with `suffix`. */
function dirAndFile(prefix: string, anchoredStart: boolean, suffix: string | undefined): string[] {
  const cut = prefix.lastIndexOf('/');
  const dir = cut >= 0 ? prefix.slice(0, cut + 1) : '';
  let dirGlob = '';
  if (dir) dirGlob = anchoredStart ? escapeGlob(dir) : `**/*${escapeGlob(dir)}`;
  let file: string | undefined;
  if (suffix) {
    const slash = suffix.lastIndexOf('/');
    file = slash >= 0 ? escapeGlob(suffix.slice(slash + 1)) : `*${escapeGlob(suffix)}`;
    if (file === '' || file === '*') file = undefined;
  }
  if (!dirGlob && !file) throw new Unmappable();
  if (!dirGlob) return [file!];
  return [file ? `${dirGlob}**/${file}` : `${dirGlob}**`];
}

/** The patterns for one rule, or undefined when its regex cannot be mapped (use {@link FALLBACK_GLOBS}). */
export function globsForRegex(pathRegex: string): string[] | undefined {
  try {
    const out = splitTop(pathRegex).flatMap((b) => {
      if (b === '') throw new Unmappable();
      return branchGlobs(b);
    });
    return [...new Set(out.map((g) => (g.startsWith('#') || g.startsWith('!') ? `\\${g}` : g)))];
  } catch (e) {
    if (e instanceof Unmappable) return undefined;
    throw e;
  }
}

/**
 * Puts a pattern relative to `.sops.yaml`'s directory under that directory (`sub/` relative to
 * the repository root; '' at the root). A pattern without `/` matches at any depth, so it
 * becomes `sub/**\/PATTERN`.
 */
export function underDirectory(glob: string, dirFromRoot: string): string {
  if (!dirFromRoot) return glob;
  const d = escapeGlob(dirFromRoot.replace(/\/?$/, '/'));
  if (glob.startsWith('/')) return d + glob.slice(1);
  if (glob.startsWith('**/')) return d + glob;
  return glob.includes('/') ? d + glob : `${d}**/${glob}`;
}
