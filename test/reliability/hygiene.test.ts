/**
 * Secret hygiene: plaintext and key material never reach error messages, --verbose logs, the
 * argv of any process tsops starts, or files left behind; and the whole-suite check
 * (scripts/hygiene-check.mjs over the transcript npm test records) really catches a leak.
 */
import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ageWorkspace, hasAgeKeygen, runCli, spawnCli, tempDir, type AgeWorkspace } from '../helpers/cli.js';
import { repoRoot } from '../helpers/shared.js';
// @ts-expect-error a plain ES module script without types
import { checkTranscript } from '../../scripts/hygiene-check.mjs';

interface Finding {
  where: string;
  secret: string;
  origin: string;
}
type Check = (dir: string) => Promise<{ runs: number; cliRuns: number; secrets: number; findings: Finding[] }>;
const check = checkTranscript as Check;

const CANARY = 'TSOPS-CANARY-hygiene-7f3a';
const skip = !hasAgeKeygen();
const hasStrace = spawnSync('strace', ['-V']).status === 0;

async function secretFile(t: ExecutionContext): Promise<AgeWorkspace> {
  const ws = ageWorkspace(t);
  ws.write('s.yaml', `db:\n  password: ${CANARY}-db\napi_token: ${CANARY}-api\n`);
  writeFileSync(join(ws.dir, 's.yaml'), await ws.encrypted('s.yaml'));
  return ws;
}

test('hygiene: no plaintext or key material in the argv of tsops or of any process it starts', async (t) => {
  if (skip || !hasStrace) return t.fail('age-keygen and strace are needed');
  const ws = await secretFile(t);
  const log = join(ws.home, 'execve.log');
  const editor = join(ws.home, 'editor.sh');
  writeFileSync(editor, `#!/bin/sh\nsed -i 's/-api/-api2/' "$1"\n`);
  chmodSync(editor, 0o755);
  writeFileSync(join(ws.home, 'value.json'), `"${CANARY}-file"`);
  const keyText = readFileSync(ws.key.keyFile, 'utf8');
  const cases: Array<{ args: string[]; input?: string; env?: Record<string, string | undefined> }> = [
    { args: ['set', '--value-stdin', 's.yaml', '["new"]'], input: `"${CANARY}-stdin"` },
    { args: ['set', '--value-file', 's.yaml', '["fromfile"]', join(ws.home, 'value.json')] },
    { args: ['edit', 's.yaml'], env: { EDITOR: editor } },
    { args: ['exec-env', 's.yaml', 'test -n "$api_token"'] },
    { args: ['exec-file', 's.yaml', 'cat {} > /dev/null'] },
    { args: ['decrypt', 's.yaml'], env: { SOPS_AGE_KEY_FILE: undefined, SOPS_AGE_KEY_CMD: `cat ${ws.key.keyFile}` } },
    { args: ['rotate', '-i', 's.yaml'], env: { SOPS_AGE_KEY_FILE: undefined, SOPS_AGE_KEY: keyText } },
  ];
  for (const c of cases) {
    const env: Record<string, string> = { ...ws.env };
    for (const [k, v] of Object.entries(c.env ?? {})) if (v === undefined) delete env[k]; else env[k] = v;
    const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=execve', '-s', '65536', '-o', log, process.execPath, join(repoRoot, 'bin', 'tsops.js'), ...c.args], {
      cwd: ws.dir,
      env,
      input: c.input ?? '',
    });
    t.is(r.status, 0, `${c.args.join(' ')}: ${r.stderr}`);
    const trace = readFileSync(log, 'utf8');
    const execs = trace.split('\n').filter((l) => l.includes('execve('));
    t.true(execs.length >= 1, 'strace saw the processes');
    t.false(trace.includes(CANARY), `${c.args[0]}: a plaintext value is in the argv of a process:\n${execs.filter((l) => l.includes(CANARY)).join('\n')}`);
    t.false(/AGE-SECRET-KEY-1[0-9A-Z]{50,}/.test(trace), `${c.args[0]}: key material in argv`);
  }
  const dec = await ws.run(['decrypt', 's.yaml']);
  t.regex(dec.out, new RegExp(`new: ${CANARY}-stdin`));
  t.regex(dec.out, new RegExp(`fromfile: ${CANARY}-file`));
  t.regex(dec.out, new RegExp(`api_token: ${CANARY}-api2`));
});

