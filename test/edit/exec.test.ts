// `tsops exec-env FILE CMD` and `tsops exec-file FILE 'CMD {}'`: the exec scenarios of
// getsops/sops functional-tests/src/lib.rs with the same inputs and checks, then the
// environment (--pristine, flattening), exit statuses, and the plaintext temp file (FIFO or
// 0600 file in TSOPS_TMPDIR), which must be gone however the command ends.
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { assertNoTemp, spawnDetached, waitForFile, workspace, type Workspace } from './_support.js';

/** The input of exec_env, exec_file and exec_file_filename. */
const FOO_BAR = 'foo: bar\nbar: |-\n  baz\n  bam\n';

/** prepare_temp_file + `sops encrypt -i` (or the legacy `-e -i`), as the sops scenarios do. */
async function encryptedViaCli(t: ExecutionContext, ws: Workspace, name: string, legacy = false): Promise<string> {
  const file = join(ws.home, name);
  writeFileSync(file, FOO_BAR);
  const r = await ws.run([legacy ? '-e' : 'encrypt', '--age', ws.key.recipient, '-i', file]);
  t.is(r.code, 0, `sops didn't exit successfully: ${r.stderr}`);
  return file;
}

test('exec_env', async (t) => {
  const ws = workspace(t);
  const file = await encryptedViaCli(t, ws, 'test_exec_env.yaml');
  const printFoo = join(ws.home, 'print_foo.sh');
  writeFileSync(printFoo, '#!/bin/bash\necho -E "${foo}"\n');
  let r = await ws.run(['exec-env', file, `/bin/bash ${printFoo}`]);
  t.is(r.code, 0, r.stderr);
  t.is(r.out, 'bar\n');
  const printBar = join(ws.home, 'print_bar.sh');
  writeFileSync(printBar, '#!/bin/bash\necho -E "${bar}"\n');
  r = await ws.run(['exec-env', file, `/bin/bash ${printBar}`]);
  t.is(r.code, 0, r.stderr);
  t.is(r.out, 'baz\nbam\n');
  assertNoTemp(t, ws);
});

test('exec_file', async (t) => {
  const ws = workspace(t);
  const file = await encryptedViaCli(t, ws, 'test_exec_file.yaml', true);
  const r = await ws.run(['exec-file', '--output-type', 'json', file, 'cat {}']);
  t.is(r.code, 0, r.stderr);
  t.is(r.out, '{\n\t"foo": "bar",\n\t"bar": "baz\\nbam"\n}\n');
  assertNoTemp(t, ws);
});

test('exec_file_filename', async (t) => {
  const ws = workspace(t);
  const file = await encryptedViaCli(t, ws, 'test_exec_file_filename.yaml', true);
  const r = await ws.run(['exec-file', '--no-fifo', '--filename', 'foobar', file, 'echo {}']);
  t.is(r.code, 0, r.stderr);
  t.true(r.out.endsWith('foobar\n'), "filename did not end with 'foobar'");
  t.true(r.out.startsWith(ws.shm + '/'), `the file is in TSOPS_TMPDIR: ${r.out}`);
  t.false(existsSync(r.out.trim()));
  assertNoTemp(t, ws);
});

/** A file with nested values and several scalar types, encrypted for the workspace key. */
const NESTED = 'foo: bar\nnum: 5\nflag: true\nratio: 0.5\nnothing: null\ndb:\n    user: admin\n    hosts:\n        - h1\n        - h2\n';

test('exec-env: the exit status passes through, a signal gives 128+n', async (t) => {
  const ws = workspace(t);
  await ws.encryptTo('s.yaml', NESTED);
  for (const [cmd, code] of [
    ['exit 7', 7],
    ['test "$foo" = bar', 0],
    ['test "$foo" = other', 1],
    ['kill -TERM $$', 128 + 15],
    ['kill -KILL $$', 128 + 9],
  ] as const) {
    const r = await ws.run(['exec-env', 's.yaml', cmd]);
    t.is(r.code, code, `${cmd}: ${r.stderr}`);
  }
  const f = await ws.run(['exec-file', 's.yaml', 'cat {} > /dev/null; exit 42']);
  t.is(f.code, 42, f.stderr);
  assertNoTemp(t, ws);
});

test('exec-env: nested keys flattened with _, scalars as text; our environment passes, the file wins; --same-process', async (t) => {
  const ws = workspace(t);
  await ws.encryptTo('s.yaml', NESTED);
  const show = 'printf "%s|" "$foo" "$num" "$flag" "$ratio" "${nothing-unset}" "$db_user" "$db_hosts_0" "$db_hosts_1" "$OURS"';
  const expected = 'bar|5|true|0.5|unset|admin|h1|h2|ours|';
  for (const extra of [[], ['--same-process']]) {
    const r = await ws.run(['exec-env', ...extra, 's.yaml', show], { extraEnv: { OURS: 'ours', foo: 'from-our-env' } });
    t.is(r.code, 0, r.stderr);
    t.is(r.out, expected, `exec-env ${extra.join(' ')}`);
  }
  assertNoTemp(t, ws);
});

