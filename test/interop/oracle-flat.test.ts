// dotenv, INI and binary files tsops encrypts (age) are decrypted by the real sops 3.9.2 engine,
// MAC verified: dotenv and (UTF-8) binary plaintext is compared byte for byte with what tsops
// decrypts, INI is verify-only (the oracle's Lambda cannot return INI plaintext: exit 0 means
// sops decrypted the file and the MAC matched). Non-UTF-8 plaintext travels through a JSON
// string in the oracle, so each invalid byte comes back as U+FFFD.
import { decrypt, decryptBytes, encryptBytes, storeFor } from '../../src/index.js';
import { ageContext, assertOracleOk, encryptAndOracle, sharedAgeKey } from '../helpers/interop.js';
import { runOracle } from '../helpers/oracle.js';
import { sharedTest } from '../helpers/shared.js';

const te = new TextEncoder();
const td = new TextDecoder();

/** emit(load(x)) of a plaintext: what tsops and sops print for it. */
const canonical = (format: 'dotenv' | 'ini', text: string | Uint8Array) =>
  storeFor(format).emit({ documents: storeFor(format).load(typeof text === 'string' ? te.encode(text) : text, 'plain').documents });

const DOTENV = [
  '# head comment',
  'PLAIN=hello',
  'EMPTY=',
  'SPACES= lead and trail ',
  'KEY WITH SPACES =value',
  'EQUALS=a=b=c',
  'HASH=#not a comment',
  'QUOTED="kept as is"',
  "SINGLE='kept too'",
  'MULTI=line one\\nline two\\n',
  'BACKSLASH=C:\\path',
  'UNICODE=ünïcödé 🎉 日本語',
  'BOM=\ufeffbom',
  'NUMBERISH=123',
  'BOOLISH=true',
  '#',
  '# a comment between values',
  'CLEAR_unencrypted=visible in the file',
  'CLEAR_MULTI_unencrypted=a\\nb',
  '=empty key',
  'DUP=1',
  'DUP=2',
  '#trailing comment',
  '',
].join('\n');

