// CLI flags: legacy forms, -i/--output, type conversion, --filename-override, --indent,
// --extract, --decryption-order, --version/--help, unknown flags, and the plaintext checks of
// encrypt (already encrypted 203, empty 92, top-level list 2). Selection rules, recipients
// from the environment and .sops.yaml are in rules.test.ts.
import test from 'ava';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ageWorkspace, assertCleanFailure, listDir, runCli, STACK_LINE } from '../helpers/cli.js';
import { generateKey, hasGpg, makeGnupgHome } from '../helpers/gpg.js';
import { repoRoot } from '../helpers/shared.js';

const PLAIN = 'a: 1\nb: hello\nc_unencrypted: visible\nlist:\n    - 1\n    - two\nm:\n    k: v\n';

test('legacy -e / -d are encrypt / decrypt', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('s.yaml', PLAIN);
  const e = await ws.run(['-e', '--age', ws.key.recipient, 's.yaml']);
  t.is(e.code, 0, e.stderr);
  t.regex(e.out, /^b: ENC\[AES256_GCM,/m);
  t.regex(e.out, /^c_unencrypted: visible$/m);
  ws.write('s.enc.yaml', e.stdout);
  const d = await ws.run(['-d', 's.enc.yaml']);
  t.is(d.code, 0, d.stderr);
  t.is(d.out, PLAIN);
  // flags may come before the legacy flag as well
  const d2 = await ws.run(['--output-type', 'json', '-d', 's.enc.yaml']);
  t.is(d2.code, 0, d2.stderr);
  t.deepEqual(JSON.parse(d2.out), { a: 1, b: 'hello', c_unencrypted: 'visible', list: [1, 'two'], m: { k: 'v' } });
});

test('legacy -e -i / -d -i work in place', async (t) => {
  const ws = ageWorkspace(t);
  const p = ws.write('s.yaml', PLAIN);
  const e = await ws.run(['-e', '-i', '--age', ws.key.recipient, 's.yaml']);
  t.is(e.code, 0, e.stderr);
  t.is(e.out, '');
  t.regex(readFileSync(p, 'utf8'), /^sops:$/m);
  const d = await ws.run(['-d', '-i', 's.yaml']);
  t.is(d.code, 0, d.stderr);
  t.is(d.out, '');
  t.is(readFileSync(p, 'utf8'), PLAIN);
});

test('-i replaces the file atomically (new inode), keeps its mode and leaves no temp file', async (t) => {
  const ws = ageWorkspace(t);
  const p = ws.write('s.yaml', PLAIN);
  chmodSync(p, 0o640);
  const before = statSync(p);
  const e = await ws.run(['encrypt', '-i', '--age', ws.key.recipient, 's.yaml']);
  t.is(e.code, 0, e.stderr);
  t.is(e.out, '');
  const after = statSync(p);
  t.not(after.ino, before.ino, 'the file was rewritten in place instead of renamed over');
  t.is(after.mode & 0o7777, 0o640);
  t.deepEqual(listDir(ws.dir), ['s.yaml']);
  t.regex(readFileSync(p, 'utf8'), /^b: ENC\[/m);

  chmodSync(p, 0o604);
  const d = await ws.run(['decrypt', '--in-place', 's.yaml']);
  t.is(d.code, 0, d.stderr);
  t.is(statSync(p).mode & 0o7777, 0o604);
  t.is(readFileSync(p, 'utf8'), PLAIN);
  t.deepEqual(listDir(ws.dir), ['s.yaml']);
});

test('--output writes the file, prints nothing, keeps the mode of an existing target', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('s.yaml', PLAIN);
  const e = await ws.run(['encrypt', '--age', ws.key.recipient, '--output', 'out.enc.yaml', 's.yaml']);
  t.is(e.code, 0, e.stderr);
  t.is(e.out, '');
  t.is(ws.read('s.yaml'), PLAIN, 'the input is untouched');
  const target = ws.write('plain.yaml', 'old\n');
  chmodSync(target, 0o640);
  const d = await ws.run(['decrypt', '--output', 'plain.yaml', 'out.enc.yaml']);
  t.is(d.code, 0, d.stderr);
  t.is(d.out, '');
  t.is(ws.read('plain.yaml'), PLAIN);
  t.is(statSync(target).mode & 0o7777, 0o640);
  t.deepEqual(listDir(ws.dir), ['out.enc.yaml', 'plain.yaml', 's.yaml']);
});

