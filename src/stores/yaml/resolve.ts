/**
 * Scalar typing as go-yaml v3 does it (`resolve.go`), which is what sops sees: YAML 1.1-ish
 * integers (`017` is octal, `_` separators), only `true/True/TRUE` and `false/False/FALSE` as
 * booleans, timestamps via Go's `time.Parse` with a few layouts, everything else a string.
 */
import type { Leaf } from '../../tree/types.js';
import { bool, float, int, nul, str, time } from '../../tree/types.js';

/** The tag go-yaml resolves a plain scalar to. `merge` is `<<` (only the parser sets it). */
export type ResolvedTag = 'null' | 'bool' | 'int' | 'uint' | 'float' | 'timestamp' | 'str';

/** What a scalar text resolves to. `uint` carries values in (2^63-1, 2^64-1]. */
export type Resolved =
  | { tag: 'null' }
  | { tag: 'bool'; value: boolean }
  | { tag: 'int'; value: bigint }
  | { tag: 'uint'; value: bigint }
  | { tag: 'float'; value: number }
  | { tag: 'timestamp'; value: string }
  | { tag: 'str'; value: string };

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);
const UINT64_MAX = (1n << 64n) - 1n;

const SPECIAL = new Map<string, Resolved>();
for (const s of ['true', 'True', 'TRUE']) SPECIAL.set(s, { tag: 'bool', value: true });
for (const s of ['false', 'False', 'FALSE']) SPECIAL.set(s, { tag: 'bool', value: false });
for (const s of ['', '~', 'null', 'Null', 'NULL']) SPECIAL.set(s, { tag: 'null' });
for (const s of ['.nan', '.NaN', '.NAN']) SPECIAL.set(s, { tag: 'float', value: NaN });
for (const s of ['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF']) SPECIAL.set(s, { tag: 'float', value: Infinity });
for (const s of ['-.inf', '-.Inf', '-.INF']) SPECIAL.set(s, { tag: 'float', value: -Infinity });

const YAML_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const DOT_FLOAT = /^\.[0-9]+([eE][-+]?[0-9]+)?$/;

/** First-character class of go-yaml's resolve table. */
function hint(s: string): 'N' | 'D' | 'S' | 'M' | '.' | '' {
  if (s === '') return 'N';
  const c = s[0]!;
  if (c >= '0' && c <= '9') return 'D';
  if (c === '+' || c === '-') return 'S';
  if ('yYnNtTfFoO~'.includes(c)) return 'M';
  if (c === '.') return '.';
  return '';
}

/** Go `strconv.ParseUint(s, base, 64)` digits check + value; undefined when invalid or too big. */
function parseDigits(s: string, base: number): bigint | undefined {
  if (s === '') return undefined;
  const re = base === 16 ? /^[0-9a-fA-F]+$/ : base === 8 ? /^[0-7]+$/ : base === 2 ? /^[01]+$/ : /^[0-9]+$/;
  if (!re.test(s)) return undefined;
  const prefix = base === 16 ? '0x' : base === 8 ? '0o' : base === 2 ? '0b' : '';
  const v = BigInt(prefix + s);
  return v > UINT64_MAX ? undefined : v;
}

/** Go `ParseUint(s, 0, 64)` (no sign allowed). */
function goParseUintBase0(s: string): bigint | undefined {
  if (s.length >= 2 && s[0] === '0') {
    const p = s[1]!;
    if (p === 'x' || p === 'X') return parseDigits(s.slice(2), 16);
    if (p === 'o' || p === 'O') return parseDigits(s.slice(2), 8);
    if (p === 'b' || p === 'B') return parseDigits(s.slice(2), 2);
    return parseDigits(s.slice(1), 8);
  }
  return parseDigits(s, 10);
}

/** Go `ParseInt(s, 0, 64)`. */
function goParseIntBase0(s: string): bigint | undefined {
  let neg = false;
  let body = s;
  if (body[0] === '+' || body[0] === '-') {
    neg = body[0] === '-';
    body = body.slice(1);
  }
  const u = goParseUintBase0(body);
  if (u === undefined) return undefined;
  const v = neg ? -u : u;
  return v > INT64_MAX || v < INT64_MIN ? undefined : v;
}

/** Go `ParseFloat`, restricted to the decimal forms the callers let through; undefined on overflow. */
function goParseFloat(s: string): number | undefined {
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}

function pad(n: number, w: number): string {
  return String(n).padStart(w, '0');
}

