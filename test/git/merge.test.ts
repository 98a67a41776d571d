// The merge driver in real merges: branches that changed different keys merge into a file that
// decrypts (MAC valid) with both changes and a minimal diff; real conflicts fail with the key
// paths and leave no plaintext in the work tree (and are one `tsops edit` from resolved);
// without a key git gets a normal conflict; plaintext files take git's text merge.
import test from 'ava';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ageKeygen } from '../helpers/cli.js';
import { APP_YAML, gitRepo, numstat, type Repo } from './_support.js';

async function repoWithSecrets(t: Parameters<typeof gitRepo>[0]): Promise<Repo> {
  const repo = gitRepo(t);
  repo.sopsConfig('^secrets/.*\\.yaml$');
  await repo.encryptNew('secrets/app.yaml', APP_YAML);
  const setup = await repo.tsops(['git', 'setup']);
  t.is(setup.code, 0, setup.stderr);
  repo.commit('initial');
  return repo;
}

async function set(t: Parameters<typeof gitRepo>[0], repo: Repo, path: string, value: string): Promise<void> {
  const r = await repo.tsops(['set', 'secrets/app.yaml', path, value]);
  t.is(r.code, 0, r.stderr);
}

/** Every file of the work tree (without .git), for plaintext searches. */
function workTreeText(dir: string): string {
  let all = '';
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === '.git') continue;
    const p = join(dir, e.name);
    all += e.isDirectory() ? workTreeText(p) : `${readFileSync(p, 'utf8')}\n`;
  }
  return all;
}

/** The +/- lines of a raw (ciphertext) diff, without the file headers. */
function changedLines(diff: string): string[] {
  return diff.split('\n').filter((l) => /^[-+]/.test(l) && !/^(---|\+\+\+) /.test(l));
}

test('a clean merge of branches that changed different keys decrypts with both changes, MAC valid, with a minimal diff', async (t) => {
  const repo = await repoWithSecrets(t);
  repo.gitOk(['checkout', '-q', '-b', 'feature']);
  await set(t, repo, '["db"]["password"]', '"hunter2-feature"');
  t.deepEqual(
    numstat(repo.gitOk(['diff', '--numstat'])).map(([a, r]) => [a, r]),
    [[3, 3]],
    'set changes the value, lastmodified and mac lines only',
  );
  repo.commit('feature: new db password');
  const featureFile = repo.read('secrets/app.yaml');
  repo.gitOk(['checkout', '-q', 'main']);
  await set(t, repo, '["api_token"]', '"tok-main-0002"');
  await set(t, repo, '["tls"]["cert"]', JSON.stringify('-----BEGIN CERTIFICATE-----\nMIIBaseline0001\nMIIMainChange02\n-----END CERTIFICATE-----\n'));
  repo.commit('main: new token and cert');

  const merge = repo.git(['merge', '--no-edit', 'feature']);
  t.is(merge.code, 0, merge.out + merge.err);
  t.is(repo.gitOk(['status', '--porcelain']), '', 'clean work tree, no temp files left');

  const dec = await repo.tsops(['decrypt', 'secrets/app.yaml']);
  t.is(dec.code, 0, dec.stderr);
  t.is(dec.out, APP_YAML.replace('hunter2-initial', 'hunter2-feature').replace('tok-initial-0001', 'tok-main-0002').replace('MIIBaseline0002', 'MIIMainChange02'));

  // against ours (main): only the password from feature, plus lastmodified and mac
  const vsMain = changedLines(repo.gitOk(['diff', '--no-textconv', '-U0', 'HEAD^1', 'HEAD']));
  t.true(vsMain.every((l) => /^[-+] {4}(password|lastmodified|mac): /.test(l)), vsMain.join('\n'));
  t.true(vsMain.some((l) => l.startsWith('+    password: ')));
  const featurePassword = /^ {4}password: .*$/m.exec(featureFile)![0];
  t.true(repo.read('secrets/app.yaml').includes(`\n${featurePassword}\n`), "theirs's ciphertext of the password is kept (same data key)");
  // against theirs (feature): only main's token and cert, plus lastmodified and mac
  const vsFeature = changedLines(repo.gitOk(['diff', '--no-textconv', '-U0', 'HEAD^2', 'HEAD']));
  t.true(vsFeature.every((l) => /^[-+](api_token| {4}cert| {4}(lastmodified|mac)): /.test(l)), vsFeature.join('\n'));
  t.deepEqual(numstat(repo.gitOk(['diff', '--numstat', 'HEAD^2', 'HEAD'])), [[4, 4, 'secrets/app.yaml']]);
  // the decrypted view of the merge commit against ours is the one changed line
  const textconv = repo.gitOk(['diff', 'HEAD^1', 'HEAD']);
  t.deepEqual(changedLines(textconv), ['-    password: hunter2-initial', '+    password: hunter2-feature']);
  const v = await repo.tsops(['verify']);
  t.is(v.code, 0, v.stderr);
});

