/**
 * Concurrent writers: real tsops processes changing the same file at once never lose an update
 * silently. Each process either succeeds and its change is in the final file, or fails with
 * exit 3, one message naming the file and the holder, and its change is not in the file.
 */
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ageWorkspace, assertCleanFailure, hasAgeKeygen, spawnCli, type AgeWorkspace, type CliResult } from '../helpers/cli.js';
import { fuzzRuns } from '../helpers/fuzz.js';

const skip = !hasAgeKeygen();
const CANARY = 'TSOPS-CANARY-conc';

async function setup(t: ExecutionContext): Promise<AgeWorkspace> {
  const ws = ageWorkspace(t);
  ws.write('s.yaml', `base: ${CANARY}-base\n`);
  writeFileSync(join(ws.dir, 's.yaml'), await ws.encrypted('s.yaml'));
  return ws;
}

async function decrypted(ws: AgeWorkspace): Promise<Record<string, unknown>> {
  const r = await spawnCli(['decrypt', '--output-type', 'json', 's.yaml'], { cwd: ws.dir, env: ws.env }).done;
  if (r.code !== 0) throw new Error(`the final file does not decrypt: ${r.stderr}`);
  return JSON.parse(r.out) as Record<string, unknown>;
}

/** A run's update is in the file if it succeeded, absent (and the failure clean) if not. */
function assertNotLost(t: ExecutionContext, r: CliResult, present: boolean, label: string): void {
  if (r.code === 0) t.true(present, `${label}: succeeded but its update is missing (lost update)`);
  else {
    assertCleanFailure(t, r, { code: 3, message: /s\.yaml: /, secrets: [CANARY] });
    t.false(present, `${label}: failed but its update was written`);
  }
}

const noLeftovers = (t: ExecutionContext, ws: AgeWorkspace) =>
  t.deepEqual(readdirSync(ws.dir).filter((n) => n.includes('.tsops-')), [], 'no lock or temp file left');

test('concurrency: two sets of different keys at once: both updates are kept, every round', async (t) => {
  if (skip) return t.fail('age-keygen is needed');
  const ws = await setup(t);
  const rounds = fuzzRuns(6, 0.005);
  let both = 0;
  for (let i = 0; i < rounds; i++) {
    const a = spawnCli(['set', 's.yaml', `["a${i}"]`, `"${CANARY}-a${i}"`], { cwd: ws.dir, env: ws.env });
    const b = spawnCli(['set', 's.yaml', `["b${i}"]`, `"${CANARY}-b${i}"`], { cwd: ws.dir, env: ws.env });
    const [ra, rb] = await Promise.all([a.done, b.done]);
    const doc = await decrypted(ws);
    assertNotLost(t, ra, doc[`a${i}`] === `${CANARY}-a${i}`, `round ${i} set a`);
    assertNotLost(t, rb, doc[`b${i}`] === `${CANARY}-b${i}`, `round ${i} set b`);
    t.is(doc.base, `${CANARY}-base`);
    if (ra.code === 0 && rb.code === 0) both++;
  }
  t.is(both, rounds, 'with the default wait both writers get their turn');
  noLeftovers(t, ws);
});

test('concurrency: four writers (set, unset, rotate, set) at once: nothing lost', async (t) => {
  if (skip) return t.fail('age-keygen is needed');
  const ws = await setup(t);
  for (let i = 0; i < fuzzRuns(3, 0.002); i++) {
    await spawnCli(['set', 's.yaml', '["gone"]', '"x"'], { cwd: ws.dir, env: ws.env }).done;
    const runs = [
      spawnCli(['set', 's.yaml', '["one"]', `"${CANARY}-1-${i}"`], { cwd: ws.dir, env: ws.env }),
      spawnCli(['unset', 's.yaml', '["gone"]'], { cwd: ws.dir, env: ws.env }),
      spawnCli(['rotate', '-i', 's.yaml'], { cwd: ws.dir, env: ws.env }),
      spawnCli(['set', 's.yaml', '["two"]', `"${CANARY}-2-${i}"`], { cwd: ws.dir, env: ws.env }),
    ];
    const [r1, ru, rr, r2] = await Promise.all(runs.map((p) => p.done));
    const doc = await decrypted(ws);
    assertNotLost(t, r1!, doc.one === `${CANARY}-1-${i}`, 'set one');
    assertNotLost(t, ru!, !('gone' in doc), 'unset');
    assertNotLost(t, r2!, doc.two === `${CANARY}-2-${i}`, 'set two');
    t.is(rr!.code, 0, rr!.stderr);
  }
  noLeftovers(t, ws);
});

/** An editor that signals it is open and waits for `release` to exist, then changes `from` to `to`. */
function blockingEditor(ws: AgeWorkspace, from: string, to: string): { env: Record<string, string>; ready: string; release: string } {
  const ready = join(ws.home, `ready-${Math.random().toString(36).slice(2)}`);
  const release = `${ready}.go`;
  const editor = join(ws.home, 'editor.sh');
  writeFileSync(editor, `#!/bin/sh\ntouch '${ready}'\nwhile [ ! -e '${release}' ]; do sleep 0.05; done\nsed -i 's/${from}/${to}/' "$1"\n`);
  chmodSync(editor, 0o755);
  return { env: { ...ws.env, EDITOR: editor }, ready, release };
}

