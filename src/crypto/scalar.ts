/**
 * Go-compatible scalar text: the bytes sops encrypts and hashes for each leaf type, and the
 * parsers Go applies when it decrypts them (`strconv.Atoi`, `ParseFloat`, `ParseBool`,
 * `time.Time.UnmarshalText`).
 */
import type { Leaf, TypeTag } from '../tree/types.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * `strconv.FormatFloat(x, 'f', -1, 64)`: shortest round-trip digits, never an exponent.
 * `1e21` -> `1000000000000000000000`, `1.5e-7` -> `0.00000015`, `-0` -> `-0`.
 */
export function formatGoFloat(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return '+Inf';
  if (x === -Infinity) return '-Inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  // where JS writes fixed notation it writes the same shortest digits
  const abs = Math.abs(x);
  if (abs >= 1e-6 && abs < 1e21) return String(x);
  const sign = x < 0 ? '-' : '';
  const [mant, expText] = Math.abs(x).toExponential().split('e');
  const digits = mant!.replace('.', '');
  const exp = Number(expText);
  let out: string;
  if (exp >= digits.length - 1) out = digits + '0'.repeat(exp - (digits.length - 1));
  else if (exp < 0) out = '0.' + '0'.repeat(-exp - 1) + digits;
  else out = digits.slice(0, exp + 1) + '.' + digits.slice(exp + 1);
  return sign + out;
}

const utf8 = new TextEncoder();
// ignoreBOM: a value that starts with U+FEFF keeps it (the default decoder would drop it and break the MAC).
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function encodeUtf8(s: string): Uint8Array {
  return utf8.encode(s);
}

/** Decodes UTF-8, or returns undefined when the bytes are not valid UTF-8. */
export function decodeUtf8Strict(b: Uint8Array): string | undefined {
  try {
    return strictUtf8.decode(b);
  } catch {
    return undefined;
  }
}

/**
 * The canonical bytes of a leaf: what sops encrypts and feeds into the MAC.
 * Returns undefined for null (never encrypted, never hashed).
 */
export function leafBytes(leaf: Leaf): Uint8Array | undefined {
  switch (leaf.kind) {
    case 'str':
      return utf8.encode(leaf.value);
    case 'bytes':
      return leaf.value;
    case 'int':
      return utf8.encode(leaf.value.toString());
    case 'float':
      return utf8.encode(formatGoFloat(leaf.value));
    case 'bool':
      return utf8.encode(leaf.value ? 'True' : 'False');
    case 'time':
      return utf8.encode(leaf.value);
    case 'null':
      return undefined;
  }
}

/** The `type:` tag a leaf is encrypted under. Bytes are strings to sops v3. */
export function typeTagOf(leaf: Exclude<Leaf, { kind: 'null' }>): TypeTag {
  return leaf.kind === 'bytes' ? 'str' : leaf.kind;
}

/** Go `strconv.Atoi` on a 64-bit platform: optional sign, decimal digits, int64 range. */
export function parseGoInt(text: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const v = BigInt(text);
  return v < INT64_MIN || v > INT64_MAX ? undefined : v;
}

/**
 * Go `strconv.ParseFloat(s, 64)` for the forms that occur in practice: decimal with optional
 * exponent, `inf`/`infinity`/`nan` in any case with optional sign, hex floats, and `_`
 * separators (only allowed between digits, as Go requires for base-prefixed literals).
 */
export function parseGoFloat(text: string): number | undefined {
  const t = text;
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(t)) return NaN;
  if (/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(t)) return Number(t);
  const hex = /^([+-]?)0[xX]([0-9a-fA-F_]*)(?:\.([0-9a-fA-F_]*))?[pP]([+-]?[0-9_]+)$/.exec(t);
  if (hex) {
    const intPart = hex[2]!.replace(/_/g, '');
    const frac = (hex[3] ?? '').replace(/_/g, '');
    if (!intPart && !frac) return undefined;
    let mant = 0;
    for (const ch of intPart + frac) mant = mant * 16 + parseInt(ch, 16);
    const v = mant * 2 ** (Number(hex[4]!.replace(/_/g, '')) - 4 * frac.length);
    return hex[1] === '-' ? -v : v;
  }
  return undefined;
}

/** Go `strconv.ParseBool`. */
export function parseGoBool(text: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(text)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(text)) return false;
  return undefined;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parses RFC 3339 (fraction optional) and formats it as Go's `time.RFC3339Nano` does:
 * trailing zeros of the fraction dropped, `Z` for a zero offset, `±hh:mm` otherwise.
 * Returns undefined when the text is not RFC 3339.
 */
export function canonicalTime(text: string): string | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, z, sign, oh, om] = m;
  if (Number(mo) < 1 || Number(mo) > 12 || Number(d) < 1 || Number(d) > 31) return undefined;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return undefined;
  const f = (frac ?? '').replace(/0+$/, '');
  const zone = z || (Number(oh) === 0 && Number(om) === 0) ? 'Z' : `${sign}${oh}:${om}`;
  return `${y}-${mo}-${d}T${h}:${mi}:${s}${f ? '.' + f : ''}${zone}`;
}

/**
 * The MAC's additional data: `lastmodified` parsed as RFC 3339 and formatted with second
 * precision (Go `time.RFC3339`): the fraction is dropped, a zero offset becomes `Z`.
 */
export function lastModifiedAd(text: string): string | undefined {
  const c = canonicalTime(text);
  return c?.replace(/\.\d+(?=Z|[+-])/, '');
}

/** Formats a Date as sops writes timestamps: UTC, second precision, `Z`. */
export function formatTimestamp(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
