/**
 * Crash safety: SIGKILL at many moments during a large `encrypt -i`, `set` and `rotate -i`.
 * After each kill the file is exactly the old bytes or a complete new version that decrypts
 * (MAC checked) to the expected content; whatever the killed run left (its temp file, its lock)
 * holds no plaintext, does not block the next run, and is removed by it. A killed `edit`
 * leaves its plaintext only in a 0700 directory, removed by the next edit.
 *
 * Kill points: a spread of delays from 0 to 1.2 x the command's measured duration, plus kills
 * the moment the temp file or the lock file appears. TSOPS_FUZZ_RUNS raises the spread.
 */
import test, { type ExecutionContext } from 'ava';
import { chmodSync, copyFileSync, existsSync, readdirSync, readFileSync, statSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ageWorkspace, hasAgeKeygen, spawnCli, type AgeWorkspace } from '../helpers/cli.js';
import { fuzzRuns } from '../helpers/fuzz.js';

const CANARY = 'TSOPS-CANARY-crash';
const KEYS = 8_000; // ~0.5 MB of YAML plaintext, ~1.7 MB encrypted

/** A large plaintext YAML document whose every value carries the canary. */
function bigYaml(tag: string): string {
  const lines: string[] = [];
  for (let i = 0; i < KEYS; i++) lines.push(`key_${i}: ${CANARY}-${tag}-${i}-abcdefghijklmnopqrstuvwxyz`);
  return lines.join('\n') + '\n';
}

interface KillCase {
  name: string;
  /** The command line. */
  args: string[];
  /** The decrypted content a complete new version must have. */
  expected: string;
  /** The file's bytes before the run. */
  old: Buffer;
}

const skip = !hasAgeKeygen();
const fileName = 'big.yaml';

async function decryptOk(ws: AgeWorkspace): Promise<string | undefined> {
  const p = spawnCli(['decrypt', fileName], { cwd: ws.dir, env: ws.env });
  const r = await p.done;
  return r.code === 0 ? r.out : undefined;
}

/** Starts the command and kills it with SIGKILL after `delay` ms, or when `trigger` sees its file. */
async function runAndKill(ws: AgeWorkspace, args: string[], delay: number, trigger?: RegExp): Promise<{ killed: boolean; code: number | null }> {
  const p = spawnCli(args, { cwd: ws.dir, env: ws.env });
  let watcher: ReturnType<typeof watch> | undefined;
  let timer: NodeJS.Timeout | undefined;
  const kill = () => p.child.kill('SIGKILL');
  if (trigger) {
    watcher = watch(ws.dir, (_ev, name) => {
      if (name && trigger.test(name)) kill();
    });
    timer = setTimeout(kill, 20_000);
  } else {
    timer = setTimeout(kill, delay);
  }
  const r = await p.done;
  clearTimeout(timer);
  watcher?.close();
  return { killed: r.signal === 'SIGKILL', code: r.code };
}

/** Checks the state after one (possibly killed) run; returns 'old' or 'new'. */
async function checkState(t: ExecutionContext, ws: AgeWorkspace, c: KillCase, label: string): Promise<'old' | 'new'> {
  const now = readFileSync(join(ws.dir, fileName));
  let state: 'old' | 'new' = 'old';
  if (!now.equals(c.old)) {
    state = 'new';
    t.false(now.includes(CANARY), `${label}: a changed file holds plaintext`);
    const dec = await decryptOk(ws);
    t.is(dec, c.expected, `${label}: the file is neither the old bytes nor a complete new version`);
  }
  for (const n of readdirSync(ws.dir)) {
    if (n === fileName) continue;
    t.regex(n, /^\.big\.yaml\.tsops-(\d+-[0-9a-f]+\.tmp|lock|lock\.(stale|new)-\d+-[0-9a-f]+)$/, `${label}: unexpected file ${n}`);
    const content = readFileSync(join(ws.dir, n));
    t.false(content.includes(CANARY), `${label}: leftover ${n} holds plaintext`);
    if (n.endsWith('.tmp')) t.is(statSync(join(ws.dir, n)).mode & 0o077, 0, `${label}: leftover ${n} is readable by others`);
  }
  return state;
}

/** Runs the kill matrix for one command. */
async function killMatrix(t: ExecutionContext, ws: AgeWorkspace, c: KillCase, duration: number): Promise<void> {
  const points = fuzzRuns(6, 0.02);
  const delays = Array.from({ length: points }, (_, i) => Math.round((duration * 1.2 * i) / Math.max(1, points - 1)));
  const seen = { old: 0, new: 0, killed: 0 };
  const triggers = [undefined, /\.tsops-\d+-[0-9a-f]+\.tmp$/, /\.tsops-lock$/];
  const plan: Array<{ delay: number; trigger?: RegExp }> = [...delays.map((delay) => ({ delay })), ...triggers.slice(1).map((trigger) => ({ delay: 0, trigger: trigger! }))];
  for (const { delay, trigger } of plan) {
    writeFileSync(join(ws.dir, fileName), c.old);
    const label = `${c.name}, kill ${trigger ? `when ${trigger.source} appears` : `after ${delay} ms`}`;
    const r = await runAndKill(ws, c.args, delay, trigger);
    if (r.killed) seen.killed++;
    else t.is(r.code, 0, `${label}: the run was not killed and failed`);
    seen[await checkState(t, ws, c, label)]++;
  }
  // The next run is not blocked by a killed run's lock, and removes its temp files.
  writeFileSync(join(ws.dir, fileName), c.old);
  // TSOPS_LOCK_TIMEOUT=0: a lock that is taken fails at once, so success means a dead lock was broken.
  const last = await spawnCli(c.args, { cwd: ws.dir, env: { ...ws.env, TSOPS_LOCK_TIMEOUT: '0' } }).done;
  t.is(last.code, 0, `${c.name}: the run after the kills failed (blocked by a dead lock?): ${last.stderr}`);
  t.deepEqual(readdirSync(ws.dir).filter((n) => n !== fileName), [], `${c.name}: leftovers not removed by the next run`);
  t.is(await decryptOk(ws), c.expected);
  t.log(`${c.name}: ${plan.length} kill points, ${seen.killed} killed, ${seen.old} left the old file, ${seen.new} the new one`);
  t.true(seen.killed > 0 && seen.old > 0, `${c.name}: the kill points missed the command`);
}