test('-i with --output is exit 8 and writes nothing', async (t) => {
  const ws = ageWorkspace(t);
  const enc = await ws.encrypted(ws.write('s.yaml', PLAIN));
  ws.write('s.enc.yaml', enc);
  for (const args of [
    ['encrypt', '-i', '--output', 'o.yaml', '--age', ws.key.recipient, 's.yaml'],
    ['decrypt', '-i', '--output', 'o.yaml', 's.enc.yaml'],
  ]) {
    const r = await ws.run(args);
    assertCleanFailure(t, r, { code: 8, message: /--in-place and --output/ });
  }
  t.is(ws.read('s.yaml'), PLAIN);
  t.is(ws.read('s.enc.yaml'), enc);
  t.deepEqual(listDir(ws.dir), ['s.enc.yaml', 's.yaml']);
});

test('-i on standard input is exit 8', async (t) => {
  const ws = ageWorkspace(t);
  const e = await ws.run(['encrypt', '-i', '--input-type', 'yaml', '--age', ws.key.recipient], { input: PLAIN });
  assertCleanFailure(t, e, { code: 8, message: /standard input/ });
  const d = await ws.run(['decrypt', '-i', '--input-type', 'yaml'], { input: PLAIN });
  assertCleanFailure(t, d, { code: 8, message: /standard input/ });
  t.deepEqual(listDir(ws.dir), []);
});

test('--output-type: encrypt YAML to JSON, decrypt JSON to YAML', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('s.yaml', PLAIN);
  const e = await ws.run(['encrypt', '--age', ws.key.recipient, '--output-type', 'json', '--output', 's.enc.json', 's.yaml']);
  t.is(e.code, 0, e.stderr);
  const enc = JSON.parse(ws.read('s.enc.json')) as Record<string, unknown>;
  t.regex(enc.b as string, /^ENC\[AES256_GCM,.*type:str\]$/);
  t.regex(enc.a as string, /type:int\]$/);
  t.is(enc.c_unencrypted, 'visible');
  t.truthy(enc.sops);
  const d = await ws.run(['decrypt', '--output-type', 'yaml', 's.enc.json']);
  t.is(d.code, 0, d.stderr);
  t.is(d.out, PLAIN);
  const j = await ws.run(['decrypt', 's.enc.json']);
  t.is(j.code, 0, j.stderr);
  t.is(j.out, '{\n\t"a": 1,\n\t"b": "hello",\n\t"c_unencrypted": "visible",\n\t"list": [\n\t\t1,\n\t\t"two"\n\t],\n\t"m": {\n\t\t"k": "v"\n\t}\n}\n');
});

test('--output-type: dotenv to JSON and back, INI to YAML and back', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('a.env', 'FOO=bar\nNUM=42\n');
  const e = await ws.run(['encrypt', '--age', ws.key.recipient, '--output-type', 'json', '--output', 'a.enc.json', 'a.env']);
  t.is(e.code, 0, e.stderr);
  const d = await ws.run(['decrypt', '--output-type', 'dotenv', 'a.enc.json']);
  t.is(d.code, 0, d.stderr);
  t.is(d.out, 'FOO=bar\nNUM=42\n');
  const y = await ws.run(['decrypt', '--output-type', 'yaml', 'a.enc.json']);
  t.is(y.out, 'FOO: bar\nNUM: "42"\n', 'dotenv values are strings');

  ws.write('a.ini', '[sec]\nk = v\nn = 3\n');
  const ei = await ws.run(['encrypt', '--age', ws.key.recipient, '--output-type', 'yaml', '--output', 'a.enc.yaml', 'a.ini']);
  t.is(ei.code, 0, ei.stderr);
  t.regex(ws.read('a.enc.yaml'), /^ {4}k: ENC\[/m);
  const di = await ws.run(['decrypt', '--output-type', 'ini', 'a.enc.yaml']);
  t.is(di.code, 0, di.stderr);
  t.is(di.out, '[sec]\nk = v\nn = 3\n');
});

