// `tsops edit FILE` (and bare `tsops FILE`) with real editor processes: small sh scripts used as
// $EDITOR, and once vim in a real terminal (tmux). Every run has its own TSOPS_TMPDIR, which
// must be empty afterwards whatever happened (success, no change, abort, crash, signal).
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { BIN } from '../helpers/cli.js';
import {
  assertNoTemp,
  assertOnlyChanged,
  assertSmallGitDiff,
  assertUntouched,
  freeze,
  gitInit,
  has,
  spawnDetached,
  waitForFile,
  workspace,
  type Workspace,
} from './_support.js';

/** Plaintext in the form tsops emits it, so editor scripts can match whole lines. */
const PLAIN = [
  'a: 1',
  'b: two',
  'c:',
  '    d: x',
  '    e:',
  '        - 1',
  '        - 2',
  'list:',
  '    - l1',
  '    - l2',
  'num: 3.5',
  'flag: true',
  'password: hunter2',
  '',
].join('\n');

/** A workspace with secrets.yaml encrypted from PLAIN and committed in a git repository. */
async function setup(t: ExecutionContext): Promise<{ ws: Workspace; file: string; before: string }> {
  const ws = workspace(t);
  const before = await ws.encryptTo('secrets.yaml', PLAIN);
  gitInit(ws);
  return { ws, file: join(ws.dir, 'secrets.yaml'), before };
}

/** Runs `tsops edit` with `editor` as $EDITOR. */
function edit(ws: Workspace, editor: string, args: string[], input?: string) {
  return ws.run(['edit', ...args], { extraEnv: { EDITOR: editor }, ...(input !== undefined ? { input } : {}) });
}

test('changing one value re-encrypts only that value: +-3 lines in git', async (t) => {
  const { ws, file, before } = await setup(t);
  const ed = ws.script('ed.sh', `sed -i 's/^b: two$/b: three/' "$1"`);
  const r = await edit(ws, ed, ['secrets.yaml']);
  t.is(r.code, 0, r.stderr);
  t.is(r.out, '');
  const after = readFileSync(file, 'utf8');
  assertOnlyChanged(t, before, after, ['b: ENC[']);
  assertSmallGitDiff(t, ws, 'secrets.yaml');
  t.is(await ws.decrypt('secrets.yaml'), PLAIN.replace('b: two', 'b: three'));
  assertNoTemp(t, ws);
});

test('the editor changes nothing: exit 200, file byte-identical', async (t) => {
  const { ws, file } = await setup(t);
  const st = freeze(file);
  const r = await edit(ws, ws.script('noop.sh', 'true'), ['secrets.yaml']);
  t.is(r.code, 200, r.stderr);
  t.regex(r.stderr, /not changed/i);
  assertUntouched(t, file, st);
  assertNoTemp(t, ws);
});

test('a whitespace-only edit that keeps every value leaves the file untouched', async (t) => {
  const { ws, file } = await setup(t);
  const st = freeze(file);
  // re-indent the nested map and list, add trailing blanks and empty lines
  const ed = ws.script('ws.sh', `sed -i -e 's/^    d: x$/  d: x   /' -e 's/^    e:$/  e:/' -e 's/^        - /      - /' "$1"\nprintf '\\n\\n' >> "$1"`);
  const r = await edit(ws, ed, ['secrets.yaml']);
  t.is(r.code, 0, r.stderr);
  assertUntouched(t, file, st);
  t.is(spawnSync('git', ['diff', '--numstat'], { cwd: ws.dir, env: ws.env, encoding: 'utf8' }).stdout, '', 'git sees no change');
  assertNoTemp(t, ws);
});

test('invalid YAML, Enter to return to the editor (text kept), then fixed: written', async (t) => {
  const { ws, before } = await setup(t);
  const count = join(ws.home, 'count');
  const seen = join(ws.home, 'seen-on-second-run');
  const ed = ws.script(
    'twice.sh',
    `n=$(cat '${count}' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '${count}'
if [ $n = 1 ]; then printf 'a: 1\\nb: [unclosed\\n' > "$1"; else cp "$1" '${seen}'; sed -i 's/^b: .*$/b: fixed/' "$1"; printf 'c: 3\\n' >> "$1"; fi`,
  );
  const r = await edit(ws, ed, ['secrets.yaml'], '\n');
  t.is(r.code, 0, r.stderr);
  t.is(readFileSync(count, 'utf8').trim(), '2', 'the editor ran twice');
  t.is(readFileSync(seen, 'utf8'), 'a: 1\nb: [unclosed\n', 'the second run starts from what the user wrote');
  t.regex(r.stderr, /not valid/);
  t.is(await ws.decrypt('secrets.yaml'), 'a: 1\nb: fixed\nc: 3\n');
  t.notRegex(readFileSync(join(ws.dir, 'secrets.yaml'), 'utf8'), /fixed|hunter2/);
  t.not(readFileSync(join(ws.dir, 'secrets.yaml'), 'utf8'), before);
  assertNoTemp(t, ws);
});

