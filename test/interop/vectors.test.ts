// Every file real sops wrote (../shared/vectors/sops-repo) decrypts with its key, MAC verified,
// to what sops prints for it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import { baseEnv, runCli, tempDir } from '../helpers/cli.js';
import { hasGpg, makeGnupgHome } from '../helpers/gpg.js';
import { sharedTest, vectorsDir } from '../helpers/shared.js';

function setup(t: ExecutionContext) {
  const home = tempDir(t);
  const gnupg = makeGnupgHome(t, { importVectorKey: true });
  return { home, env: { ...baseEnv(home), GNUPGHOME: gnupg } };
}

async function decryptVector(t: ExecutionContext, name: string, extra: string[] = []) {
  const { home, env } = setup(t);
  return runCli(['decrypt', ...extra, join(vectorsDir, name)], { env, cwd: home });
}

const expected: Array<[string, string]> = [
  ['format.enc.yaml', 'foo: bar\n'],
  ['format.enc.json', '{\n\t"foo": "bar"\n}\n'],
  ['format.enc.env', 'foo = bar\n'],
  ['format.enc.ini', '[foo]\nbar = baz\n'],
  ['format-2.enc.ini', '[foo]\nbar = baz\n'],
  ['comments.enc.yaml', '# first comment in file\nlorem: ipsum\n# this-is-a-comment\ndolor: sit\n'],
];

for (const [name, out] of expected) {
  sharedTest(`decrypts ${name} exactly as sops prints it`, async (t) => {
    if (!hasGpg()) return t.fail('gpg is required for the vector tests');
    const r = await decryptVector(t, name);
    t.is(r.stderr, '');
    t.is(r.code, 0);
    t.is(r.out, out);
  });
}

sharedTest('decrypts example.yaml (sops 3.10.2: nested maps, lists, comments) with its MAC verified', async (t) => {
  const r = await decryptVector(t, 'example.yaml');
  t.is(r.code, 0, r.stderr);
  t.regex(r.out, /^myapp1: /m);
  t.regex(r.out, /^number: 1.234568e\+09$/m);
  t.notRegex(r.out, /ENC\[/);
});

sharedTest('decrypts example.json (sops 3.5.0)', async (t) => {
  const r = await decryptVector(t, 'example.json');
  t.is(r.code, 0, r.stderr);
  const data = JSON.parse(r.out);
  t.truthy(data);
  t.notRegex(r.out, /ENC\[/);
});

sharedTest('decrypts example.ini (sops 3.5.0, escaped metadata)', async (t) => {
  const r = await decryptVector(t, 'example.ini');
  t.is(r.code, 0, r.stderr);
  t.notRegex(r.out, /ENC\[/);
});

sharedTest('decrypts example.txt (binary, sops 3.5.0) to raw bytes', async (t) => {
  const r = await decryptVector(t, 'example.txt');
  t.is(r.code, 0, r.stderr);
  t.true(r.stdout.length > 0);
  t.notRegex(r.out, /ENC\[/);
});

sharedTest('decrypts multiple_keys.yaml (two PGP recipients, sops 3.3.1)', async (t) => {
  const r = await decryptVector(t, 'multiple_keys.yaml');
  t.is(r.code, 0, r.stderr);
  t.notRegex(r.out, /ENC\[/);
});

sharedTest('keeps the clear-text comments of comments_unencrypted_comments.yaml', async (t) => {
  const r = await decryptVector(t, 'comments_unencrypted_comments.yaml');
  t.is(r.code, 0, r.stderr);
  t.true(r.out.includes('first comment in file'));
  t.true(r.out.includes('this-is-a-comment'));
});

sharedTest('no_mac.yaml fails with exit 51 and decrypts with --ignore-mac', async (t) => {
  const bad = await decryptVector(t, 'no_mac.yaml');
  t.is(bad.code, 51);
  t.is(bad.out, '');
  t.regex(bad.stderr, /no MAC/);
  const ok = await decryptVector(t, 'no_mac.yaml', ['--ignore-mac']);
  t.is(ok.code, 0, ok.stderr);
  t.notRegex(ok.out, /ENC\[/);
});

sharedTest('decrypt from stdin with --input-type (sops functional test decrypt_from_stdin)', async (t) => {
  const { home, env } = setup(t);
  const r = await runCli(['decrypt', '--input-type', 'yaml', '--output-type', 'yaml'], {
    env,
    cwd: home,
    input: readFileSync(join(vectorsDir, 'comments.enc.yaml')),
  });
  t.is(r.code, 0, r.stderr);
  t.regex(r.out, /^lorem: ipsum$/m);
  t.regex(r.out, /^dolor: sit$/m);
  t.notRegex(r.out, /^sops:/m);
});

sharedTest('without the key every vector fails with exit 128 and names the key it tried', async (t) => {
  const home = tempDir(t);
  const r = await runCli(['decrypt', join(vectorsDir, 'format.enc.yaml')], { env: baseEnv(home), cwd: home });
  t.is(r.code, 128);
  t.is(r.out, '');
  t.regex(r.stderr, /FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4/);
  t.notRegex(r.stderr, /\n\s+at /); // no stack trace
});
