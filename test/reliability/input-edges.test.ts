// Hostile input at the edges, through the real CLI: huge values (32 MB string, 32 MB binary),
// 100,000 keys, NUL and invalid UTF-8, CRLF, BOM, a YAML alias bomb, duplicate keys, numbers at
// the int64/float64 edges. Each case either round-trips as sops does (the expected output is
// what sops writes: go-yaml / encoding/json normalise line ends, JSON invalid UTF-8 becomes
// U+FFFD, flat formats keep bytes) or fails cleanly with sops's exit code and nothing written.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { ageWorkspace, assertCleanFailure, type AgeWorkspace } from '../helpers/cli.js';

async function roundTrip(t: import('ava').ExecutionContext, ws: AgeWorkspace, name: string, input: string | Uint8Array): Promise<Buffer> {
  ws.write(name, input);
  const e = await ws.run(['encrypt', '--age', ws.key.recipient, '-i', name]);
  t.is(e.code, 0, `encrypt ${name}: ${e.stderr.slice(0, 500)}`);
  const d = await ws.run(['decrypt', name]);
  t.is(d.code, 0, `decrypt ${name}: ${d.stderr.slice(0, 500)}`);
  return d.stdout;
}

const b = (s: string | Uint8Array): Buffer => Buffer.from(s as string, 'latin1');

test.serial('a 32 MB string value and a 32 MB binary file round-trip', async (t) => {
  const ws = ageWorkspace(t);
  const big = 'v'.repeat(32 * 1024 * 1024);
  t.true((await roundTrip(t, ws, 'big.yaml', `k: ${big}\n`)).equals(Buffer.from(`k: ${big}\n`)), '32 MB YAML value');
  const bin = randomBytes(32 * 1024 * 1024);
  t.true((await roundTrip(t, ws, 'big.bin', bin)).equals(bin), '32 MB binary file');
});

test('100,000 keys round-trip byte for byte', async (t) => {
  const ws = ageWorkspace(t);
  const lines = Array.from({ length: 100_000 }, (_, i) => `\t"key${i}": "value${i}"`);
  const src = `{\n${lines.join(',\n')}\n}\n`;
  t.is((await roundTrip(t, ws, 'many.json', src)).toString(), src);
});

test('line ends: CRLF is normalised by the JSON, YAML and INI writers (as Go\'s), kept by dotenv', async (t) => {
  const ws = ageWorkspace(t);
  t.is((await roundTrip(t, ws, 'c.json', '{"a": "b",\r\n "c": 1}\r\n')).toString(), '{\n\t"a": "b",\n\t"c": 1\n}\n');
  t.is((await roundTrip(t, ws, 'c.yaml', 'a: b\r\nc: 1\r\n')).toString(), 'a: b\nc: 1\n');
  t.is((await roundTrip(t, ws, 'c.ini', '[s]\r\na = b\r\n')).toString(), '[s]\na = b\n');
  // sops's dotenv splits on \n only: the \r is part of each value, and comes back
  t.is((await roundTrip(t, ws, 'c.env', 'A=b\r\nC=1\r\n')).toString(), 'A=b\r\nC=1\r\n');
});

test('UTF-8 BOM: dropped by YAML (go-yaml), part of the first key in dotenv, a JSON syntax error (encoding/json)', async (t) => {
  const ws = ageWorkspace(t);
  t.is((await roundTrip(t, ws, 'b.yaml', '\ufeffa: b\n')).toString(), 'a: b\n');
  t.is((await roundTrip(t, ws, 'b.env', '\ufeffA=b\n')).toString(), '\ufeffA=b\n');
  ws.write('b.json', '\ufeff{"a": "secretvalue"}');
  assertCleanFailure(t, await ws.run(['encrypt', '--age', ws.key.recipient, '-i', 'b.json']), { code: 2, message: /invalid character .* looking for beginning of value \(line 1, column 1\)/, secrets: ['secretvalue'] });
  t.is(ws.read('b.json'), '\ufeff{"a": "secretvalue"}', 'untouched');
});