test('hygiene: failures and --verbose logs show no plaintext and no key material', async (t) => {
  if (skip) return t.fail('age-keygen is needed');
  const ws = await secretFile(t);
  const enc = ws.read('s.yaml');
  ws.write('tampered.yaml', enc.replace(/mac: ENC\[AES256_GCM,data:[A-Za-z0-9+/=]{4}/, (m) => m.slice(0, -4) + 'AAAA'));
  ws.write('badvalue.yaml', enc.replace(/(password: ENC\[AES256_GCM,data:)([A-Za-z0-9+/=]{4})/, '$1AAAA'));
  ws.write('bad.yaml', `a: ${CANARY}-parse\n  b: [${CANARY}-x\n`);
  ws.write('dup.yaml', `a: ${CANARY}-dup1\na: ${CANARY}-dup2\n`);
  ws.write('bad.json', `{"a": "${CANARY}-json", }`);
  ws.write('bad.env', `${CANARY}-env\n`);
  const other = join(ws.home, 'other.txt');
  spawnSync('age-keygen', ['-o', other]);
  const runs: Array<{ args: string[]; env?: Record<string, string | undefined>; input?: string; code?: number }> = [
    { args: ['decrypt', '--verbose', 's.yaml'], code: 0 },
    { args: ['decrypt', '--verbose', 'tampered.yaml'] },
    { args: ['decrypt', '--verbose', 'badvalue.yaml'] },
    { args: ['decrypt', 's.yaml'], env: { SOPS_AGE_KEY_FILE: other } },
    { args: ['decrypt', 's.yaml'], env: { SOPS_AGE_KEY_FILE: undefined, SOPS_AGE_KEY: `garbage ${CANARY}-key` } },
    { args: ['decrypt', '--extract', '["db"]["password"]["x"]', 's.yaml'] },
    { args: ['set', '--verbose', 's.yaml', '["db"]["password"]["deeper"]', `"${CANARY}-set"`], code: 0 },
    { args: ['set', 's.yaml', '["db"]', `{"broken": "${CANARY}-json"`] },
    { args: ['set', '--value-stdin', 'tampered.yaml', '["x"]'], input: `"${CANARY}-stdin"` },
    { args: ['unset', 's.yaml', '["db"]["password"]["x"]'] },
    { args: ['encrypt', '--verbose', '--age', ws.key.recipient, 'bad.yaml'] },
    { args: ['encrypt', '--age', ws.key.recipient, 'dup.yaml'] },
    { args: ['encrypt', '--age', ws.key.recipient, 'bad.json'] },
    { args: ['encrypt', '--age', ws.key.recipient, 'bad.env'] },
    { args: ['encrypt', '--age', 'age1notarecipient', 's.yaml'] },
    { args: ['rotate', '--verbose', '-i', 'tampered.yaml'] },
    { args: ['exec-env', 's.yaml', 'exit 3'], code: 3 },
    { args: ['edit', 'tampered.yaml'], env: { EDITOR: 'true' } },
  ];
  const leaks: string[] = [];
  for (const r of runs) {
    const env = { ...r.env };
    const res = await ws.run(r.args, { extraEnv: env, ...(r.input !== undefined ? { input: r.input } : {}) });
    if (r.code !== undefined) t.is(res.code, r.code, `${r.args.join(' ')}: ${res.stderr}`);
    else t.not(res.code, 0, `${r.args.join(' ')} should fail`);
    if (res.stderr.includes(CANARY)) leaks.push(`tsops ${r.args.join(' ')} (exit ${res.code}):\n${res.stderr}`);
    if (/AGE-SECRET-KEY-1[0-9A-Z]{50,}/.test(res.stderr)) leaks.push(`tsops ${r.args.join(' ')}: key material on stderr`);
    if (res.code !== 0 && r.args[0] !== 'exec-env' && res.out.includes(CANARY)) leaks.push(`tsops ${r.args.join(' ')}: plaintext on stdout of a failure`);
  }
  t.deepEqual(leaks, [], 'secrets printed');
  t.deepEqual(readdirSync(ws.dir).filter((n) => n.includes('.tsops-')), [], 'no temp or lock file left');
});

/** Writes a transcript as the recorder and runCli would. */
function transcript(t: ExecutionContext, records: object[]): string {
  const dir = tempDir(t, 'tsops-transcript-test-');
  records.forEach((r, i) => writeFileSync(join(dir, `r${i}.json`), JSON.stringify(r)));
  return dir;
}

const plain = 'user: alice\npassword: correct-horse-battery\n';
const encOut = 'user: ENC[AES256_GCM,data:xx,iv:yy,tag:zz,type:str]\npassword: ENC[AES256_GCM,data:aa,iv:bb,tag:cc,type:str]\nsops:\n  version: 3.9.2\n';
const encryptRun = { kind: 'run', pid: 100, argv: ['encrypt', '--age', 'age1x', 'p.yaml'], cwd: '/w', code: 0, argFiles: { 'p.yaml': plain }, after: {}, leftovers: {} };
const encryptCli = { kind: 'cli', pid: 100, argv: encryptRun.argv, cwd: '/w', code: 0, stdout: encOut, stderr: '' };

test('hygiene check: catches a secret in stderr, in the stdout of a failure, in a leftover file, and key material', async (t) => {
  const leak = transcript(t, [
    encryptRun,
    encryptCli,
    { kind: 'cli', pid: 101, argv: ['set', 'p.yaml', '["a"]', '1'], cwd: '/w', code: 1, stdout: '', stderr: 'tsops: error: bad value correct-horse-battery\n' },
    { kind: 'cli', pid: 102, argv: ['decrypt', 'p.yaml'], cwd: '/w', code: 51, stdout: 'password: correct-horse-battery\n', stderr: 'tsops: error: MAC mismatch\n' },
    { kind: 'run', pid: 103, argv: ['set', '--value-stdin', 'p.yaml', '["b"]'], cwd: '/w', code: 0, input: '"TSOPS-CANARY-unit"', argFiles: {}, after: {}, leftovers: { '/w/.p.yaml.tsops-103-ab.tmp': 'b: TSOPS-CANARY-unit' } },
    { kind: 'cli', pid: 104, argv: ['decrypt', 'p.yaml'], cwd: '/w', code: 128, stdout: '', stderr: 'tsops: error: bad identity AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n' },
  ]);
  const res = await check(leak);
  t.is(res.runs, 2);
  t.is(res.cliRuns, 4);
  const where = res.findings.map((f) => `${f.where}: ${f.secret}`).sort();
  t.deepEqual(where, [
    'left behind: /w/.p.yaml.tsops-103-ab.tmp: TSOPS-CANARY-unit',
    'stderr: AGE-SECRET-KEY-1[0-9A-Z]{50,}',
    'stderr: correct-horse-battery',
    'stdout of a failed run (exit 51): correct-horse-battery',
  ]);
  t.true(res.findings.some((f) => /encrypted by r0\.json/.test(f.origin)), 'the secret was learnt from the encrypt run');
});

test('hygiene check: a clean transcript passes; values left unencrypted and successful output are not secrets', async (t) => {
  const clean = transcript(t, [
    encryptRun,
    { ...encryptCli, stdout: encOut.replace('user: ENC[AES256_GCM,data:xx,iv:yy,tag:zz,type:str]', 'user: alice') },
    { kind: 'cli', pid: 101, argv: ['decrypt', 'p.yaml'], cwd: '/w', code: 0, stdout: plain, stderr: '' },
    { kind: 'cli', pid: 102, argv: ['exec-env', 'p.yaml', 'echo $password; exit 2'], cwd: '/w', code: 2, stdout: 'correct-horse-battery\n', stderr: '' },
    { kind: 'cli', pid: 103, argv: ['set', 'p.yaml', '["user"]', '1'], cwd: '/w', code: 1, stdout: '', stderr: 'tsops: error: p.yaml: ["user"]: alice is not a map\n' },
  ]);
  const res = await check(clean);
  t.is(res.secrets, 1, 'password only: user was left in plaintext by the encryption');
  t.deepEqual(res.findings, []);
});

test('hygiene recorder: a real tsops process is recorded (argv, exit code, stderr), and a leak in it is found', async (t) => {
  if (skip) return t.fail('age-keygen is needed');
  const ws = await secretFile(t);
  const dir = tempDir(t, 'tsops-transcript-live-');
  const env = { ...ws.env, TSOPS_TRANSCRIPT_DIR: dir, NODE_OPTIONS: `--import=${join(repoRoot, 'scripts', 'hygiene-preload.mjs')}` };
  const r = await runCli(['decrypt', 'missing.yaml'], { cwd: ws.dir, env });
  t.is(r.code, 100);
  const ok = await spawnCli(['decrypt', 's.yaml'], { cwd: ws.dir, env }).done;
  t.is(ok.code, 0);
  const recs = readdirSync(dir).filter((n) => n.startsWith('cli-'));
  const parsed = recs.map((n) => JSON.parse(readFileSync(join(dir, n), 'utf8')) as { argv: string[]; code: number; stderr: string; stdout: string; pid: number });
  const failed = parsed.find((p) => p.code === 100);
  t.truthy(failed, 'the failed run is recorded');
  t.deepEqual(failed!.argv, ['decrypt', 'missing.yaml']);
  t.is(failed!.stderr, r.stderr);
  const good = parsed.find((p) => p.code === 0)!;
  t.is(good.stdout, ok.out, 'stdout written through fd 1 is recorded too');
  t.deepEqual((await check(dir)).findings, [], 'a real clean run passes');
  // The same process, had it printed a secret in its error:
  writeFileSync(join(dir, recs[parsed.indexOf(failed!)]!), JSON.stringify({ ...failed, kind: 'cli', stderr: `${failed!.stderr}value: ${CANARY}-db\n` }));
  const res = await check(dir);
  t.is(res.findings.length, 1);
  t.is(res.findings[0]!.where, 'stderr');
});
