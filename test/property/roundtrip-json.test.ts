// Property: random JSON files survive plaintext -> encrypt -> decrypt byte for byte
// (decrypt(encrypt(x)) == emit(load(x))), with the MAC verified, the data unchanged and the
// decrypted text reading back to the same data (see test/helpers/roundtrip.ts).
// Documents: nested objects and arrays, arrays of objects, every JSON scalar (strings with
// unicode, escapes and control characters, int64 edges, integers beyond int64, floats in
// several spellings, true/false/null), odd and duplicate keys (sops keeps duplicates), and
// several text layouts (compact, spaced, tabs, CRLF, \u escapes).
import test from 'ava';
import fc from 'fast-check';
import { formatGoFloat } from '../../src/crypto/scalar.js';
import { FLOAT_EDGES, INT_EDGES, ODD_KEYS, ODD_STRINGS, anyString, assertRoundTrips, checkRoundTrip } from '../helpers/roundtrip.js';

/** A JSON value as text pieces, so that numbers keep the spelling chosen for them. */
type J =
  | { t: 'str'; v: string }
  | { t: 'num'; text: string }
  | { t: 'lit'; text: 'true' | 'false' | 'null' }
  | { t: 'obj'; items: Array<[string, J]> }
  | { t: 'arr'; items: J[] };

const finite = fc.oneof(fc.constantFrom(...FLOAT_EDGES.filter(Number.isFinite)), fc.double({ noNaN: true, noDefaultInfinity: true }));

/** Float spellings: JS shortest, Go's `f` form, exponent forms, a forced fraction. */
const floatText = fc.tuple(finite, fc.nat(4)).map(([x, how]): string => {
  const neg = x < 0 || Object.is(x, -0) ? '-' : '';
  const a = Math.abs(x);
  switch (how) {
    case 0:
      return neg + String(a);
    case 1:
      return neg + formatGoFloat(a);
    case 2:
      return neg + a.toExponential();
    case 3:
      return neg + a.toExponential().toUpperCase().replace('E+', 'E');
    default:
      return neg + (Number.isInteger(a) && a < 1e21 ? `${a}.0` : String(a));
  }
});

const intText = fc
  .oneof(fc.constantFrom(...INT_EDGES, 2n ** 63n, -(2n ** 63n) - 1n, 10n ** 30n), fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }), fc.integer({ min: -999, max: 999 }).map(BigInt))
  .map(String);

const jstr = fc.oneof(fc.constantFrom(...ODD_STRINGS, '<>&', '\u2028\u2029', '\u007f', '\ud7ff\ue000', 'a/b', '"', '\\'), anyString(16));
const jkey = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...ODD_KEYS.filter((k) => k !== 'sops')) }, { weight: 1, arbitrary: anyString(8) });

const leaf: fc.Arbitrary<J> = fc.oneof(
  { weight: 4, arbitrary: jstr.map((v): J => ({ t: 'str', v })) },
  { weight: 2, arbitrary: intText.map((text): J => ({ t: 'num', text })) },
  { weight: 2, arbitrary: floatText.map((text): J => ({ t: 'num', text })) },
  { weight: 1, arbitrary: fc.constantFrom('true' as const, 'false' as const, 'null' as const).map((text): J => ({ t: 'lit', text })) },
);

const { value } = fc.letrec<{ value: J; obj: J; arr: J }>((tie) => ({
  value: fc.oneof({ maxDepth: 3, depthIdentifier: 'json' }, leaf, leaf, tie('obj'), tie('arr')),
  // Duplicate keys are allowed: sops's JSON store keeps them as separate items.
  obj: fc.array(fc.tuple(fc.oneof(jkey, fc.constant('dup')), tie('value')), { maxLength: 5 }).map((items): J => ({ t: 'obj', items })),
  arr: fc.array(tie('value'), { maxLength: 4 }).map((items): J => ({ t: 'arr', items })),
}));

interface Layout {
  indent: string | null;
  colon: string;
  nl: string;
  escapeNonAscii: boolean;
  escapeSlash: boolean;
}

const layout: fc.Arbitrary<Layout> = fc.record({
  indent: fc.constantFrom(null, '', ' ', '  ', '\t', '    '),
  colon: fc.constantFrom(':', ': ', ' : '),
  nl: fc.constantFrom('\n', '\r\n'),
  escapeNonAscii: fc.boolean(),
  escapeSlash: fc.boolean(),
});

