// GnuPG faults through the real CLI with real gpg: the binary missing, gpg-agent unusable, a
// gpg (wrapper) that fails or echoes what it was given, a passphrase-protected secret key with
// no way to ask for the passphrase, a pinentry that hangs. Each failure: one message naming the
// fingerprint and what to do, exit 128 on decrypt (1 on encrypt, as sops), no stack trace, no
// secret, nothing written.
import test, { type ExecutionContext } from 'ava';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ageKeygen, assertCleanFailure, baseEnv, listDir, runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { gpg, generateKey, hasGpg, killAgent, makeGnupgHome, warnNoGpg } from '../helpers/gpg.js';

const HAVE_GPG = hasGpg();
if (!HAVE_GPG) warnNoGpg('test/reliability/keyfaults-gpg.test.ts');
const gtest = HAVE_GPG ? test : test.skip;
if (!HAVE_GPG) test('gpg missing: SKIPPING the gpg fault tests (install GnuPG)', (t) => t.fail('gpg/gpgconf are needed for these tests'));

const SECRET = 'pgp-fault-secret-value-31';
const PLAIN = `api:\n    token: ${SECRET}\n`;

interface Setup {
  dir: string;
  home: string;
  fp: string;
  env: Record<string, string>;
  encrypted: string;
  run(args: string[], extra?: Record<string, string | undefined>): Promise<CliResult & { ms: number }>;
  script(name: string, body: string): string;
}

async function setup(t: ExecutionContext, opts: { passphrase?: string; extraEncryptArgs?: string[]; extraEnv?: Record<string, string> } = {}): Promise<Setup> {
  const dir = tempDir(t, 'tsops-gpgfault-');
  const home = makeGnupgHome(t);
  const fp = generateKey(home, 'tsops fault <fault@example.com>', opts.passphrase ? { passphrase: opts.passphrase } : {});
  const env = { ...baseEnv(dir), GNUPGHOME: home, ...opts.extraEnv };
  const run = async (args: string[], extra: Record<string, string | undefined> = {}) => {
    const t0 = Date.now();
    const r = await runCli(args, { cwd: dir, env: { ...env, ...extra } });
    return { ...r, ms: Date.now() - t0 };
  };
  writeFileSync(join(dir, 'plain.yaml'), PLAIN);
  const enc = await run(['encrypt', '--pgp', fp, ...(opts.extraEncryptArgs ?? []), 'plain.yaml']);
  if (enc.code !== 0) throw new Error(`setup encrypt failed: ${enc.stderr}`);
  writeFileSync(join(dir, 'enc.yaml'), enc.stdout);
  const script = (name: string, body: string): string => {
    const p = join(dir, name);
    writeFileSync(p, `#!/bin/sh\n${body}\n`);
    chmodSync(p, 0o755);
    return p;
  };
  return { dir, home, fp, env, encrypted: enc.out, run, script };
}

function assertDecryptFault(t: ExecutionContext, s: Setup, r: CliResult, reason: RegExp): void {
  t.log(r.stderr);
  assertCleanFailure(t, r, { code: 128, message: reason, secrets: [SECRET] });
  t.regex(r.stderr, new RegExp(`^tsops:   - pgp ${s.fp}: `, 'm'), 'the fingerprint is named');
  t.regex(r.stderr, /^tsops: hint: .*gpg/m, 'a hint about gpg');
  t.is(readFileSync(join(s.dir, 'enc.yaml'), 'utf8'), s.encrypted, 'file unchanged');
}

async function assertEncryptInPlaceFault(t: ExecutionContext, s: Setup, reason: RegExp, extra: Record<string, string> = {}): Promise<CliResult> {
  const before = listDir(s.dir);
  const r = await s.run(['encrypt', '--pgp', s.fp, '-i', 'plain.yaml'], extra);
  t.log(r.stderr);
  assertCleanFailure(t, r, { code: 1, message: reason, secrets: [SECRET] });
  t.true(r.stderr.includes(s.fp), 'the fingerprint is named');
  t.is(readFileSync(join(s.dir, 'plain.yaml'), 'utf8'), PLAIN, 'plain.yaml untouched');
  t.deepEqual(listDir(s.dir), before, 'no file left behind');
  return r;
}

gtest('gpg binary missing (SOPS_GPG_EXEC pointing nowhere, no fallback key): 128 / 1, saying how to fix it', async (t) => {
  const s = await setup(t);
  const missing = { SOPS_GPG_EXEC: join(s.dir, 'no-such-gpg') };
  const dec = await s.run(['decrypt', 'enc.yaml'], missing);
  assertDecryptFault(t, s, dec, /no-such-gpg could not be started .*not found.*built-in OpenPGP/);
  const enc = await assertEncryptInPlaceFault(t, s, /no-such-gpg could not be started/, missing);
  t.regex(enc.stderr, /^tsops: hint: install GnuPG or set SOPS_GPG_EXEC/m);
});

gtest('gpg-agent cannot be started (agent-program points nowhere): 128 with gpg\'s reason, bounded', async (t) => {
  const s = await setup(t);
  killAgent(s.home);
  writeFileSync(join(s.home, 'gpg.conf'), `agent-program ${join(s.dir, 'no-such-agent')}\n`);
  const dec = await s.run(['decrypt', 'enc.yaml']);
  assertDecryptFault(t, s, dec, /agent|No secret key/i);
  t.true(dec.ms < 30_000, `stopped in ${dec.ms} ms`);
});

