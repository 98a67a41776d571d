// `tsops verify` in real repositories (clean, a committed plaintext file, tampered files,
// --staged as a pre-commit hook, --require-keys), the shipped .pre-commit-hooks.yaml, and the
// encrypt-time refusal of a rule that leaves every value in plaintext.
import test from 'ava';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from '../helpers/shared.js';
import { APP_YAML, gitRepo, type Repo } from './_support.js';

async function cleanRepo(t: Parameters<typeof gitRepo>[0]): Promise<Repo> {
  const repo = gitRepo(t);
  repo.sopsConfig('^secrets/.*\\.yaml$', '\\.enc\\.json$');
  await repo.encryptNew('secrets/app.yaml', APP_YAML);
  await repo.encryptNew('config/db.enc.json', '{"host": "db.internal", "password": "pw-json-1"}\n');
  repo.write('README.md', '# a plaintext file no rule matches\n');
  repo.write('settings.yaml', 'debug: true\n');
  repo.commit('initial');
  return repo;
}

test('verify passes on a clean repository and checks the MAC of every matched file', async (t) => {
  const repo = await cleanRepo(t);
  const r = await repo.tsops(['verify']);
  t.is(r.code, 0, r.stderr);
  t.is(r.out, 'ok config/db.enc.json (MAC verified)\nok secrets/app.yaml (MAC verified)\nverified 2 files: all encrypted, 2 with the MAC checked\n');
  t.is(r.stderr, '');
  // without the key: still passes (structure checked), with a note; --require-keys fails
  const noKey = { SOPS_AGE_KEY_FILE: join(repo.home, 'absent.txt') };
  const r2 = await repo.tsops(['verify'], { extraEnv: noKey });
  t.is(r2.code, 0, r2.stderr);
  t.regex(r2.out, /^ok secrets\/app\.yaml \(MAC not checked: no key at hand\)$/m);
  t.regex(r2.stderr, /tsops: note: 2 files checked without the MAC: no key at hand \(--require-keys makes that a failure\)/);
  const r3 = await repo.tsops(['verify', '--require-keys'], { extraEnv: noKey });
  t.is(r3.code, 1);
  t.regex(r3.stderr, /tsops: {3}- secrets\/app\.yaml: no key at hand can decrypt it, so its MAC cannot be checked \(--require-keys\)/);
});

