// Property: random binary files survive plaintext -> encrypt -> decrypt byte for byte. A
// binary file is its raw bytes (emit(load(x)) == x), so decrypt(encrypt(x)) must be x itself:
// empty files, text, text with a BOM or CRLF, NUL bytes, bytes that are not UTF-8, files
// that look like JSON, YAML or an encrypted sops file.
import test from 'ava';
import fc from 'fast-check';
import { decryptBytes, encryptBytes } from '../../src/index.js';
import { anyString, assertRoundTrips, assertSameBytes, invalidUtf8, propertyKeys } from '../helpers/roundtrip.js';

const te = new TextEncoder();

const binaryFile = fc.oneof(
  { weight: 3, arbitrary: fc.uint8Array({ maxLength: 256 }) },
  { weight: 2, arbitrary: anyString(64).map((s) => te.encode(s)) },
  { weight: 2, arbitrary: invalidUtf8(64) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '',
      '\n',
      '\ufeffBOM first',
      'line\r\nline\r\n',
      '\u0000\u0001\u0002',
      '{"data": "ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:str]"}',
      'a: 1\nsops:\n    version: 3\n',
      'KEY=value\nsops_version=3\n',
    ).map((s) => te.encode(s)),
  },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 4096, maxLength: 70_000 }) },
);

test('property: binary files survive encrypt -> decrypt byte for byte (seed 1618)', async (t) => {
  await assertRoundTrips('binary', binaryFile, 1618);
  t.pass();
});

test('every byte value (all together, reversed) and single special bytes survive', async (t) => {
  const { recipient, ctx } = await propertyKeys();
  const all = new Uint8Array(256).map((_, i) => i);
  const singles = [0x00, 0x0a, 0x0d, 0x22, 0x5c, 0x7f, 0x80, 0xc0, 0xef, 0xfe, 0xff].map((b) => new Uint8Array([b]));
  for (const x of [all, all.slice().reverse(), new Uint8Array([0xef, 0xbb, 0xbf]), ...singles]) {
    const enc = await encryptBytes(x, { inputType: 'binary', age: [recipient], keyContext: ctx });
    assertSameBytes(await decryptBytes(enc, { inputType: 'binary', keyContext: ctx }), x, `bytes ${Buffer.from(x.subarray(0, 4)).toString('hex')}...`);
  }
  t.pass();
});