gtest('a gpg wrapper that fails: its last words are passed on, printable and cut', async (t) => {
  const s = await setup(t);
  const bad = s.script('bad-gpg', `cat >/dev/null; printf 'gpg: can'"'"'t connect to the agent: IPC connect call failed\\n\\033[31mgpg: \\a%s\\n' "$(head -c 3000 /dev/zero | tr '\\0' y)" >&2; exit 2`);
  const dec = await s.run(['decrypt', 'enc.yaml'], { SOPS_GPG_EXEC: bad });
  assertDecryptFault(t, s, dec, /can't connect to the agent: IPC connect call failed; gpg: y+\.\.\. \(cut\)/);
  t.false(dec.stderr.includes('\u001b'), 'no escape sequence');
  t.false(dec.stderr.includes('\u0007'), 'no bell');
  await assertEncryptInPlaceFault(t, s, /can't connect to the agent/, { SOPS_GPG_EXEC: bad });
});

gtest('a gpg wrapper that echoes the data key (encrypt) or key material (decrypt) to stderr: redacted', async (t) => {
  const s = await setup(t);
  const capture = join(s.dir, '..', `captured-${Date.now()}.bin`);
  t.teardown(() => writeFileSync(capture, ''));
  const echo = s.script('echo-gpg', `tee ${capture} | od -An -tx1 | tr -d ' \\n' >&2; echo >&2; base64 -w0 ${capture} >&2; echo >&2; exit 2`);
  const r = await assertEncryptInPlaceFault(t, s, /could not encrypt the data key with PGP key/, { SOPS_GPG_EXEC: echo });
  const key = readFileSync(capture);
  t.is(key.length, 32, 'the wrapper saw the 32-byte data key');
  t.false(r.stderr.includes(key.toString('hex')), 'hex data key not printed');
  t.false(r.stderr.includes(key.toString('base64')), 'base64 data key not printed');
  t.regex(r.stderr, /\[redacted\]/);

  const leaky = s.script('leaky-gpg', `cat >/dev/null; echo 'gpg: oops AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ' >&2; printf -- '-----BEGIN PGP PRIVATE KEY BLOCK-----\\nlQVYBGRz\\n' >&2; exit 2`);
  const dec = await s.run(['decrypt', 'enc.yaml'], { SOPS_GPG_EXEC: leaky });
  assertDecryptFault(t, s, dec, /oops \[redacted age identity\]/);
  t.notRegex(dec.stderr, /AGE-SECRET-KEY-1Q|lQVYBGRz/);
});

gtest('a passphrase-protected secret key with no tty and no usable pinentry: fails fast, not a hang', async (t) => {
  const s = await setup(t, { passphrase: 'correct horse battery' });
  // the system pinentry, with no terminal and no display
  const dec = await s.run(['decrypt', 'enc.yaml'], { TSOPS_GPG_TIMEOUT_MS: '20000' });
  assertDecryptFault(t, s, dec, /passphrase/);
  t.true(dec.ms < 20_000, `stopped in ${dec.ms} ms`);
  // no pinentry program at all
  killAgent(s.home);
  writeFileSync(join(s.home, 'gpg-agent.conf'), `s2k-count 65536\npinentry-program ${join(s.dir, 'no-such-pinentry')}\n`);
  const dec2 = await s.run(['decrypt', 'enc.yaml']);
  assertDecryptFault(t, s, dec2, /passphrase/);
  t.true(dec2.ms < 20_000, `stopped in ${dec2.ms} ms`);
});

gtest('a pinentry that never answers: gpg is stopped after TSOPS_GPG_TIMEOUT_MS', async (t) => {
  const s = await setup(t, { passphrase: 'correct horse battery' });
  killAgent(s.home);
  const hang = s.script('hang-pinentry', 'echo "OK hanging pinentry"; exec sleep 600');
  writeFileSync(join(s.home, 'gpg-agent.conf'), `s2k-count 65536\npinentry-program ${hang}\n`);
  const dec = await s.run(['decrypt', 'enc.yaml'], { TSOPS_GPG_TIMEOUT_MS: '1500' });
  assertDecryptFault(t, s, dec, /did not finish within 2 s and was stopped \(was it waiting for a passphrase\? TSOPS_GPG_TIMEOUT_MS/);
  t.true(dec.ms < 15_000, `stopped in ${dec.ms} ms`);
});

gtest('pgp key failing, age key working: decrypt succeeds; both failing: both listed with reasons', async (t) => {
  const ageHome = tempDir(t, 'tsops-gpgfault-age-');
  const age = ageKeygen(ageHome);
  const s = await setup(t, { extraEncryptArgs: ['--age', age.recipient] });
  const noGpg = { SOPS_GPG_EXEC: join(s.dir, 'no-such-gpg') };
  const ok = await s.run(['decrypt', '--decryption-order', 'pgp,age', 'enc.yaml'], { ...noGpg, SOPS_AGE_KEY_FILE: age.keyFile });
  t.is(ok.code, 0, ok.stderr);
  t.is(ok.out, PLAIN);
  const bad = await s.run(['decrypt', '--decryption-order', 'pgp,age', 'enc.yaml'], noGpg);
  assertDecryptFault(t, s, bad, /could not decrypt the data key/);
  t.regex(bad.stderr, new RegExp(`^tsops:   - pgp ${s.fp}: .*could not be started`, 'm'));
  t.regex(bad.stderr, new RegExp(`^tsops:   - age ${age.recipient}: no age identities found`, 'm'));
  // the real gpg still works afterwards
  t.is(gpg(s.home, ['--list-secret-keys', s.fp]).status, 0);
});