async function waitFor(path: string): Promise<void> {
  for (let i = 0; i < 400 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 25));
  if (!existsSync(path)) throw new Error(`timed out waiting for ${path}`);
}

test('concurrency: edit holds the lock; a set that cannot wait fails clearly, one that waits runs after it', async (t) => {
  if (skip) return t.fail('age-keygen is needed');
  const ws = await setup(t);
  const ed = blockingEditor(ws, 'base', 'edited');
  const edit = spawnCli(['edit', 's.yaml'], { cwd: ws.dir, env: ed.env });
  await waitFor(ed.ready);
  const quick = await spawnCli(['set', 's.yaml', '["q"]', `"${CANARY}-quick"`], { cwd: ws.dir, env: { ...ws.env, TSOPS_LOCK_TIMEOUT: '0.3' } }).done;
  assertCleanFailure(t, quick, { code: 3, message: /s\.yaml: the file is being changed by tsops edit \(pid \d+ on .*nothing was written/, secrets: [CANARY] });
  t.regex(quick.stderr, /hint: run the command again when it has finished/);
  const patient = spawnCli(['set', 's.yaml', '["p"]', `"${CANARY}-patient"`], { cwd: ws.dir, env: { ...ws.env, TSOPS_LOCK_TIMEOUT: '60' } });
  await new Promise((r) => setTimeout(r, 300));
  writeFileSync(ed.release, '');
  const [re, rp] = await Promise.all([edit.done, patient.done]);
  t.is(re.code, 0, re.stderr);
  t.is(rp.code, 0, rp.stderr);
  const doc = await decrypted(ws);
  t.deepEqual(doc, { edited: `${CANARY}-base`, p: `${CANARY}-patient` });
  noLeftovers(t, ws);
});

test('concurrency: a program that ignores the lock changes the file during an edit: the edit is not written over it but kept, encrypted', async (t) => {
  if (skip) return t.fail('age-keygen is needed');
  const ws = await setup(t);
  ws.write('other.yaml', `base: ${CANARY}-other\n`);
  const other = await ws.encrypted('other.yaml');
  const ed = blockingEditor(ws, 'base', 'edited');
  const edit = spawnCli(['edit', 's.yaml'], { cwd: ws.dir, env: ed.env });
  await waitFor(ed.ready);
  writeFileSync(join(ws.dir, 's.yaml'), other); // e.g. git checkout, or sops itself
  writeFileSync(ed.release, '');
  const r = await edit.done;
  assertCleanFailure(t, r, { code: 3, message: /s\.yaml: the file was changed by another program while you were editing it; your version was not written over it/, secrets: [CANARY] });
  t.is(readFileSync(join(ws.dir, 's.yaml'), 'utf8'), other, 'the other program\'s version is kept');
  const saved = readdirSync(ws.dir).filter((n) => n.startsWith('s.yaml.tsops-edit-'));
  t.is(saved.length, 1, 'the edited version is saved');
  t.regex(r.stderr, new RegExp(`hint: your version is saved, encrypted, in s\\.yaml\\.tsops-edit-`));
  t.false(readFileSync(join(ws.dir, saved[0]!), 'utf8').includes(CANARY), 'saved encrypted');
  const dec = await spawnCli(['decrypt', '--input-type', 'yaml', saved[0]!], { cwd: ws.dir, env: ws.env }).done;
  t.is(dec.out, `edited: ${CANARY}-base\n`);
  t.deepEqual(readdirSync(ws.dir).filter((n) => n.includes('.tsops-') && !n.startsWith('s.yaml.tsops-edit-')), []);
});

test('concurrency: stale locks: a dead holder is ignored at once; a holder on another host is named with what to do', async (t) => {
  if (skip) return t.fail('age-keygen is needed');
  const ws = await setup(t);
  const dead = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
  const lock = join(ws.dir, '.s.yaml.tsops-lock');
  writeFileSync(lock, JSON.stringify({ pid: Number(dead), host: hostname(), command: 'set', started: '2020-01-01T00:00:00Z', nonce: 'x' }));
  const r = await spawnCli(['set', 's.yaml', '["a"]', `"${CANARY}-a"`], { cwd: ws.dir, env: { ...ws.env, TSOPS_LOCK_TIMEOUT: '0' } }).done;
  t.is(r.code, 0, r.stderr);
  t.false(existsSync(lock));
  writeFileSync(lock, JSON.stringify({ pid: 1, host: 'elsewhere.example', command: 'rotate', started: '2020-01-01T00:00:00Z', nonce: 'y' }));
  const before = readFileSync(join(ws.dir, 's.yaml'));
  const r2 = await spawnCli(['set', 's.yaml', '["b"]', `"${CANARY}-b"`], { cwd: ws.dir, env: { ...ws.env, TSOPS_LOCK_TIMEOUT: '0.2' } }).done;
  assertCleanFailure(t, r2, { code: 3, message: /s\.yaml: the file is being changed by tsops rotate \(pid 1 on elsewhere\.example, since 2020-01-01T00:00:00Z\); waited 0\.2s, nothing was written/, secrets: [CANARY] });
  t.regex(r2.stderr, /hint: if no tsops runs on elsewhere\.example any more, remove .*\.s\.yaml\.tsops-lock and run the command again/);
  t.true(readFileSync(join(ws.dir, 's.yaml')).equals(before), 'nothing written');
  t.true(existsSync(lock), 'a lock that cannot be checked is not broken');
});