function daysIn(month: number, year: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

const TS_RE =
  /^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:(?:[Tt]([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,]([0-9]+))?(Z|[+-][0-9]{2}:[0-9]{2}))|(?: ([0-9]{1,2}):([0-9]{1,2}):([0-9]{1,2})(?:[.,]([0-9]+))?))?$/;

/**
 * Parses a YAML timestamp the way go-yaml does (Go `time.Parse` with the layouts
 * `2006-1-2T15:4:5.999999999Z07:00`, the same with `t`, `2006-1-2 15:4:5.999999999` and
 * `2006-1-2`) and returns Go's `Format(time.RFC3339Nano)` of it, or undefined.
 */
export function parseTimestamp(s: string): string | undefined {
  const m = TS_RE.exec(s);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hh = Number(m[4] ?? m[9] ?? 0);
  const mi = Number(m[5] ?? m[10] ?? 0);
  const ss = Number(m[6] ?? m[11] ?? 0);
  const frac = m[7] ?? m[12] ?? '';
  const zone = m[8] ?? 'Z';
  if (month < 1 || month > 12 || hh >= 24 || mi >= 60 || ss >= 60) return undefined;
  if (day < 1 || day > daysIn(month, year)) return undefined;
  let off = 0;
  if (zone !== 'Z') {
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.slice(4, 6));
    if (zh > 24 || zm > 60) return undefined;
    off = (zh * 60 + zm) * (zone[0] === '-' ? -1 : 1);
  }
  const nanos = frac.slice(0, 9).padEnd(9, '0').replace(/0+$/, '');
  let out = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hh, 2)}:${pad(mi, 2)}:${pad(ss, 2)}`;
  if (nanos !== '') out += '.' + nanos;
  if (off === 0) return out + 'Z';
  const a = Math.abs(off);
  return `${out}${off < 0 ? '-' : '+'}${pad(Math.floor(a / 60), 2)}:${pad(a % 60, 2)}`;
}

/**
 * go-yaml's `resolve(tag, text)` for an untagged plain scalar (`allowTimestamp` false for an
 * explicit non-timestamp tag, as go-yaml only tries timestamps without a tag or with `!!timestamp`).
 */
export function resolvePlain(s: string, allowTimestamp = true): Resolved {
  const h = hint(s);
  if (h === '') return { tag: 'str', value: s };
  const special = SPECIAL.get(s);
  if (special) return special;
  if (h === '.') {
    if (DOT_FLOAT.test(s)) {
      const f = goParseFloat(s);
      if (f !== undefined) return { tag: 'float', value: f };
    }
    return { tag: 'str', value: s };
  }
  if (h === 'D' || h === 'S') {
    if (allowTimestamp) {
      const t = parseTimestamp(s);
      if (t !== undefined) return { tag: 'timestamp', value: t };
    }
    const plain = s.replaceAll('_', '');
    const i = goParseIntBase0(plain);
    if (i !== undefined) return { tag: 'int', value: i };
    const u = goParseUintBase0(plain);
    if (u !== undefined) return { tag: 'uint', value: u };
    if (YAML_FLOAT.test(plain)) {
      const f = goParseFloat(plain);
      if (f !== undefined) return { tag: 'float', value: f };
    }
  }
  return { tag: 'str', value: s };
}

/** The resolved tag only (what the emitter needs to decide on quoting). */
export function resolvedTag(s: string): ResolvedTag {
  return resolvePlain(s).tag;
}

/** YAML 1.1 base-60 floats (`1:30`): go-yaml quotes them on output. */
const BASE60 = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
const OLD_BOOLS = new Set(['y', 'Y', 'yes', 'Yes', 'YES', 'on', 'On', 'ON', 'n', 'N', 'no', 'No', 'NO', 'off', 'Off', 'OFF']);

/** go-yaml's `stringv` test: may this string be written as a plain scalar (before layout checks)? */
export function plainResolvesToString(s: string): boolean {
  if (resolvedTag(s) !== 'str') return false;
  if (OLD_BOOLS.has(s)) return false;
  return !(s.includes(':') && BASE60.test(s));
}

/** Turns a resolved value into a tree leaf (`uint` is the caller's problem). */
export function toLeaf(r: Exclude<Resolved, { tag: 'uint' }>): Leaf {
  switch (r.tag) {
    case 'null':
      return nul();
    case 'bool':
      return bool(r.value);
    case 'int':
      return int(r.value);
    case 'float':
      return float(r.value);
    case 'timestamp':
      return time(r.value);
    default:
      return str(r.value);
  }
}
