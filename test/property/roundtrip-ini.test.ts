// Property: random INI files survive plaintext -> encrypt -> decrypt byte for byte
// (decrypt(encrypt(x)) == emit(load(x))), with the MAC verified, the data unchanged and the
// decrypted text reading back to the same data (see test/helpers/roundtrip.ts).
// INI as sops reads it (gopkg.in/ini.v1): keys before the first section (DEFAULT), sections
// (repeated ones too), `=` and `:` delimiters, `;` and `#` comments (own lines and after
// values), quoted, back-ticked and triple-quoted values, continuation lines, duplicate keys,
// blank lines, CRLF, unicode and bytes that are not UTF-8.
import test from 'ava';
import fc from 'fast-check';
import { storeFor } from '../../src/index.js';
import type { MapNode, Node } from '../../src/tree/types.js';
import { ODD_STRINGS, anyString, assertRoundTrips, checkRoundTrip, invalidUtf8 } from '../helpers/roundtrip.js';

const te = new TextEncoder();

/** Key names: no newline, no delimiter, not starting with a comment or section marker. */
const keyName = fc
  .oneof(
    fc.constantFrom('key', 'Key', 'key with spaces', 'k"q', "k'q", 'ü', '🎉', '1', '01', 'dup', 'x_unencrypted', 'a.b', 'a-b', '-', 'k`t'),
    anyString(8),
  )
  .map((k) => k.replace(/[\n\r=:]/g, '_').trim())
  .filter((k) => k.length > 0 && !/^[#;[]/.test(k) && !k.startsWith('"') && !k.startsWith('`'));

/** A key written with a quoting that allows delimiters: back-ticks or double quotes. */
const quotedKey = fc.constantFrom('`a=b`', '`a:b`', '"a=b"', '"with `tick"', '"""tri"""');

/** Section names: no newline, no `]`, not `sops` (the metadata section). */
const sectionName = fc
  .oneof(fc.constantFrom('section', 'Section Two', 'ü', 'a.b', 'DEFAULT', 'default', 'dup', 'x_unencrypted', 'sub section'), anyString(8))
  .map((n) => n.replace(/[\n\r\]]/g, '_'))
  .filter((n) => n.trim().length > 0 && n !== 'sops');

const plainValue = fc
  .oneof(
    fc.constantFrom(...ODD_STRINGS.filter((s) => !s.includes('\n')), 'a=b', 'a:b', 'x ; inline comment', 'x # inline comment', '"dq"', "'sq'", 'ends\\'),
    anyString(12),
  )
  .map((v) => v.replace(/[\n\r]/g, ' '));

/** Value text after the delimiter, in one of the forms ini.v1 reads. */
const valueText = fc.oneof(
  { weight: 4, arbitrary: plainValue },
  { weight: 1, arbitrary: plainValue.map((v) => `"${v.replaceAll('"', '')}"`) },
  { weight: 1, arbitrary: plainValue.map((v) => '`' + v.replaceAll('`', '') + '`') },
  { weight: 1, arbitrary: fc.array(plainValue.map((v) => v.replaceAll('"""', '')), { minLength: 1, maxLength: 3 }).map((ls) => '"""' + ls.join('\n') + '"""') },
  { weight: 1, arbitrary: fc.tuple(plainValue, plainValue).map(([a, b]) => `${a.replace(/\\$/, '')}\\\n${b}`) },
);

const delimiter = fc.constantFrom('=', ' = ', ':', ' : ', '= ', '\t=\t');

const keyLine = fc
  .tuple(fc.oneof({ weight: 5, arbitrary: keyName }, { weight: 1, arbitrary: quotedKey }), delimiter, fc.oneof({ weight: 6, arbitrary: valueText.map((v) => te.encode(v)) }, { weight: 1, arbitrary: invalidUtf8(6) }), fc.constantFrom('', '  ', '\t'))
  .map(([k, d, v, indent]) => Buffer.concat([Buffer.from(indent + k + d), Buffer.from(v)]));

// The text after the markers does not start with the other marker: ini.v1 (and sops) would
// write `;#` back as `# `, which reads back as an empty comment.
const commentLine = fc
  .tuple(fc.constantFrom(';', '#', '; ', '# ', ';;', '##'), fc.oneof(fc.constantFrom('', 'comment', 'key = value', '[not a section]', 'ü 🎉'), anyString(10)))
  .map(([m, c]) => Buffer.from(m + c.replace(/[\n\r]/g, ' ').replace(/^[\s#;]+/, '')));

const sectionLine = fc
  .tuple(sectionName, fc.constantFrom('', ' ; section comment', ' # c'))
  .map(([n, c]) => Buffer.from(`[${n}]${c}`));

const line = fc.oneof(
  { weight: 5, arbitrary: keyLine },
  { weight: 2, arbitrary: commentLine },
  { weight: 2, arbitrary: sectionLine },
  { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
);

/**
 * Whether INI quoting can write every key and value of a file back. It cannot write a key with a
 * back-tick that ends in `"` or holds `"""`, nor a value with a line break, `"""` and a
 * back-tick (back-ticks end at a back-tick, triple quotes at `"""`); such files cannot survive
 * any writer and are left out.
 */
function writable(x: Uint8Array): boolean {
  let docs: MapNode[];
  try {
    docs = storeFor('ini').load(x).documents;
  } catch {
    return true; // refused plaintexts are part of the property
  }
  const text = (n: Node) => (n.kind === 'str' ? n.value : n.kind === 'bytes' ? Buffer.from(n.value).toString('latin1') : '');
  return docs[0]!.items.every(
    (sec) =>
      sec.kind !== 'entry' ||
      sec.value.kind !== 'map' ||
      sec.value.items.every((kv) => {
        if (kv.kind !== 'entry') return true;
        const v = text(kv.value);
        const badKey = kv.key.includes('`') && (kv.key.endsWith('"') || kv.key.includes('"""'));
        return !badKey && !(v.includes('\n') && v.includes('"""') && v.includes('`'));
      }),
  );
}

const iniFile = fc
  .tuple(fc.array(line, { minLength: 1, maxLength: 10 }), fc.constantFrom('\n', '\r\n'), fc.boolean())
  .map(([lines, nl, finalNewline]) => {
    const parts: Buffer[] = [];
    lines.forEach((l, i) => {
      parts.push(l);
      if (i < lines.length - 1 || finalNewline) parts.push(Buffer.from(nl));
    });
    return new Uint8Array(Buffer.concat(parts));
  })
  .filter(writable);

/** Hand-written edge cases: empty, only comments, bad lines, the reserved section, a BOM. */
const quirks = fc.constantFrom(
  '',
  '; only a comment\n',
  '[sops]\nversion = 3\n',
  '[unclosed\n',
  'no delimiter\n',
  '=no key\n',
  '[]\n',
  '\ufeff[bom]\nk = v\n',
  'top = before any section\n[s]\nk = v\n',
  '[s]\nk = 1\nk = 2\n[s]\nk = 3\n',
  '[s]\nk = """multi\nline\nvalue"""\n',
  '[s]\nk = """unterminated\n',
  '[s]\nk = continued \\\n  on the next line\n',
  '[s]\n- = auto-numbered\n- = again\n',
);

test('property: INI files survive encrypt -> decrypt byte for byte (seed 2718)', async (t) => {
  await assertRoundTrips('ini', iniFile, 2718);
  t.pass();
});

test('INI quirks (empty, bad lines, [sops], multi-line and continued values) survive or are refused alike', async (t) => {
  await assertRoundTrips('ini', quirks, 1, 14 * 3);
  t.pass();
});

test('every odd one-line string survives as an encrypted and as a clear INI value', async (t) => {
  const vals = ODD_STRINGS.filter((s) => !/[\n\r]/.test(s));
  const body = (p: string) => vals.map((s, i) => `${p}${i} = \`${s.replaceAll('`', "'")}\``).join('\n');
  await checkRoundTrip('ini', te.encode(`[enc]\n${body('s')}\n[clear_unencrypted]\n${body('c')}\n`), true);
  t.pass();
});