test('invalid content, then q to abort: non-zero exit, file untouched', async (t) => {
  const { ws, file } = await setup(t);
  const st = freeze(file);
  const r = await edit(ws, ws.script('bad.sh', `printf 'a: [\\n' > "$1"`), ['secrets.yaml'], 'q\n');
  t.not(r.code, 0);
  t.not(r.code, null);
  t.regex(r.stderr, /aborted/);
  t.notRegex(r.stderr, /hunter2/);
  assertUntouched(t, file, st);
  assertNoTemp(t, ws);
});

test('invalid content and standard input at its end: aborted, file untouched', async (t) => {
  const { ws, file } = await setup(t);
  const st = freeze(file);
  const r = await edit(ws, ws.script('bad.sh', `printf '{"a": \\n' > "$1"`), ['secrets.yaml']);
  t.not(r.code, 0);
  assertUntouched(t, file, st);
  assertNoTemp(t, ws);
});

test('content with a top-level sops key is rejected (mapping and scalar)', async (t) => {
  const { ws, file } = await setup(t);
  const st = freeze(file);
  const asMap = await edit(ws, ws.script('sopsmap.sh', `printf 'a: 1\\nsops:\\n    version: 3.9.0\\n' > "$1"`), ['secrets.yaml'], 'q\n');
  t.not(asMap.code, 0);
  t.regex(asMap.stderr, /top-level `sops` key/);
  const asScalar = await edit(ws, ws.script('sopsstr.sh', `printf 'a: 1\\nsops: hello\\n' > "$1"`), ['secrets.yaml'], 'q\n');
  t.not(asScalar.code, 0);
  t.regex(asScalar.stderr, /sops/);
  assertUntouched(t, file, st);
  assertNoTemp(t, ws);
});

for (const [title, body] of [
  ['exits 1', `sed -i 's/two/three/' "$1"\nexit 1`],
  ['is killed by SIGKILL', `sed -i 's/two/three/' "$1"\nkill -KILL $$`],
  ['does not exist', undefined],
] as const) {
  test(`an editor that ${title}: exit 201, file untouched`, async (t) => {
    const { ws, file } = await setup(t);
    const st = freeze(file);
    const r = await edit(ws, body === undefined ? join(ws.bin, 'no-such-editor') : ws.script('crash.sh', body), ['secrets.yaml']);
    t.is(r.code, 201, r.stderr);
    t.regex(r.stderr, /editor/);
    assertUntouched(t, file, st);
    assertNoTemp(t, ws);
  });
}

for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  test(`${sig} to tsops while the editor runs: no plaintext left, file untouched`, async (t) => {
    const { ws, file } = await setup(t);
    const st = freeze(file);
    const started = join(ws.home, 'started');
    const ed = ws.script('slow.sh', `sed -i 's/two/three/' "$1"\necho "$1" > '${started}.tmp'; mv '${started}.tmp' '${started}'\nexec sleep 30`);
    const p = spawnDetached(t, ws, ['edit', 'secrets.yaml'], { EDITOR: ed });
    await waitForFile(started);
    const tmpFile = readFileSync(started, 'utf8').trim();
    t.true(tmpFile.startsWith(ws.shm + '/'), `temp file ${tmpFile} is in TSOPS_TMPDIR`);
    t.true(existsSync(tmpFile), 'the plaintext exists while the editor runs');
    p.child.kill(sig);
    const res = await p.exited;
    t.true(res.signal === sig || res.code === 128 + (sig === 'SIGTERM' ? 15 : sig === 'SIGINT' ? 2 : 1), `ended by ${sig}: ${JSON.stringify(res)}`);
    t.false(existsSync(dirname(tmpFile)), 'the private temp dir is gone');
    assertNoTemp(t, ws);
    assertUntouched(t, file, st);
  });
}

