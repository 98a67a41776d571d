// Property: random dotenv files survive plaintext -> encrypt -> decrypt byte for byte
// (decrypt(encrypt(x)) == emit(load(x))), with the MAC verified, the data unchanged and the
// decrypted text reading back to the same data (see test/helpers/roundtrip.ts).
// sops's dotenv grammar: lines split on \n, empty lines dropped, `#` lines are comments, the
// rest split at the first `=` (no trimming, no quotes), `\n` in a value is a newline. Files:
// comments, odd keys (spaces, trailing spaces, quotes, unicode, empty, duplicates), values
// with `=`, `#`, quotes, backslashes, CR, unicode and bytes that are not UTF-8, blank lines,
// CRLF, a missing final newline.
import test from 'ava';
import fc from 'fast-check';
import { ODD_STRINGS, anyString, assertRoundTrips, checkRoundTrip, invalidUtf8 } from '../helpers/roundtrip.js';

const te = new TextEncoder();
const bytesOf = (s: string) => te.encode(s);

/** No newline; not starting with `#`; not `sops_` (the metadata prefix); no `=`. */
const key = fc
  .oneof(
    fc.constantFrom('A', 'KEY', 'key ', ' key', 'KEY WITH SPACES', 'k"q', "k'q", 'k#', 'ü', '🎉', '1', '01', 'export A', '', ' ', 'SOPS_UPPER', 'x_unencrypted', 'dup', 'dup ', 'Dup'),
    anyString(10),
  )
  .map((k) => k.replace(/[=\n]/g, '_'))
  .filter((k) => !k.startsWith('#') && !k.startsWith('sops_'));

/** Value segments: text (newlines allowed, they are escaped) or raw bytes (no 0x0a). */
const valuePart = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...ODD_STRINGS, 'a=b=c', '#not a comment', '"quoted"', "'single'", '\\', '\\\\n', '$HOME', '${VAR}', ' ').map(bytesOf) },
  { weight: 3, arbitrary: anyString(16).map(bytesOf) },
  { weight: 1, arbitrary: invalidUtf8(6) },
);

function concat(parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p))));
}

/** A value as it stands in the file: a real newline is written as backslash-n. */
const value = fc.array(valuePart, { maxLength: 3 }).map((ps) => {
  const raw = Buffer.from(concat(ps));
  return new Uint8Array(Buffer.from(raw.toString('latin1').replaceAll('\n', '\\n'), 'latin1'));
});

const commentText = fc.oneof(fc.constantFrom('', ' comment', '#', ' KEY=value', ' ü 🎉', ' trailing '), anyString(12)).map((c) => c.replaceAll('\n', ' '));

const line = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(key, value).map(([k, v]) => concat([bytesOf(k + '='), v])) },
  { weight: 2, arbitrary: commentText.map((c) => bytesOf('#' + c)) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
);

const dotenvFile = fc
  .tuple(fc.array(line, { minLength: 1, maxLength: 8 }), fc.constantFrom('\n', '\r\n'), fc.boolean())
  .map(([lines, nl, finalNewline]) => {
    const out: Uint8Array[] = [];
    lines.forEach((l, i) => {
      out.push(l);
      if (i < lines.length - 1 || finalNewline) out.push(bytesOf(nl));
    });
    return concat(out);
  });

/** Hand-written edge cases: empty file, only comments, a line without `=`, reserved prefix. */
const quirks = fc.constantFrom(
  '',
  '\n\n',
  '# only a comment\n',
  'NO_EQUALS\n',
  'sops_version=3\n',
  'A=1\nA=2\n',
  '=value with empty key\n',
  'A=\n',
  'A=multi\\nline\\n\n',
  'A=ends with backslash\\\n',
  '#\n#\nA=1\n',
  '\ufeffA=bom\n',
);

test('property: dotenv files survive encrypt -> decrypt byte for byte (seed 3141)', async (t) => {
  await assertRoundTrips('dotenv', dotenvFile, 3141);
  t.pass();
});

test('dotenv quirks (empty, only comments, no `=`, reserved prefix, duplicates) survive or are refused alike', async (t) => {
  await assertRoundTrips('dotenv', quirks, 1, 12 * 3);
  t.pass();
});

test('every odd string survives as an encrypted and as a clear dotenv value', async (t) => {
  const lines = ODD_STRINGS.flatMap((s, i) => [`S${i}=${s.replaceAll('\n', '\\n')}`, `C${i}_unencrypted=${s.replaceAll('\n', '\\n')}`]);
  await checkRoundTrip('dotenv', bytesOf(lines.join('\n') + '\n'), true);
  t.pass();
});