async function timed(ws: AgeWorkspace, args: string[]): Promise<number> {
  const start = Date.now();
  const r = await spawnCli(args, { cwd: ws.dir, env: ws.env }).done;
  if (r.code !== 0) throw new Error(`${args.join(' ')} failed: ${r.stderr}`);
  return Date.now() - start;
}

test('crash: SIGKILL during a large encrypt -i leaves the plaintext original or the complete encrypted file', async (t) => {
  if (skip) return t.fail('age-keygen is needed');
  const ws = ageWorkspace(t);
  const plain = bigYaml('enc');
  const path = ws.write(fileName, plain);
  const args = ['encrypt', '-i', '--age', ws.key.recipient, fileName];
  const duration = await timed(ws, args);
  const expected = (await decryptOk(ws))!;
  t.is(expected, plain);
  // The old file is the plaintext itself: compare it byte for byte, without the canary rule.
  await killMatrix(t, ws, { name: 'encrypt -i', args, expected, old: Buffer.from(plain) }, duration).catch((e) => t.fail(String(e)));
  t.true(existsSync(path));
});

test('crash: SIGKILL during set and rotate -i leaves the old file or the complete new one', async (t) => {
  if (skip) return t.fail('age-keygen is needed');
  const ws = ageWorkspace(t);
  ws.write(fileName, bigYaml('set'));
  await timed(ws, ['encrypt', '-i', '--age', ws.key.recipient, fileName]);
  const old = readFileSync(join(ws.dir, fileName));
  const before = (await decryptOk(ws))!;
  const setArgs = ['set', fileName, '["key_7"]', '"changed-value"'];
  const setDuration = await timed(ws, setArgs);
  const afterSet = (await decryptOk(ws))!;
  t.not(afterSet, before);
  await killMatrix(t, ws, { name: 'set', args: setArgs, expected: afterSet, old }, setDuration);

  writeFileSync(join(ws.dir, fileName), old);
  const rotArgs = ['rotate', '-i', fileName];
  const rotDuration = await timed(ws, rotArgs);
  t.is(await decryptOk(ws), before);
  await killMatrix(t, ws, { name: 'rotate -i', args: rotArgs, expected: before, old }, rotDuration);
});

test('crash: a killed edit leaves its plaintext only in a private directory, which the next edit removes', async (t) => {
  if (skip) return t.fail('age-keygen is needed');
  const ws = ageWorkspace(t);
  ws.write('shm/.keep', '');
  ws.write('s.yaml', `password: ${CANARY}-edit-secret\n`);
  const enc = await ws.encrypted('s.yaml');
  writeFileSync(join(ws.dir, 's.yaml'), enc);
  const ready = join(ws.home, 'editor-ready');
  const editor = join(ws.home, 'editor.sh');
  // An editor that says it has the file open, then waits to be killed.
  writeFileSync(editor, `#!/bin/sh\necho "$$" > '${ready}.tmp'; mv '${ready}.tmp' '${ready}'\nexec sleep 30\n`);
  chmodSync(editor, 0o755);
  const env = { ...ws.env, EDITOR: editor, TSOPS_TMPDIR: join(ws.dir, 'shm') };
  const p = spawnCli(['edit', 's.yaml'], { cwd: ws.dir, env });
  for (let i = 0; i < 200 && !existsSync(ready); i++) await new Promise((r) => setTimeout(r, 25));
  t.true(existsSync(ready), 'the editor started');
  p.child.kill('SIGKILL');
  // The editor holds the killed run's stdout/stderr open: end it too.
  process.kill(Number(readFileSync(ready, 'utf8')), 'SIGKILL');
  await p.done;
  t.is(readFileSync(join(ws.dir, 's.yaml'), 'utf8'), enc, 'the encrypted file is unchanged');
  const left = readdirSync(join(ws.dir, 'shm')).filter((n) => n.startsWith('tsops-edit-'));
  t.is(left.length, 1, 'SIGKILL runs no cleanup: the plaintext directory is still there');
  const dir = join(ws.dir, 'shm', left[0]!);
  t.is(statSync(dir).mode & 0o777, 0o700, 'the directory is private');
  for (const f of readdirSync(dir)) t.is(statSync(join(dir, f)).mode & 0o077, 0, `${f} is readable by its owner only`);
  // The killed run's lock does not block, and the next edit removes the stale directory.
  writeFileSync(editor, `#!/bin/sh\nsed -i 's/edit-secret/edit-new/' "$1"\n`);
  const r = await spawnCli(['edit', 's.yaml'], { cwd: ws.dir, env: { ...env, TSOPS_LOCK_TIMEOUT: '0' } }).done;
  t.is(r.code, 0, r.stderr);
  t.deepEqual(readdirSync(join(ws.dir, 'shm')).filter((n) => n !== '.keep'), [], 'stale plaintext directory removed');
  const dec = await spawnCli(['decrypt', 's.yaml'], { cwd: ws.dir, env: ws.env }).done;
  t.is(dec.out, `password: ${CANARY}-edit-new\n`);
  t.false(existsSync(join(ws.dir, '.s.yaml.tsops-lock')));
});