function quote(s: string, l: Layout): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '/' && l.escapeSlash) out += '\\/';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || (l.escapeNonAscii && c > 0x7e)) {
      // Outside the BMP: a surrogate pair of \u escapes.
      for (const unit of c > 0xffff ? [0xd800 + ((c - 0x10000) >> 10), 0xdc00 + ((c - 0x10000) & 0x3ff)] : [c]) {
        out += '\\u' + unit.toString(16).padStart(4, '0');
      }
    } else out += ch;
  }
  return out + '"';
}

function write(v: J, l: Layout, depth: number): string {
  const pad = (d: number) => (l.indent === null ? '' : l.nl + l.indent.repeat(d));
  switch (v.t) {
    case 'str':
      return quote(v.v, l);
    case 'num':
    case 'lit':
      return v.text;
    case 'obj':
      if (v.items.length === 0) return '{}';
      return `{${v.items.map(([k, x]) => pad(depth + 1) + quote(k, l) + l.colon + write(x, l, depth + 1)).join(',')}${pad(depth)}}`;
    case 'arr':
      if (v.items.length === 0) return '[]';
      return `[${v.items.map((x) => pad(depth + 1) + write(x, l, depth + 1)).join(',')}${pad(depth)}]`;
  }
}

/**
 * Known bug, kept out of the random files and asserted on its own in oracle-json.test.ts: a
 * float -0 is written `-0`, which reads back as the int 0: in clear text that breaks the MAC,
 * and a decrypted file reads back with 0 instead of -0. Such floats become `0.0` here.
 */
function noFloatMinusZero(v: J): J {
  if (v.t === 'num') return /^-[0.]*([eE][-+]?\d+)?$/.test(v.text) && /[.eE]/.test(v.text) ? { t: 'num', text: '0.0' } : v;
  if (v.t === 'obj') return { t: 'obj', items: v.items.map(([k, x]) => [k, noFloatMinusZero(x)]) };
  if (v.t === 'arr') return { t: 'arr', items: v.items.map(noFloatMinusZero) };
  return v;
}

/** A file: the top level is an object without a `sops` key, optionally followed by whitespace. */
const jsonFile = fc
  .tuple(fc.array(fc.tuple(jkey, value), { maxLength: 6 }), layout, fc.constantFrom('', '\n', '\n\n', '  '))
  .map(([items, l, trail]) => write(noFloatMinusZero({ t: 'obj', items }), l, 0) + trail);

/** Hand-written edge cases: not objects, trailing garbage, empty, exotic numbers and escapes. */
const quirks = fc.constantFrom(
  '{}',
  '{"a":1}trailing',
  '[1, 2]',
  '"just a string"',
  '',
  '   ',
  '{"a": 1,}',
  '{"sops": 1}',
  '{"a": 1e400}',
  '{"a": -0, "c": 0e0, "d": 1E-7, "e": 100000000000000000000000}',
  '{"a": "\\ud83d\\ude00", "b": "\\u00e9", "c": "\\/"}',
  '{"a": "\\ud800"}',
  '{"a": {"a": {"a": {"a": {"a": []}}}}}',
  '{"a": 1, "a": 2, "a": {"a": 3}}',
  '\ufeff{"bom": true}',
);

test('property: JSON files survive encrypt -> decrypt byte for byte (seed 9001)', async (t) => {
  await assertRoundTrips('json', jsonFile, 9001);
  t.pass();
});

test('JSON quirks (not objects, trailing text, exotic numbers and escapes) survive or are refused alike', async (t) => {
  await assertRoundTrips('json', quirks, 1, 15 * 3);
  t.pass();
});

test('every odd string, as an encrypted and as a clear value, and every odd key survive', async (t) => {
  const strings = Object.fromEntries(ODD_STRINGS.map((s, i) => [`s${i}`, s]));
  const keys = Object.fromEntries(ODD_KEYS.filter((k) => k !== 'sops').map((k, i) => [k, i]));
  const doc = { ...strings, clear_unencrypted: strings, keys, keys_unencrypted: keys, ints_unencrypted: INT_EDGES.map(String) };
  // int64 edges as JSON numbers (JSON.stringify cannot write BigInt)
  const text = JSON.stringify(doc, null, 1).replace(/"ints_unencrypted": \[[^\]]*\]/, `"ints_unencrypted": [${INT_EDGES.join(', ')}]`);
  await checkRoundTrip('json', new TextEncoder().encode(text), true);
  t.pass();
});