test('exec-env --pristine: only the decrypted values, nothing from our environment', async (t) => {
  const ws = workspace(t);
  await ws.encryptTo('s.yaml', NESTED);
  const envBin = spawnSync('sh', ['-c', 'command -v env'], { encoding: 'utf8' }).stdout.trim();
  const r = await ws.run(['exec-env', '--pristine', 's.yaml', `${envBin} -0`], { extraEnv: { SENTINEL: 'leak' } });
  t.is(r.code, 0, r.stderr);
  const vars = Object.fromEntries(
    r.out
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
  const decrypted = { foo: 'bar', num: '5', flag: 'true', ratio: '0.5', db_user: 'admin', db_hosts_0: 'h1', db_hosts_1: 'h2' };
  for (const [k, v] of Object.entries(decrypted)) t.is(vars[k], v, k);
  // what /bin/sh itself adds to any environment
  const shell = new Set(['PWD', 'OLDPWD', 'SHLVL', '_']);
  t.deepEqual(Object.keys(vars).filter((k) => !(k in decrypted) && !shell.has(k)), [], 'nothing else in the environment');
  // and without --pristine our environment is there
  const r2 = await ws.run(['exec-env', 's.yaml', `${envBin} -0`], { extraEnv: { SENTINEL: 'leak' } });
  t.true(r2.out.split('\0').includes('SENTINEL=leak'));
});

test('exec-env writes nothing to TSOPS_TMPDIR, not even while the command runs', async (t) => {
  const ws = workspace(t);
  await ws.encryptTo('s.yaml', NESTED);
  const r = await ws.run(['exec-env', 's.yaml', 'ls -A "$TSOPS_TMPDIR"; echo "[$foo]"']);
  t.is(r.code, 0, r.stderr);
  t.is(r.out, '[bar]\n');
  assertNoTemp(t, ws);
});

test('exec-file: a FIFO by default, in a 0700 dir in TSOPS_TMPDIR, removed after the command', async (t) => {
  const ws = workspace(t);
  await ws.encryptTo('s.yaml', NESTED);
  const rec = join(ws.home, 'path');
  const r = await ws.run(['exec-file', 's.yaml', `echo {} > '${rec}'; test -p {} || exit 9; stat -c %a "$(dirname {})"; cat {}`]);
  t.is(r.code, 0, r.stderr);
  t.is(r.out, `700\n${NESTED}`);
  const path = readFileSync(rec, 'utf8').trim();
  t.is(dirname(dirname(path)), ws.shm);
  t.false(existsSync(dirname(path)), 'the private dir is gone');
  assertNoTemp(t, ws);
});

test('exec-file --no-fifo: a regular 0600 file, removed after the command (also after a failure)', async (t) => {
  const ws = workspace(t);
  await ws.encryptTo('s.yaml', NESTED);
  const r = await ws.run(['exec-file', '--no-fifo', 's.yaml', 'test -f {} && ! test -p {} && stat -c %a {} "$(dirname {})" && cat {} && cat {}']);
  t.is(r.code, 0, r.stderr);
  t.is(r.out, `600\n700\n${NESTED}${NESTED}`, 'a regular file can be read twice');
  assertNoTemp(t, ws);
  const failed = await ws.run(['exec-file', '--no-fifo', 's.yaml', 'cat {} > /dev/null; exit 3']);
  t.is(failed.code, 3, failed.stderr);
  assertNoTemp(t, ws, 'after the command failed');
});

test('exec-file: temp removed after the command fails, and after it never reads the FIFO', async (t) => {
  const ws = workspace(t);
  await ws.encryptTo('s.yaml', NESTED);
  const failed = await ws.run(['exec-file', 's.yaml', 'head -c 3 {}; exit 5']);
  t.is(failed.code, 5, failed.stderr);
  t.is(failed.out, 'foo');
  assertNoTemp(t, ws, 'after the command failed');
  const started = Date.now();
  const unread = await ws.run(['exec-file', 's.yaml', 'true']);
  t.is(unread.code, 0, unread.stderr);
  t.true(Date.now() - started < 15_000, 'tsops does not hang on a FIFO nobody reads');
  assertNoTemp(t, ws, 'after the FIFO was never read');
  const unreadFail = await ws.run(['exec-file', 's.yaml', 'exit 4']);
  t.is(unreadFail.code, 4, unreadFail.stderr);
  assertNoTemp(t, ws, 'after an unread FIFO and a failure');
});

test('exec-file --output-type and --filename: converted plaintext under the given name', async (t) => {
  const ws = workspace(t);
  await ws.encryptTo('s.yaml', 'A: one\nB: "2"\n');
  const r = await ws.run(['exec-file', '--output-type', 'dotenv', '--filename', 'app.env', 's.yaml', 'basename {}; cat {}']);
  t.is(r.code, 0, r.stderr);
  t.is(r.out, 'app.env\nA=one\nB=2\n');
  const bad = await ws.run(['exec-file', '--filename', '../escape', 's.yaml', 'cat {}']);
  t.not(bad.code, 0);
  t.regex(bad.stderr, /--filename/);
  t.is(bad.out, '');
  assertNoTemp(t, ws);
});

test('exec-file: SIGTERM to tsops reaches the command, and the plaintext is removed', async (t) => {
  const ws = workspace(t);
  await ws.encryptTo('s.yaml', NESTED);
  const started = join(ws.home, 'started');
  const got = join(ws.home, 'got-term');
  const cmd = `trap 'touch ${got}; exit 0' TERM; cat {} > /dev/null; touch '${started}'; while :; do sleep 0.1; done`;
  const p = spawnDetached(t, ws, ['exec-file', '--no-fifo', 's.yaml', cmd]);
  await waitForFile(started);
  t.is(readdirSync(ws.shm).length, 1, 'the plaintext dir exists while the command runs');
  p.child.kill('SIGTERM');
  const res = await p.exited;
  t.true(res.signal === 'SIGTERM' || res.code === 143 || res.code === 0, `tsops ended: ${JSON.stringify(res)}`);
  await waitForFile(got, 10_000);
  assertNoTemp(t, ws);
});