test('a conflicting merge fails with the key paths, leaves ours encrypted in the work tree, and one tsops edit resolves it', async (t) => {
  const repo = await repoWithSecrets(t);
  repo.gitOk(['checkout', '-q', '-b', 'feature']);
  await set(t, repo, '["db"]["password"]', '"pw-from-feature-7f3a"');
  const unset = await repo.tsops(['unset', 'secrets/app.yaml', '["api_token"]']);
  t.is(unset.code, 0, unset.stderr);
  await set(t, repo, '["db"]["user"]', '"app-renamed"');
  repo.commit('feature');
  repo.gitOk(['checkout', '-q', 'main']);
  await set(t, repo, '["db"]["password"]', '"pw-from-main-91c2"');
  await set(t, repo, '["api_token"]', '"tok-from-main-55e1"');
  repo.commit('main');
  const ours = repo.read('secrets/app.yaml');

  const merge = repo.git(['merge', '--no-edit', 'feature']);
  t.is(merge.code, 1);
  const err = merge.err + merge.out;
  t.regex(err, /tsops: error: merge conflict in secrets\/app\.yaml: 2 key paths were changed on both sides/);
  t.regex(err, /tsops: {3}- \["db"\]\["password"\]: changed differently on both sides/);
  t.regex(err, /tsops: {3}- \["api_token"\]: changed in ours, deleted in theirs/);
  t.notRegex(err, /\["db"\]\["user"\]/, 'the user change merges and is not a conflict');
  t.regex(err, /tsops: hint: resolve with `tsops edit secrets\/app\.yaml`/);
  t.is(repo.read('secrets/app.yaml'), ours, "the work tree holds ours's encrypted bytes");
  const tree = workTreeText(repo.dir);
  for (const secret of ['pw-from-feature-7f3a', 'pw-from-main-91c2', 'tok-from-main-55e1', 'hunter2-initial', 'app-renamed']) {
    t.false(tree.includes(secret), `plaintext ${secret} in the work tree`);
    t.false(err.includes(secret), `plaintext ${secret} in git's output`);
  }
  t.regex(repo.gitOk(['status', '--porcelain']), /^UU secrets\/app\.yaml$/m);

  // what theirs changed, values shown on request
  const theirs = await repo.tsops(['diff', '--show-values', 'secrets/app.yaml', '-'], { input: repo.gitOk(['show', ':3:secrets/app.yaml']) });
  t.is(theirs.code, 1, theirs.stderr);
  t.regex(theirs.out, /~ \["db"\]\["password"\]: "pw-from-main-91c2" -> "pw-from-feature-7f3a"/);

  // resolving: one `tsops edit` (an editor script stands in for the person), then git add
  const editor = join(repo.home, 'resolve.sh');
  writeFileSync(editor, '#!/bin/sh\nsed -i -e "s/password: .*/password: pw-resolved-0c0c/" -e "s/user: app$/user: app-renamed/" "$1"\n');
  chmodSync(editor, 0o755);
  const edit = await repo.tsops(['edit', 'secrets/app.yaml'], { extraEnv: { SOPS_EDITOR: editor } });
  t.is(edit.code, 0, edit.stderr);
  repo.gitOk(['add', 'secrets/app.yaml']);
  repo.gitOk(['commit', '-q', '--no-edit']);
  const dec = await repo.tsops(['decrypt', '--extract', '["db"]', 'secrets/app.yaml']);
  t.is(dec.code, 0, dec.stderr);
  t.is(dec.out, 'user: app-renamed\npassword: pw-resolved-0c0c\n');
});