test('verify fails on a committed plaintext file and on tampered files, naming every offender', async (t) => {
  const repo = await cleanRepo(t);
  repo.write('secrets/leak.yaml', 'password: plaintext-leak-1\n');
  const app = repo.read('secrets/app.yaml');
  // a value replaced by plaintext, keeping the sops block
  repo.write('secrets/edited.yaml', app.replace(/^( {4}password: ).*$/m, '$1hunter2-by-hand'));
  // one character of a ciphertext changed
  repo.write('secrets/tampered.yaml', app.replace(/^(api_token: ENC\[AES256_GCM,data:)(.)/m, (_m, a: string, c: string) => a + (c === 'A' ? 'B' : 'A')));
  repo.commit('oops');

  const r = await repo.tsops(['verify']);
  t.is(r.code, 1);
  t.regex(r.stderr, /^tsops: error: 3 of 5 files failed verification: secrets\/edited\.yaml, secrets\/leak\.yaml, secrets\/tampered\.yaml$/m);
  t.regex(r.stderr, /^tsops: {3}- secrets\/leak\.yaml: not encrypted: it has no sops metadata$/m);
  t.regex(r.stderr, /^tsops: {3}- secrets\/edited\.yaml: a value its rule encrypts is in plaintext: \["db"\]\["password"\]$/m);
  t.regex(r.stderr, /^tsops: {3}- secrets\/tampered\.yaml: could not decrypt the value at \["api_token"\]/m);
  t.regex(r.stderr, /^tsops: hint: /m);
  t.regex(r.out, /^ok secrets\/app\.yaml \(MAC verified\)$/m);
  for (const s of ['plaintext-leak-1', 'hunter2-by-hand']) t.false(r.stderr.includes(s) || r.out.includes(s), `value ${s} printed`);

  // a value from another version of the file decrypts fine, but the MAC catches it
  t.is((await repo.tsops(['set', 'secrets/app.yaml', '["db"]["password"]', '"pw-next-version"'])).code, 0);
  const nextPassword = /^ {4}password: .*$/m.exec(repo.read('secrets/app.yaml'))![0];
  repo.write('secrets/app.yaml', app.replace(/^ {4}password: .*$/m, nextPassword));
  const r2 = await repo.tsops(['verify', 'secrets/app.yaml']);
  t.is(r2.code, 1);
  t.regex(r2.stderr, /^tsops: {3}- secrets\/app\.yaml: MAC mismatch/m);
});

test('verify --staged checks the index, and works as a pre-commit hook that blocks plaintext commits', async (t) => {
  const repo = await cleanRepo(t);
  // staged plaintext, encrypted in the work tree afterwards: only --staged sees the problem
  repo.write('secrets/new.yaml', 'token: staged-plaintext-9\n');
  repo.gitOk(['add', 'secrets/new.yaml']);
  const enc = await repo.tsops(['encrypt', '-i', 'secrets/new.yaml']);
  t.is(enc.code, 0, enc.stderr);
  t.is((await repo.tsops(['verify'])).code, 0);
  const staged = await repo.tsops(['verify', '--staged']);
  t.is(staged.code, 1);
  t.regex(staged.stderr, /tsops: error: 1 of 3 staged files failed verification: secrets\/new\.yaml/);
  t.regex(staged.stderr, /secrets\/new\.yaml: not encrypted: it has no sops metadata/);
  // as pre-commit calls it: the staged file names; files no rule matches are skipped
  const named = await repo.tsops(['verify', '--staged', 'secrets/new.yaml', 'README.md', 'settings.yaml']);
  t.is(named.code, 1);
  t.regex(named.stderr, /1 of 1 staged file failed verification: secrets\/new\.yaml/);
  repo.gitOk(['add', 'secrets/new.yaml']);
  const fixed = await repo.tsops(['verify', '--staged', 'secrets/new.yaml', 'README.md']);
  t.is(fixed.code, 0, fixed.stderr);
  t.is(fixed.out, 'ok secrets/new.yaml (MAC verified)\nverified 1 staged file: all encrypted, 1 with the MAC checked\n');

  // a git pre-commit hook running the shipped entry
  const hooks = parseYaml(readFileSync(join(repoRoot, '.pre-commit-hooks.yaml'), 'utf8')) as Array<Record<string, unknown>>;
  const hook = hooks.find((h) => h.id === 'tsops-verify')!;
  t.is(hook.entry, 'tsops verify --staged');
  t.is(hook.pass_filenames, true);
  t.is(hook.language, 'node');
  const hookFile = join(repo.dir, '.git', 'hooks', 'pre-commit');
  writeFileSync(hookFile, `#!/bin/sh\nexec ${hook.entry as string}\n`);
  chmodSync(hookFile, 0o755);
  repo.gitOk(['commit', '-q', '-m', 'encrypted file: allowed']);
  repo.write('secrets/oops.yaml', 'password: never-committed-3\n');
  repo.gitOk(['add', 'secrets/oops.yaml']);
  const blocked = repo.git(['commit', '-q', '-m', 'plaintext: blocked']);
  t.not(blocked.code, 0);
  t.regex(blocked.err, /secrets\/oops\.yaml: not encrypted/);
  t.is(repo.gitOk(['log', '--format=%s', '-1']).trim(), 'encrypted file: allowed');
});

test('encrypt refuses a rule that leaves every value in plaintext, unless --allow-plaintext', async (t) => {
  const repo = gitRepo(t);
  repo.write('app.yaml', 'db:\n    user: app\n    password: pw-guard-1\n');
  const flag = await repo.tsops(['encrypt', '--age', repo.key.recipient, '--encrypted-regex', '^passwd$', 'app.yaml']);
  t.is(flag.code, 1);
  t.is(flag.out, '');
  t.regex(flag.stderr, /^tsops: error: refusing to encrypt app\.yaml: encrypted_regex "\^passwd\$" \(from --encrypted-regex\) selects none of its 2 values, so every value would stay in plaintext$/m);
  t.regex(flag.stderr, /tsops: hint: .*--allow-plaintext/);
  const allowed = await repo.tsops(['encrypt', '--age', repo.key.recipient, '--encrypted-regex', '^passwd$', '--allow-plaintext', 'app.yaml']);
  t.is(allowed.code, 0, allowed.stderr);
  t.regex(allowed.out, /password: pw-guard-1\n[\s\S]*encrypted_regex: \^passwd\$/);
  const ok = await repo.tsops(['encrypt', '--age', repo.key.recipient, '--encrypted-regex', '^password$', 'app.yaml']);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.out, /password: ENC\[/);

  repo.write('.sops.yaml', `creation_rules:\n  - path_regex: '\\.yaml$'\n    encrypted_suffix: _secret\n    age: ${repo.key.recipient}\n`);
  const rule = await repo.tsops(['encrypt', 'app.yaml']);
  t.is(rule.code, 1);
  t.regex(rule.stderr, /encrypted_suffix "_secret" \(from the \.sops\.yaml creation rule's encrypted_suffix\) selects none of its 2 values/);
  // a file with nothing to encrypt at all is not refused
  repo.write('empty.yaml', 'a: null\n');
  t.is((await repo.tsops(['encrypt', 'empty.yaml'])).code, 0);
});