test('--input-type overrides the file name, on encrypt and decrypt', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('data.txt', '{"x": "y"}');
  const e = await ws.run(['encrypt', '--age', ws.key.recipient, '--input-type', 'json', 'data.txt']);
  t.is(e.code, 0, e.stderr);
  const enc = JSON.parse(e.out) as Record<string, unknown>;
  t.regex(enc.x as string, /^ENC\[/);
  ws.write('data.enc.txt', e.stdout);
  const d = await ws.run(['decrypt', '--input-type', 'json', '--output-type', 'yaml', 'data.enc.txt']);
  t.is(d.code, 0, d.stderr);
  t.is(d.out, 'x: "y"\n');
});

test('--filename-override picks the format of standard input', async (t) => {
  const ws = ageWorkspace(t);
  const e = await ws.run(['encrypt', '--age', ws.key.recipient, '--filename-override', 'config.json'], { input: '{"x": 1}' });
  t.is(e.code, 0, e.stderr);
  t.regex((JSON.parse(e.out) as Record<string, string>).x!, /^ENC\[.*type:int\]$/);
  const d = await ws.run(['decrypt', '--filename-override', 'whatever.json'], { input: e.stdout });
  t.is(d.code, 0, d.stderr);
  t.is(d.out, '{\n\t"x": 1\n}\n');
  // without it, standard input is binary
  const b = await ws.run(['encrypt', '--age', ws.key.recipient], { input: '{"x": 1}' });
  t.is(b.code, 0, b.stderr);
  t.regex((JSON.parse(b.out) as Record<string, string>).data!, /^ENC\[/);
});

test('--indent on decrypt and encrypt (YAML and JSON)', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('s.yaml', PLAIN);
  ws.write('s.enc.yaml', await ws.encrypted('s.yaml'));
  const y = await ws.run(['decrypt', '--indent', '2', 's.enc.yaml']);
  t.is(y.code, 0, y.stderr);
  t.is(y.out, PLAIN.replace(/^ {4}/gm, '  '));
  const j = await ws.run(['decrypt', '--indent', '2', '--output-type', 'json', 's.enc.yaml']);
  t.is(j.out, '{\n  "a": 1,\n  "b": "hello",\n  "c_unencrypted": "visible",\n  "list": [\n    1,\n    "two"\n  ],\n  "m": {\n    "k": "v"\n  }\n}\n');
  const e = await ws.run(['encrypt', '--indent', '2', '--age', ws.key.recipient, 's.yaml']);
  t.is(e.code, 0, e.stderr);
  t.regex(e.out, /^ {2}k: ENC\[/m);
  t.regex(e.out, /^ {2}lastmodified: /m);
  t.notRegex(e.out, /^ {4}k: /m);
});

test('.sops.yaml stores: sets the indentation; --indent wins over it', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('s.yaml', PLAIN);
  ws.write('s.enc.yaml', await ws.encrypted('s.yaml'));
  ws.write('.sops.yaml', 'stores:\n  yaml:\n    indent: 2\n  json:\n    indent: 3\n');
  const y = await ws.run(['decrypt', 's.enc.yaml']);
  t.is(y.code, 0, y.stderr);
  t.is(y.out, PLAIN.replace(/^ {4}/gm, '  '));
  const j = await ws.run(['decrypt', '--output-type', 'json', '--extract', '["m"]', 's.enc.yaml']);
  t.is(j.out, '{\n   "k": "v"\n}\n');
  const e = await ws.run(['encrypt', '--age', ws.key.recipient, 's.yaml']);
  t.regex(e.out, /^ {2}k: ENC\[/m);
  const flag = await ws.run(['decrypt', '--indent', '6', 's.enc.yaml']);
  t.regex(flag.out, /^ {6}k: v$/m);
});

test('--extract: a string raw without newline, a number, a map, a list', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('s.yaml', PLAIN);
  ws.write('s.enc.yaml', await ws.encrypted('s.yaml'));
  const ex = async (path: string, extra: string[] = []) => {
    const r = await ws.run(['decrypt', ...extra, '--extract', path, 's.enc.yaml']);
    t.is(r.code, 0, `${path}: ${r.stderr}`);
    return r.out;
  };
  t.is(await ex('["b"]'), 'hello');
  t.is(await ex('["c_unencrypted"]'), 'visible');
  t.is(await ex('["list"][1]'), 'two');
  t.is(await ex('["a"]'), '1\n');
  t.is(await ex('["list"][0]'), '1\n');
  t.is(await ex('["m"]'), 'k: v\n');
  t.is(await ex('["m"]["k"]'), 'v');
  t.is(await ex("['m']['k']"), 'v', 'single quotes work as in sops');
  t.deepEqual(parseYaml(await ex('["list"]')), [1, 'two']);
  t.is(await ex('["m"]', ['--output-type', 'json']), '{\n\t"k": "v"\n}\n');
});

