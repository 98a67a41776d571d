// `tsops git setup` (.gitattributes + driver config, idempotent, --uninstall removes exactly
// what it added) and the textconv driver as git uses it: `git diff`, `git log -p`, `git show`
// show decrypted values to those who hold a key, and pass everything else through.
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP_YAML, gitRepo } from './_support.js';

function checkAttr(repo: ReturnType<typeof gitRepo>, path: string): string {
  return repo.gitOk(['check-attr', 'diff', 'merge', '--', path]);
}

test('git setup maps each creation rule to patterns, sets the drivers, is idempotent, and --uninstall removes exactly that', async (t) => {
  const repo = gitRepo(t);
  repo.write('.sops.yaml', `creation_rules:\n  - path_regex: '^secrets/.*\\.yaml$'\n    age: ${repo.key.recipient}\n  - path_regex: '\\.enc\\.(json|env)$'\n    age: ${repo.key.recipient}\n  - path_regex: '.*'\n    age: ${repo.key.recipient}\n`);
  const userAttrs = '*.png binary\n# keep me\n';
  repo.write('.gitattributes', userAttrs);
  const config = () => repo.git(['config', '--local', '--get-regexp', 'tsops']).out;

  const r = await repo.tsops(['git', 'setup']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.out, /creation_rules\[0\] \(path_regex \^secrets\/\.\*\\\.yaml\$\) -> secrets\/\*\*\/\*\.yaml\n/);
  t.regex(r.out, /creation_rules\[1\] .* -> \*\.enc\.json \*\.enc\.env\n/);
  t.regex(r.out, /creation_rules\[2\] \(path_regex \.\*\) -> \*\.yaml \*\.yml \*\.json \*\.env \*\.ini {2}\(catch-all/);
  const attrs = repo.read('.gitattributes');
  t.true(attrs.startsWith(userAttrs), 'the existing lines stay first and unchanged');
  for (const line of ['secrets/**/*.yaml diff=tsops merge=tsops', '*.enc.json diff=tsops merge=tsops', '*.enc.env diff=tsops merge=tsops', '*.ini diff=tsops merge=tsops']) {
    t.true(attrs.includes(`\n${line}\n`), `missing: ${line}\n${attrs}`);
  }
  t.is(attrs.match(/^\*\.yaml diff=tsops/gm)?.length, 1, 'a pattern is written once');
  t.is(repo.gitOk(['config', '--local', 'diff.tsops.textconv']).trim(), 'tsops git textconv');
  t.is(repo.gitOk(['config', '--local', 'merge.tsops.driver']).trim(), 'tsops git merge %O %A %B %P');
  t.regex(repo.gitOk(['config', '--local', 'merge.tsops.name']), /tsops/);
  t.regex(checkAttr(repo, 'secrets/deep/dir/app.yaml'), /diff: tsops\n.*merge: tsops/);
  t.regex(checkAttr(repo, 'config/x.enc.json'), /diff: tsops/);
  t.regex(checkAttr(repo, 'logo.png'), /diff: unset/, 'the user attributes still apply');
  t.regex(checkAttr(repo, 'README.md'), /diff: unspecified/);

  // again: nothing changes
  const before = readFileSync(join(repo.dir, '.gitattributes'));
  const cfgBefore = config();
  const again = await repo.tsops(['git', 'setup']);
  t.is(again.code, 0, again.stderr);
  t.regex(again.out, /already set up: nothing changed\n$/);
  t.deepEqual(readFileSync(join(repo.dir, '.gitattributes')), before);
  t.is(config(), cfgBefore);

  // a changed rule replaces the block in place
  repo.write('.sops.yaml', `creation_rules:\n  - path_regex: '^vault/.*\\.json$'\n    age: ${repo.key.recipient}\n`);
  const upd = await repo.tsops(['git', 'setup']);
  t.is(upd.code, 0, upd.stderr);
  t.regex(upd.out, /updated \.gitattributes/);
  const updated = repo.read('.gitattributes');
  t.is(updated.match(/# >>> tsops git setup/g)?.length, 1);
  t.true(updated.includes('\nvault/**/*.json diff=tsops merge=tsops\n'));
  t.false(updated.includes('secrets/**'));

  const un = await repo.tsops(['git', 'setup', '--uninstall']);
  t.is(un.code, 0, un.stderr);
  t.is(repo.read('.gitattributes'), userAttrs, 'the user lines are back byte for byte');
  t.is(config(), '', 'no tsops driver config left');
  t.false(readFileSync(join(repo.dir, '.git', 'config'), 'utf8').includes('tsops'), 'no empty [diff "tsops"] section left');
  const un2 = await repo.tsops(['git', 'setup', '--uninstall']);
  t.is(un2.code, 0);
  t.regex(un2.out, /nothing to remove/);
});

test('git setup creates .gitattributes when there is none, and --uninstall deletes it again; a config in a subdirectory prefixes the patterns', async (t) => {
  const repo = gitRepo(t);
  repo.write('infra/.sops.yaml', `creation_rules:\n  - path_regex: 'secrets/.*\\.yaml$'\n    age: ${repo.key.recipient}\n`);
  const r = await repo.tsops(['git', 'setup'], { cwd: join(repo.dir, 'infra') });
  t.is(r.code, 0, r.stderr);
  t.true(repo.read('.gitattributes').includes('\ninfra/**/*secrets/**/*.yaml diff=tsops merge=tsops\n'), repo.read('.gitattributes'));
  t.regex(checkAttr(repo, 'infra/secrets/a.yaml'), /diff: tsops/);
  t.regex(checkAttr(repo, 'infra/team/mysecrets/x/a.yaml'), /diff: tsops/);
  t.regex(checkAttr(repo, 'secrets/a.yaml'), /diff: unspecified/, 'outside the config directory the rule does not apply');
  const un = await repo.tsops(['git', 'setup', '--uninstall'], { cwd: join(repo.dir, 'infra') });
  t.is(un.code, 0, un.stderr);
  t.false(existsSync(join(repo.dir, '.gitattributes')));
});

test('git setup fails clearly outside a repository and without creation rules', async (t) => {
  const repo = gitRepo(t);
  const none = await repo.tsops(['git', 'setup']);
  t.is(none.code, 1);
  t.regex(none.stderr, /tsops: error: no \.sops\.yaml found/);
  const outside = await repo.tsops(['git', 'setup'], { cwd: repo.home, extraEnv: { GIT_CEILING_DIRECTORIES: repo.home } });
  t.is(outside.code, 1);
  t.regex(outside.stderr, /must run inside a git work tree/);
});

test('git diff, git log -p and git show print decrypted values through textconv; --no-textconv shows ciphertext', async (t) => {
  const repo = gitRepo(t);
  repo.sopsConfig('^secrets/.*\\.yaml$');
  await repo.encryptNew('secrets/app.yaml', APP_YAML);
  t.is((await repo.tsops(['git', 'setup'])).code, 0);
  repo.commit('initial');
  const set = await repo.tsops(['set', 'secrets/app.yaml', '["db"]["password"]', '"hunter2-rotated"']);
  t.is(set.code, 0, set.stderr);

  const diff = repo.git(['diff']);
  t.is(diff.code, 0, diff.err);
  t.regex(diff.out, /^-    password: hunter2-initial$/m);
  t.regex(diff.out, /^\+    password: hunter2-rotated$/m);
  t.regex(diff.out, /^ {5}user: app$/m, 'unchanged lines are context, decrypted');
  t.false(diff.out.includes('ENC['), 'no ciphertext in the textconv diff');
  t.notRegex(diff.out, /^[-+].*(lastmodified|mac:)/m, 'metadata is not part of the decrypted view');
  t.is(diff.err, '');
  const raw = repo.gitOk(['diff', '--no-textconv']);
  t.regex(raw, /^\+    password: ENC\[AES256_GCM,/m);

  repo.commit('rotate the db password');
  const log = repo.gitOk(['log', '-p', '-1']);
  t.regex(log, /rotate the db password/);
  t.regex(log, /^-    password: hunter2-initial$/m);
  t.regex(log, /^\+    password: hunter2-rotated$/m);
  const show = repo.gitOk(['show', 'HEAD']);
  t.regex(show, /^\+    password: hunter2-rotated$/m);
  t.false(show.includes('ENC['));
  const first = repo.gitOk(['log', '-p', '--reverse', '--format=%s']);
  t.regex(first, /^\+api_token: tok-initial-0001$/m, 'the initial commit shows the whole file decrypted');
});

test('without a key, git diff still works: ciphertext and a one-line note; plaintext files pass through silently', async (t) => {
  const repo = gitRepo(t);
  repo.write('.sops.yaml', `creation_rules:\n  - path_regex: '^secrets/'\n    age: ${repo.key.recipient}\n  - age: ${repo.key.recipient}\n`);
  await repo.encryptNew('secrets/app.yaml', APP_YAML);
  repo.write('settings.yaml', 'debug: false\n');
  t.is((await repo.tsops(['git', 'setup'])).code, 0);
  t.regex(checkAttr(repo, 'settings.yaml'), /diff: tsops/, 'the rule without path_regex maps to the catch-all');
  repo.commit('initial');
  t.is((await repo.tsops(['set', 'secrets/app.yaml', '["api_token"]', '"tok-2"'])).code, 0);
  repo.write('settings.yaml', 'debug: true\n');

  const noKey = { SOPS_AGE_KEY_FILE: join(repo.home, 'absent-keys.txt') };
  const diff = repo.git(['diff'], { env: noKey });
  t.is(diff.code, 0, 'git diff does not fail');
  t.regex(diff.out, /^\+api_token: ENC\[AES256_GCM,/m);
  t.regex(diff.out, /^-debug: false$/m);
  t.regex(diff.out, /^\+debug: true$/m);
  const notes = diff.err.trim().split('\n');
  t.true(notes.length >= 1 && notes.every((l) => /^tsops: note: .*app\.yaml: shown encrypted: no key at hand can decrypt it$/.test(l)), diff.err);

  const plain = await repo.tsops(['git', 'textconv', 'settings.yaml']);
  t.is(plain.code, 0);
  t.is(plain.out, 'debug: true\n');
  t.is(plain.stderr, '');
  const missing = await repo.tsops(['git', 'textconv', 'nope.yaml']);
  t.is(missing.code, 0, 'textconv never fails');
  t.regex(missing.stderr, /^tsops: note: nope\.yaml: cannot be read/);
});