sharedTest('dotenv: comments, empty/multi-line/unicode values, odd keys, duplicates, clear values: sops 3.9.2 prints the same bytes', async (t) => {
  const { enc, oracle, ctx } = await encryptAndOracle(DOTENV, 'dotenv', await sharedAgeKey());
  assertOracleOk(t, oracle);
  const expected = td.decode(canonical('dotenv', DOTENV));
  t.is(expected, DOTENV, 'the plaintext is already in canonical form');
  t.is(oracle.stdout, expected);
  t.is(await decrypt(enc, { inputType: 'dotenv', keyContext: ctx }), expected);
  t.regex(enc, /^CLEAR_unencrypted=visible in the file$/m);
  t.regex(enc, /^#ENC\[AES256_GCM,.*,type:comment\]$/m, 'comments are encrypted');
  t.false(enc.includes('a comment between values'));
});

sharedTest('dotenv: a value that is not UTF-8: the MAC verifies; the oracle shows each bad byte as U+FFFD', async (t) => {
  const plain = Buffer.concat([Buffer.from('A=ok\nBIN=x'), Buffer.from([0xff, 0xfe]), Buffer.from('y\nC_unencrypted=clear\n')]);
  const key = await sharedAgeKey();
  const ctx = ageContext(key.identity);
  const enc = await encryptBytes(plain, { inputType: 'dotenv', age: [key.recipient], keyContext: ctx });
  const oracle = await runOracle(enc, { format: 'dotenv', ageKey: key.identity });
  assertOracleOk(t, oracle);
  t.is(oracle.stdout, 'A=ok\nBIN=x\ufffd\ufffdy\nC_unencrypted=clear\n');
  t.deepEqual(Buffer.from(await decryptBytes(enc, { inputType: 'dotenv', keyContext: ctx })), plain);
});

const DOTENV_SEL = '# sops:enc\nTOKEN=abc\nPLAIN=visible\n# public\nURL=http://x\nPASSWORD=hunter2\n';

const dotenvRules: Array<[string, Record<string, unknown>, string[]]> = [
  ['encrypted_regex', { rules: { encrypted_regex: '^PASS' } }, ['PASSWORD']],
  ['unencrypted_regex', { rules: { unencrypted_regex: '^(PLAIN|URL)$' } }, ['TOKEN', 'PASSWORD']],
  ['encrypted_comment_regex', { rules: { encrypted_comment_regex: 'sops:enc' } }, ['TOKEN']],
  ['unencrypted_comment_regex + mac_only_encrypted', { macOnlyEncrypted: true, rules: { unencrypted_comment_regex: 'public' } }, ['TOKEN', 'PLAIN', 'PASSWORD']],
];

for (const [name, opts, encrypted] of dotenvRules) {
  sharedTest(`dotenv: selection ${name}: sops 3.9.2 prints the same bytes`, async (t) => {
    const { enc, oracle } = await encryptAndOracle(DOTENV_SEL, 'dotenv', await sharedAgeKey(), opts);
    for (const k of ['TOKEN', 'PLAIN', 'URL', 'PASSWORD']) {
      t.is(new RegExp(`^${k}=ENC\\[`, 'm').test(enc), encrypted.includes(k), `${k} encrypted: ${encrypted.includes(k)}`);
    }
    assertOracleOk(t, oracle);
    t.is(oracle.stdout, DOTENV_SEL);
  });
}

const INI = [
  '; head comment of DEFAULT',
  'top = before any section',
  '[database]',
  '; comment above a key',
  'host = db.example.com',
  'port: 5432',
  'empty =',
  'quoted = "  spaced  "',
  'ticked = `a # b ; c`',
  'multi = """line one',
  'line two"""',
  'unicode = ünïcödé 🎉',
  'dup = first',
  'dup = second',
  '- = auto-numbered one',
  '- = auto-numbered two',
  '`#hash key` = key starting with #',
  '"""k"`t""" = a key with " and `',
  '[Section With Spaces] ; comment after a section',
  'a = 1',
  '[clear_unencrypted]',
  'plain = visible',
  "single = `'single quoted'`",
  'double = `"double quoted"`',
  'backslash = `ends with \\`',
  'spaced = " x "',
  'triple = `line one',
  'has """ inside`',
  '',
].join('\n');

sharedTest('ini: sections, DEFAULT keys, comments, quoting, multi-line, duplicates, auto-numbered keys, clear values: sops 3.9.2 verifies the MAC', async (t) => {
  const { enc, oracle, ctx } = await encryptAndOracle(INI, 'ini', await sharedAgeKey());
  assertOracleOk(t, oracle);
  t.regex(oracle.stderr, /verified its MAC/);
  t.is(await decrypt(enc, { inputType: 'ini', keyContext: ctx }), td.decode(canonical('ini', INI)));
  t.regex(enc, /^`#1` += ENC\[/m, 'an auto-numbered key is written so that it reads back as a key');
  t.regex(enc, /^single += `'single quoted'`$/m, 'a clear quoted value keeps its quotes');
  t.regex(enc, /^backslash += `ends with \\`$/m, 'a clear value ending in a backslash is not a continuation');
  t.regex(enc, /^"""k"`t""" += ENC\[/m, 'a key with " and ` goes in triple quotes');
  t.regex(enc, /^triple += `line one\nhas """ inside`$/m, 'a clear multi-line value holding """ goes in back-ticks');
});

sharedTest('ini: a repeated section is a known version difference: sops 3.9.2 reads it otherwise (MAC mismatch), tsops as sops-format.md 8.5', async (t) => {
  const plain = '[s]\na = 1\n[t]\nb = 2\n[s]\nc = 3\n';
  const { enc, oracle, ctx } = await encryptAndOracle(plain, 'ini', await sharedAgeKey());
  t.is(oracle.code, 1);
  t.regex(oracle.stderr, /Failed to verify data integrity/);
  t.is(await decrypt(enc, { inputType: 'ini', keyContext: ctx }), '[s]\na = 1\n\n[t]\nb = 2\n\n[s]\nc = 3\n');
});

for (const [name, opts] of [
  ['encrypted_regex', { rules: { encrypted_regex: '^(host|a)$' } }],
  ['unencrypted_suffix + mac_only_encrypted', { macOnlyEncrypted: true, rules: { unencrypted_suffix: '_plain' } }],
] as const) {
  sharedTest(`ini: selection ${name}: sops 3.9.2 verifies the MAC`, async (t) => {
    const plain = '[s]\nhost = h\nport = 1\nport_plain = 2\n[t_plain]\na = 3\n';
    const { enc, oracle, ctx } = await encryptAndOracle(plain, 'ini', await sharedAgeKey(), opts);
    assertOracleOk(t, oracle);
    t.is(await decrypt(enc, { inputType: 'ini', keyContext: ctx }), td.decode(canonical('ini', plain)));
    t.regex(enc, /^host += ENC\[/m);
  });
}

const BINARIES: Array<[string, Uint8Array]> = [
  ['UTF-8 text with unicode, CRLF and a BOM', te.encode('\ufeffhello\r\nwörld 🎉\n日本語\n')],
  ['NUL and control bytes', new Uint8Array([0, 1, 2, 0x1b, 0x7f, 0x0a, 0x41, 0])],
  ['text that looks like JSON with a sops key', te.encode('{"data": "x", "sops": {"version": "3"}}\n')],
  ['64 KiB of text', te.encode('0123456789abcdef\n'.repeat(4096))],
];

for (const [name, data] of BINARIES) {
  sharedTest(`binary: ${name}: sops 3.9.2 returns the same bytes`, async (t) => {
    const key = await sharedAgeKey();
    const { enc, oracle, ctx } = await encryptAndOracle(data, 'binary', key);
    assertOracleOk(t, oracle);
    t.deepEqual(Buffer.from(oracle.stdout, 'utf8'), Buffer.from(data));
    t.deepEqual(Buffer.from(await decryptBytes(enc, { inputType: 'binary', keyContext: ctx })), Buffer.from(data));
    t.regex(enc, /^\t"data": "ENC\[AES256_GCM,.*,type:str\]",$/m);
  });
}

sharedTest('binary: bytes that are not UTF-8: the MAC verifies; the oracle shows each bad byte as U+FFFD', async (t) => {
  const data = new Uint8Array([0xff, 0xfe, 0x41, 0x80, 0x0a, 0xc0, 0x42, 0xf5]);
  const { enc, oracle, ctx } = await encryptAndOracle(data, 'binary', await sharedAgeKey());
  assertOracleOk(t, oracle);
  t.is(oracle.stdout, '\ufffd\ufffdA\ufffd\n\ufffdB\ufffd');
  t.deepEqual(Buffer.from(await decryptBytes(enc, { inputType: 'binary', keyContext: ctx })), Buffer.from(data));
});