test('--extract of a missing key or an out-of-range index is exit 1; bad syntax is 91', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('s.yaml', PLAIN);
  ws.write('s.enc.yaml', await ws.encrypted('s.yaml'));
  const secrets = ['hello', 'two'];
  assertCleanFailure(t, await ws.run(['decrypt', '--extract', '["nope"]', 's.enc.yaml']), { code: 1, message: /nope/, secrets });
  assertCleanFailure(t, await ws.run(['decrypt', '--extract', '["list"][5]', 's.enc.yaml']), { code: 1, message: /out of range|5/, secrets });
  assertCleanFailure(t, await ws.run(['decrypt', '--extract', '["m"]["k"]["deeper"]', 's.enc.yaml']), { code: 1, secrets });
  for (const bad of ['nope', '["a"', '[x]', '["a"]junk']) {
    assertCleanFailure(t, await ws.run(['decrypt', '--extract', bad, 's.enc.yaml']), { code: 91, message: /path/, secrets });
  }
  t.deepEqual(listDir(ws.dir), ['s.enc.yaml', 's.yaml']);
});

test('--decryption-order / SOPS_DECRYPTION_ORDER: a duplicate is exit 112', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('s.yaml', PLAIN);
  ws.write('s.enc.yaml', await ws.encrypted('s.yaml'));
  assertCleanFailure(t, await ws.run(['decrypt', '--decryption-order', 'age,pgp,age', 's.enc.yaml']), { code: 112, message: /duplicate.*age/ });
  assertCleanFailure(t, await ws.run(['decrypt', 's.enc.yaml'], { extraEnv: { SOPS_DECRYPTION_ORDER: 'pgp,pgp' } }), { code: 112, message: /duplicate.*pgp/ });
  const ok = await ws.run(['decrypt', 's.enc.yaml'], { extraEnv: { SOPS_DECRYPTION_ORDER: 'pgp,age' } });
  t.is(ok.code, 0, ok.stderr);
  t.is(ok.out, PLAIN);
});

test('--decryption-order / SOPS_DECRYPTION_ORDER decide which key kind is tried first', async (t) => {
  if (!hasGpg()) return t.fail('gpg is required');
  const ws = ageWorkspace(t);
  const gnupg = makeGnupgHome(t);
  const fp = generateKey(gnupg, 'tsops order <order@example.test>');
  ws.write('s.yaml', PLAIN);
  const e = await ws.run(['encrypt', '--age', ws.key.recipient, '--pgp', fp, '--output', 's.enc.yaml', 's.yaml'], { extraEnv: { GNUPGHOME: gnupg } });
  t.is(e.code, 0, e.stderr);
  // a gpg wrapper that records each call: whether gpg was asked to decrypt shows the order
  const log = join(ws.home, 'gpg-calls.log');
  const wrapper = join(ws.home, 'gpg-wrapper.sh');
  writeFileSync(wrapper, `#!/bin/sh\necho "$*" >> '${log}'\nexec gpg "$@"\n`, { mode: 0o755 });
  const run = async (extra: string[], env: Record<string, string | undefined>) => {
    writeFileSync(log, '');
    const r = await ws.run(['decrypt', ...extra, 's.enc.yaml'], { extraEnv: { GNUPGHOME: gnupg, SOPS_GPG_EXEC: wrapper, ...env } });
    t.is(r.code, 0, r.stderr);
    t.is(r.out, PLAIN);
    return /(^|\s)(-d|--decrypt)(\s|$)/m.test(readFileSync(log, 'utf8'));
  };
  t.false(await run([], {}), 'default order: age first, gpg not asked to decrypt');
  t.true(await run(['--decryption-order', 'pgp,age'], {}), 'pgp first');
  t.true(await run([], { SOPS_DECRYPTION_ORDER: 'pgp' }), 'env: pgp first');
  t.false(await run(['--decryption-order', 'age,pgp'], { SOPS_DECRYPTION_ORDER: 'pgp,age' }), 'the flag wins over the env');
});