test('NUL and invalid UTF-8: escaped NULs round-trip; invalid bytes are U+FFFD in JSON, kept in dotenv, refused in YAML', async (t) => {
  const ws = ageWorkspace(t);
  t.is((await roundTrip(t, ws, 'n.json', '{"a\\u0000": "x\\u0000y"}')).toString(), '{\n\t"a\\u0000": "x\\u0000y"\n}\n');
  t.is((await roundTrip(t, ws, 'n.yaml', 'a: "x\\0y"\n')).toString(), 'a: "x\\0y"\n');
  t.is((await roundTrip(t, ws, 'i.json', b('{"a": "x\xffy"}'))).toString(), '{\n\t"a": "x\ufffdy"\n}\n');
  t.true((await roundTrip(t, ws, 'i.env', b('A=x\xffy\n'))).equals(b('A=x\xffy\n')));
  ws.write('i.yaml', b('a: secretx\xffy\n'));
  assertCleanFailure(t, await ws.run(['encrypt', '--age', ws.key.recipient, '-i', 'i.yaml']), { code: 2, message: /not valid UTF-8/, secrets: ['secretx'] });
  ws.write('z.yaml', b('a: secret\x00y\n'));
  const r = await ws.run(['encrypt', '--age', ws.key.recipient, '-i', 'z.yaml']);
  t.not(r.code, 0, 'a raw NUL in YAML is refused');
  assertCleanFailure(t, r, { code: 2, secrets: ['secret\x00y'] });
});

test('YAML alias bomb and duplicate keys: clean failures, quickly', async (t) => {
  const ws = ageWorkspace(t);
  const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++) levels.push(`${'abcdefghi'[i]}: &${'abcdefghi'[i]} [${Array(9).fill(`*${'abcdefghi'[i - 1]}`).join(',')}]`);
  ws.write('bomb.yaml', levels.join('\n') + '\n');
  const start = Date.now();
  assertCleanFailure(t, await ws.run(['encrypt', '--age', ws.key.recipient, '-i', 'bomb.yaml']), { code: 2, message: /excessive aliasing|expands to more than/ });
  t.true(Date.now() - start < 20_000, 'no blow-up');
  ws.write('dup.yaml', 'a: secret1\na: secret2\n');
  assertCleanFailure(t, await ws.run(['encrypt', '--age', ws.key.recipient, '-i', 'dup.yaml']), { code: 2, message: /mapping key "a" already defined at line 1/, secrets: ['secret1', 'secret2'] });
  // sops's JSON store keeps duplicate keys as separate items
  t.is((await roundTrip(t, ws, 'dup.json', '{"a": 1, "a": 2}')).toString(), '{\n\t"a": 1,\n\t"a": 2\n}\n');
});

test('numbers at the int64 / float64 edges', async (t) => {
  const ws = ageWorkspace(t);
  const ints = 'a: 9223372036854775807\nb: -9223372036854775808\n';
  t.is((await roundTrip(t, ws, 'i.yaml', ints)).toString(), ints);
  // beyond int64: go-yaml decodes a uint64, which sops's tree cannot hold
  ws.write('u.yaml', 'a: 9223372036854775808\n');
  assertCleanFailure(t, await ws.run(['encrypt', '--age', ws.key.recipient, '-i', 'u.yaml']), { code: 2, message: /larger than 2\^63-1/ });
  // JSON: beyond int64 is a float64 (encoding/json Number.Float64), printed as Go prints it
  t.is(
    (await roundTrip(t, ws, 'f.json', '{"a": 9223372036854775808, "b": 1.7976931348623157e308, "c": 5e-324, "d": -9223372036854775808}')).toString(),
    '{\n\t"a": 9223372036854776000,\n\t"b": 1.7976931348623157e+308,\n\t"c": 5e-324,\n\t"d": -9223372036854775808\n}\n',
  );
  ws.write('o.json', '{"a": 1e309}');
  assertCleanFailure(t, await ws.run(['encrypt', '--age', ws.key.recipient, '-i', 'o.json']), { code: 2, message: /value out of range/ });
  // go-yaml: 1e309 does not parse as a float64, so it is a string; .inf is +Inf
  t.is((await roundTrip(t, ws, 'o.yaml', 'a: 1e309\nb: .inf\nc: -.inf\nd: .nan\n')).toString(), 'a: 1e309\nb: .inf\nc: -.inf\nd: .nan\n');
});