test('temp file 0600 in a 0700 dir named like the file; $SOPS_EDITOR wins over $EDITOR; editor with arguments', async (t) => {
  const { ws } = await setup(t);
  const rec = join(ws.home, 'stat');
  const ed = ws.script('stat.sh', `stat -c '%a %n' "$2" "$(dirname "$2")" > '${rec}'\nsed -i 's/two/2b/' "$2"`);
  const r = await ws.run(['edit', 'secrets.yaml'], { extraEnv: { SOPS_EDITOR: `sh ${ed} --flag`, EDITOR: ws.script('fail.sh', 'exit 1') } });
  t.is(r.code, 0, r.stderr);
  const [fileLine, dirLine] = readFileSync(rec, 'utf8').trim().split('\n');
  const [fileMode, tmpFile] = fileLine!.split(' ');
  const [dirMode, tmpDir] = dirLine!.split(' ');
  t.is(fileMode, '600');
  t.is(dirMode, '700');
  t.is(basename(tmpFile!), 'secrets.yaml');
  t.is(dirname(tmpDir!), ws.shm);
  t.is((parseYaml(await ws.decrypt('secrets.yaml')) as { b: string }).b, '2b');
  assertNoTemp(t, ws);
});

test('without TSOPS_TMPDIR the plaintext goes to /dev/shm and is removed', async (t) => {
  t.true(existsSync('/dev/shm'), 'this test needs /dev/shm (Linux tmpfs)');
  const { ws } = await setup(t);
  const rec = join(ws.home, 'where');
  const ed = ws.script('where.sh', `echo "$1" > '${rec}'\nsed -i 's/two/deux/' "$1"`);
  const r = await ws.run(['edit', 'secrets.yaml'], { extraEnv: { EDITOR: ed, TSOPS_TMPDIR: undefined } });
  t.is(r.code, 0, r.stderr);
  const path = readFileSync(rec, 'utf8').trim();
  t.regex(path, /^\/dev\/shm\/[^/]+\/secrets\.yaml$/);
  t.false(existsSync(dirname(path)));
});