test('--version prints the version and exits 0', async (t) => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  const r = await runCli(['--version']);
  t.is(r.code, 0, r.stderr);
  t.true(r.out.includes(pkg.version), r.out);
  t.is(r.stderr, '');
});

test('--help exits 0 and lists the commands; encrypt --help lists its flags', async (t) => {
  const r = await runCli(['--help']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.out, /encrypt/);
  t.regex(r.out, /decrypt/);
  const e = await runCli(['encrypt', '--help']);
  t.is(e.code, 0, e.stderr);
  for (const flag of ['--in-place', '--output', '--age', '--pgp', '--encrypted-regex', '--filename-override', '--indent']) t.true(e.out.includes(flag), flag);
  const d = await runCli(['decrypt', '--help']);
  t.is(d.code, 0, d.stderr);
  for (const flag of ['--extract', '--ignore-mac', '--decryption-order', '--output-type']) t.true(d.out.includes(flag), flag);
});

test('an unknown flag is a non-zero exit with a usage message naming it, no stack trace', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('s.yaml', PLAIN);
  const cases: Array<[string[], string | undefined]> = [
    [['encrypt', '--bogus-flag', 's.yaml'], '--bogus-flag'],
    [['decrypt', '--extrct', '["a"]', 's.yaml'], '--extrct'],
    [['encrypt', '-Z', 's.yaml'], '-Z'],
    [['--bogus-flag'], undefined],
  ];
  for (const [args, named] of cases) {
    const r = await ws.run(args);
    t.not(r.code, 0, args.join(' '));
    t.not(r.code, null);
    t.is(r.out, '');
    t.notRegex(r.stderr, STACK_LINE);
    t.regex(r.stderr, /usage: tsops /i, `no usage message for ${args.join(' ')}:\n${r.stderr}`);
    if (named) t.true(r.stderr.includes(`argument: ${named}\n`), `the message names ${named} once:\n${r.stderr}`);
  }
  t.deepEqual(listDir(ws.dir), ['s.yaml']);
});

test('encrypting an already encrypted file is exit 203 (YAML, JSON, dotenv with a sops_ key)', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('s.yaml', PLAIN);
  const enc = await ws.encrypted('s.yaml');
  ws.write('s.enc.yaml', enc);
  ws.write('s.enc.json', await ws.encrypted('s.yaml', ['--output-type', 'json']));
  ws.write('raw.env', 'FOO=bar\nsops_anything=1\n');
  for (const f of ['s.enc.yaml', 's.enc.json', 'raw.env']) {
    assertCleanFailure(t, await ws.run(['encrypt', '--age', ws.key.recipient, f]), { code: 203, message: /already encrypted/ });
  }
  const before = ws.read('s.enc.yaml');
  assertCleanFailure(t, await ws.run(['encrypt', '-i', '--age', ws.key.recipient, 's.enc.yaml']), { code: 203 });
  t.is(ws.read('s.enc.yaml'), before);
  t.deepEqual(listDir(ws.dir), ['raw.env', 's.enc.json', 's.enc.yaml', 's.yaml']);
});

test('an empty YAML file is exit 92', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('empty.yaml', '');
  ws.write('comment.yaml', '# nothing here\n');
  for (const f of ['empty.yaml', 'comment.yaml']) {
    assertCleanFailure(t, await ws.run(['encrypt', '--age', ws.key.recipient, f]), { code: 92, message: /empty/ });
  }
  assertCleanFailure(t, await ws.run(['encrypt', '--age', ws.key.recipient, '--input-type', 'yaml'], { input: '' }), { code: 92 });
});

test('a top-level YAML list is exit 2 with a clear message', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('list.yaml', '- topsecret1\n- topsecret2\n');
  const r = await ws.run(['encrypt', '-i', '--age', ws.key.recipient, 'list.yaml']);
  assertCleanFailure(t, r, { code: 2, message: /sequence|list/, secrets: ['topsecret1', 'topsecret2'] });
  t.regex(r.stderr, /mapping/);
  t.is(ws.read('list.yaml'), '- topsecret1\n- topsecret2\n');
  t.deepEqual(listDir(ws.dir), ['list.yaml']);
});