test('without a key the driver fails clearly, leaves ours untouched and git reports a normal conflict', async (t) => {
  const repo = await repoWithSecrets(t);
  repo.gitOk(['checkout', '-q', '-b', 'feature']);
  await set(t, repo, '["db"]["password"]', '"pw-feature"');
  repo.commit('feature');
  repo.gitOk(['checkout', '-q', 'main']);
  await set(t, repo, '["api_token"]', '"tok-main"');
  repo.commit('main');
  const ours = readFileSync(join(repo.dir, 'secrets/app.yaml'));

  const merge = repo.git(['merge', '--no-edit', 'feature'], { env: { SOPS_AGE_KEY_FILE: join(repo.home, 'no-such-keys.txt') } });
  t.is(merge.code, 1);
  t.regex(merge.err, /tsops: error: could not decrypt the data key of secrets\/app\.yaml \(ours\)/);
  t.regex(merge.err, /tsops: note: secrets\/app\.yaml: not merged; ours's encrypted version stays in place/);
  t.regex(merge.out + merge.err, /CONFLICT \(content\): Merge conflict in secrets\/app\.yaml/);
  t.deepEqual(readFileSync(join(repo.dir, 'secrets/app.yaml')), ours);
  t.regex(repo.gitOk(['status', '--porcelain']), /^UU secrets\/app\.yaml$/m);
});

test('recipients changed on one branch are a metadata conflict; a rotated data key is merged under ours', async (t) => {
  const repo = await repoWithSecrets(t);
  const other = ageKeygen(repo.home, 'other.txt');
  repo.gitOk(['checkout', '-q', '-b', 'more-recipients']);
  const add = await repo.tsops(['rotate', '-i', '--add-age', other.recipient, 'secrets/app.yaml']);
  t.is(add.code, 0, add.stderr);
  repo.commit('add a recipient');
  repo.gitOk(['checkout', '-q', '-b', 'rotated', 'main']);
  const rot = await repo.tsops(['rotate', '-i', 'secrets/app.yaml']);
  t.is(rot.code, 0, rot.stderr);
  await set(t, repo, '["db"]["password"]', '"pw-rotated-branch"');
  repo.commit('rotate and change the password');
  repo.gitOk(['checkout', '-q', 'main']);
  await set(t, repo, '["api_token"]', '"tok-main-3"');
  repo.commit('main');
  const ours = repo.read('secrets/app.yaml');

  const m1 = repo.git(['merge', '--no-edit', 'more-recipients']);
  t.is(m1.code, 1);
  t.regex(m1.err, /tsops: {3}- sops metadata: recipients and key groups: changed in theirs/);
  t.is(repo.read('secrets/app.yaml'), ours);
  repo.gitOk(['merge', '--abort']);

  const m2 = repo.git(['merge', '--no-edit', 'rotated']);
  t.is(m2.code, 0, m2.err);
  t.regex(m2.err, /tsops: note: theirs has another data key \(rotated\?\); the merged file keeps ours's data key/);
  const dec = await repo.tsops(['decrypt', 'secrets/app.yaml']);
  t.is(dec.code, 0, dec.stderr);
  t.regex(dec.out, /password: pw-rotated-branch\napi_token: tok-main-3\n/);
  const v = await repo.tsops(['verify']);
  t.is(v.code, 0, v.stderr);
});

test('files that are not sops files get git\'s own text merge (clean, or with conflict markers)', async (t) => {
  const repo = gitRepo(t);
  repo.write('.sops.yaml', `creation_rules:\n  - age: ${repo.key.recipient}\n`);
  repo.write('settings.yaml', 'a: 1\nb: 2\nc: 3\nd: 4\ne: 5\n');
  t.is((await repo.tsops(['git', 'setup'])).code, 0);
  t.regex(repo.gitOk(['check-attr', 'merge', '--', 'settings.yaml']), /merge: tsops/);
  repo.commit('initial');
  repo.gitOk(['checkout', '-q', '-b', 'feature']);
  repo.write('settings.yaml', 'a: 1\nb: 20\nc: 3\nd: 4\ne: 5\n');
  repo.commit('feature');
  repo.gitOk(['checkout', '-q', 'main']);
  repo.write('settings.yaml', 'a: 1\nb: 2\nc: 3\nd: 4\ne: 50\n');
  repo.commit('main');
  const clean = repo.git(['merge', '--no-edit', 'feature']);
  t.is(clean.code, 0, clean.err);
  t.is(repo.read('settings.yaml'), 'a: 1\nb: 20\nc: 3\nd: 4\ne: 50\n');

  repo.gitOk(['checkout', '-q', '-b', 'f2']);
  repo.write('settings.yaml', 'a: 100\nb: 20\nc: 3\nd: 4\ne: 50\n');
  repo.commit('f2');
  repo.gitOk(['checkout', '-q', 'main']);
  repo.write('settings.yaml', 'a: 111\nb: 20\nc: 3\nd: 4\ne: 50\n');
  repo.commit('main 2');
  const conflict = repo.git(['merge', '--no-edit', 'f2']);
  t.is(conflict.code, 1);
  t.regex(repo.read('settings.yaml'), /^<<<<<<< ours\na: 111\n=======\na: 100\n>>>>>>> theirs\n/m);
});