test('-s shows the sops metadata in the editor and takes it back', async (t) => {
  const { ws, file, before } = await setup(t);
  const seen = join(ws.home, 'seen.yaml');
  const ed = ws.script('meta.sh', `cp "$1" '${seen}'\nsed -i 's/^a: 1$/a: 100/' "$1"`);
  const r = await edit(ws, ed, ['-s', 'secrets.yaml']);
  t.is(r.code, 0, r.stderr);
  const shown = parseYaml(readFileSync(seen, 'utf8')) as Record<string, unknown> & { sops: { age: Array<{ recipient: string }>; mac: string; lastmodified: string } };
  t.is(shown.password, 'hunter2', 'values in clear');
  t.deepEqual(shown.sops.age.map((a) => a.recipient), [ws.key.recipient]);
  t.regex(shown.sops.mac, /^ENC\[AES256_GCM,/);
  t.truthy(shown.sops.lastmodified);
  const after = readFileSync(file, 'utf8');
  assertOnlyChanged(t, before, after, ['a: ENC[']);
  t.is(await ws.decrypt('secrets.yaml'), PLAIN.replace('a: 1', 'a: 100'));
  // the bare legacy form `tsops -s FILE` is the same command
  const st = freeze(file);
  const bare = await ws.run(['-s', 'secrets.yaml'], { extraEnv: { EDITOR: ws.script('noop.sh', 'true') } });
  t.is(bare.code, 200, bare.stderr);
  assertUntouched(t, file, st);
  assertNoTemp(t, ws);
});

const EXAMPLE_KEY = /^example_key: example_value$/m;

test('a new file from the example with --age', async (t) => {
  const ws = workspace(t);
  const seen = join(ws.home, 'example.yaml');
  const ed = ws.script('new.sh', `cp "$1" '${seen}'\nsed -i 's/^example_key: example_value$/example_key: mine/' "$1"`);
  const r = await edit(ws, ed, ['--age', ws.key.recipient, 'new.yaml']);
  t.is(r.code, 0, r.stderr);
  t.regex(readFileSync(seen, 'utf8'), EXAMPLE_KEY, 'the editor got the example document');
  const enc = parseYaml(ws.read('new.yaml')) as { example_key: string; sops: { age: Array<{ recipient: string }> } };
  t.regex(enc.example_key, /^ENC\[AES256_GCM,/);
  t.deepEqual(enc.sops.age.map((a) => a.recipient), [ws.key.recipient]);
  const plain = parseYaml(await ws.decrypt('new.yaml')) as Record<string, unknown>;
  t.is(plain.example_key, 'mine');
  t.is(plain.hello, 'Welcome to SOPS! Edit this file as you please!');
  t.deepEqual(plain.example_booleans, [true, false]);
  // the example saved unchanged: exit 200 and no file
  const again = await edit(ws, ws.script('noop.sh', 'true'), ['--age', ws.key.recipient, 'other.yaml']);
  t.is(again.code, 200, again.stderr);
  t.false(existsSync(join(ws.dir, 'other.yaml')));
  assertNoTemp(t, ws);
});

test('a new file from the example with a .sops.yaml creation rule (bare `tsops FILE`)', async (t) => {
  const ws = workspace(t);
  mkdirSync(join(ws.dir, 'secrets'));
  ws.write('.sops.yaml', `creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: ${ws.key.recipient}\n    encrypted_regex: ^(example_key|hello)$\n`);
  const ed = ws.script('new.sh', `sed -i 's/^example_key: example_value$/example_key: from-rule/' "$1"`);
  const r = await ws.run(['secrets/new.yaml'], { extraEnv: { EDITOR: ed } });
  t.is(r.code, 0, r.stderr);
  const enc = parseYaml(ws.read('secrets/new.yaml')) as Record<string, unknown> & { sops: { age: Array<{ recipient: string }>; encrypted_regex: string } };
  t.deepEqual(enc.sops.age.map((a) => a.recipient), [ws.key.recipient]);
  t.is(enc.sops.encrypted_regex, '^(example_key|hello)$');
  t.regex(enc.example_key as string, /^ENC\[/);
  t.is(enc.example_number, 1234.56789, 'values outside encrypted_regex stay clear');
  t.is((parseYaml(await ws.decrypt('secrets/new.yaml')) as Record<string, unknown>).example_key, 'from-rule');
  // a path no rule matches, without key flags: refused before the editor opens
  const rec = join(ws.home, 'opened');
  const nomatch = await ws.run(['edit', 'elsewhere.yaml'], { extraEnv: { EDITOR: ws.script('rec.sh', `touch '${rec}'`) } });
  t.not(nomatch.code, 0);
  t.false(existsSync(rec), 'the editor was not opened');
  t.false(existsSync(join(ws.dir, 'elsewhere.yaml')));
  assertNoTemp(t, ws);
});

const haveTerminal = has('tmux') && has('vim');
const vimTitle = 'vim in a real terminal (tmux): :%s/two/zwei/ and :wq change the value';
if (!haveTerminal && !process.env.CI) {
  process.stderr.write(`\n!!! ${basename(import.meta.url)}: tmux or vim NOT FOUND: SKIPPING "${vimTitle}" !!!\n\n`);
  test.skip(vimTitle, () => {});
} else {
  test(vimTitle, async (t) => {
    if (!haveTerminal) return t.fail('tmux and vim are required in CI');
    const { ws, file, before } = await setup(t);
    const sock = join(ws.home, 'tmux.sock');
    const rc = join(ws.home, 'rc');
    const err = join(ws.home, 'stderr');
    const envLines = Object.entries({ ...ws.env, EDITOR: 'vim', TERM: 'xterm-256color' })
      .map(([k, v]) => `export ${k}='${v.replace(/'/g, `'\\''`)}'`)
      .join('\n');
    const runner = ws.script('runner.sh', `${envLines}\ncd '${ws.dir}'\n'${process.execPath}' '${BIN}' edit secrets.yaml 2>'${err}'\necho $? > '${rc}.tmp'; mv '${rc}.tmp' '${rc}'`);
    const tmux = (...args: string[]) => spawnSync('tmux', ['-S', sock, ...args], { env: ws.env, encoding: 'utf8' });
    t.teardown(() => void tmux('kill-server'));
    const started = tmux('new-session', '-d', '-x', '120', '-y', '40', runner);
    t.is(started.status, 0, started.stderr);
    const deadline = Date.now() + 20_000;
    while (!/^b: two/m.test(tmux('capture-pane', '-p').stdout ?? '')) {
      if (Date.now() > deadline) return t.fail(`vim did not show the file:\n${tmux('capture-pane', '-p').stdout}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    t.true(readdirSync(ws.shm).length > 0, 'the plaintext is in TSOPS_TMPDIR while vim runs');
    tmux('send-keys', ':%s/two/zwei/', 'Enter');
    tmux('send-keys', ':wq', 'Enter');
    await waitForFile(rc);
    t.is(readFileSync(rc, 'utf8').trim(), '0', readFileSync(err, 'utf8'));
    assertOnlyChanged(t, before, readFileSync(file, 'utf8'), ['b: ENC[']);
    t.is(await ws.decrypt('secrets.yaml'), PLAIN.replace('b: two', 'b: zwei'));
    assertNoTemp(t, ws);
  });
}
