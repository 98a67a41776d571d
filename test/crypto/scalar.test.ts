import test from 'ava';
import { canonicalTime, formatGoFloat, lastModifiedAd, parseGoBool, parseGoFloat, parseGoInt } from '../../src/crypto/scalar.js';
import { combine, gfMul, split } from '../../src/crypto/shamir.js';

test('floats format like Go FormatFloat(x, f, -1, 64)', (t) => {
  const cases: Array<[number, string]> = [
    [1, '1'], [0.5, '0.5'], [1234.56789, '1234.56789'], [1e21, '1000000000000000000000'], [1.5e-7, '0.00000015'],
    [-0, '-0'], [0, '0'], [NaN, 'NaN'], [Infinity, '+Inf'], [-Infinity, '-Inf'], [123456789012345680000, '123456789012345680000'],
    [0.1 + 0.2, '0.30000000000000004'], [-2.5, '-2.5'], [5e-324, '0.' + '0'.repeat(323) + '5'], [1234568000, '1234568000'],
  ];
  for (const [x, s] of cases) t.is(formatGoFloat(x), s, String(x));
});

test('Go parsers', (t) => {
  t.is(parseGoInt('-42'), -42n);
  t.is(parseGoInt('+7'), 7n);
  t.is(parseGoInt('9223372036854775807'), 9223372036854775807n);
  t.is(parseGoInt('9223372036854775808'), undefined);
  t.is(parseGoInt('0x10'), undefined);
  t.is(parseGoFloat('1e3'), 1000);
  t.is(parseGoFloat('-Inf'), -Infinity);
  t.true(Number.isNaN(parseGoFloat('NaN')!));
  t.is(parseGoFloat('0x1p-2'), 0.25);
  t.is(parseGoFloat('abc'), undefined);
  t.is(parseGoBool('True'), true);
  t.is(parseGoBool('f'), false);
  t.is(parseGoBool('yes'), undefined);
});

test('timestamps as Go RFC3339Nano', (t) => {
  t.is(canonicalTime('2024-01-01T00:00:00Z'), '2024-01-01T00:00:00Z');
  t.is(canonicalTime('2024-01-01T10:00:00.500+02:00'), '2024-01-01T10:00:00.5+02:00');
  t.is(canonicalTime('2024-01-01T10:00:00.000+00:00'), '2024-01-01T10:00:00Z');
  t.is(canonicalTime('2024-13-01T00:00:00Z'), undefined);
  t.is(lastModifiedAd('2024-01-01T00:00:00.123456Z'), '2024-01-01T00:00:00Z');
  t.is(lastModifiedAd('2024-01-01T01:00:00+01:00'), '2024-01-01T01:00:00+01:00');
});

test('Shamir over GF(2^8)', (t) => {
  t.is(gfMul(3, 7), 9);
  const secret = new Uint8Array(32).map((_, i) => i * 7);
  const shares = split(secret, 3, 2);
  t.is(shares[0]!.length, 33);
  t.deepEqual(shares.map((s) => s[32]), [1, 2, 3]);
  t.deepEqual(combine([shares[0]!, shares[2]!]), secret);
  t.deepEqual(combine([shares[2]!, shares[1]!]), secret);
  t.deepEqual(combine(shares), secret);
  const s3 = split(secret, 3, 3);
  t.deepEqual(combine(s3), secret);
  t.notDeepEqual(combine([s3[0]!, s3[1]!]), secret);
});
