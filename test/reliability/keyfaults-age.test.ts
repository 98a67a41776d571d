// age identity faults through the real CLI: the key file missing, empty, unreadable (mode 000,
// run as another user), a directory, garbage, one good and one bad line; SOPS_AGE_KEY_CMD
// failing, missing, hanging (also with a child that keeps its output open), printing garbage,
// printing key material on stderr. Each: exit 128 naming the recipient and the source, no stack
// trace, no secret, nothing written (decrypt -i / --output / rotate -i leave the files alone).
import test, { type ExecutionContext } from 'ava';
import { chmodSync, chownSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ageWorkspace, assertCleanFailure, canDropRoot, listDir, type AgeWorkspace, type CliResult } from '../helpers/cli.js';

const SECRET = 'age-fault-secret-value-58';
const PLAIN = `svc:\n    password: ${SECRET}\n`;

interface Setup {
  ws: AgeWorkspace;
  encrypted: string;
  /** Runs decrypt with SOPS_AGE_KEY_FILE removed and `env` added; returns the result and its time. */
  decrypt(env: Record<string, string | undefined>, args?: string[]): Promise<CliResult & { ms: number }>;
  script(name: string, body: string): string;
}

async function setup(t: ExecutionContext): Promise<Setup> {
  const ws = ageWorkspace(t);
  ws.write('plain.yaml', PLAIN);
  const encrypted = await ws.encrypted('plain.yaml');
  ws.write('enc.yaml', encrypted);
  return {
    ws,
    encrypted,
    async decrypt(env, args = ['decrypt', 'enc.yaml']) {
      const t0 = Date.now();
      const r = await ws.run(args, { extraEnv: { SOPS_AGE_KEY_FILE: undefined, ...env } });
      return { ...r, ms: Date.now() - t0 };
    },
    script(name, body) {
      const p = join(ws.home, name);
      writeFileSync(p, `#!/bin/sh\n${body}\n`);
      chmodSync(p, 0o755);
      return p;
    },
  };
}

function assertAgeFault(t: ExecutionContext, s: Setup, r: CliResult, reason: RegExp, extraSecrets: string[] = [], recipient = s.ws.key.recipient): void {
  t.log(r.stderr);
  assertCleanFailure(t, r, { code: 128, message: reason, secrets: [SECRET, s.ws.key.identity, ...extraSecrets] });
  t.regex(r.stderr, new RegExp(`^tsops:   - (group \\d+: )?age ${recipient}: `, 'm'), 'the recipient is named');
  // (rotate prints its own, older hint from src/keymgmt: it names SOPS_AGE_KEY_FILE)
  t.regex(r.stderr, /^tsops: hint: .*(age identity|SOPS_AGE_KEY_FILE)/m, 'what to do');
  t.is(s.ws.read('enc.yaml'), s.encrypted, 'file unchanged');
}

const KEY_FILE_CASES: Array<[string, (s: Setup) => string, RegExp]> = [
  ['missing', (s) => join(s.ws.home, 'no-such-keys.txt'), /SOPS_AGE_KEY_FILE=\S+no-such-keys.txt does not exist/],
  ['empty', (s) => s.ws.write('../empty.txt', ''), /SOPS_AGE_KEY_FILE=\S+empty.txt \(empty\)/],
  ['a directory', (s) => join(s.ws.home, 'work'), /could not read SOPS_AGE_KEY_FILE=\S+: EISDIR/],
  ['binary garbage', (s) => s.ws.write('../garbage.txt', randomBytes(4096)), /garbage.txt line \d+: not an age identity/],
  ['the public key instead of the identity', (s) => s.ws.write('../pub.txt', `${s.ws.key.recipient}\n`), /pub.txt line 1: not an age identity/],
  ['an identity with a bad checksum', (s) => s.ws.write('../bad.txt', `${s.ws.key.identity.slice(0, -1)}${s.ws.key.identity.endsWith('Q') ? 'P' : 'Q'}\n`), /bad.txt line 1: malformed age identity \(bad length or checksum\)/],
  ['a passphrase-encrypted key file', (s) => s.ws.write('../enc-keys.txt', '-----BEGIN AGE ENCRYPTED FILE-----\nYWdl\n-----END AGE ENCRYPTED FILE-----\n'), /age-encrypted \(passphrase-protected\) keys file.*SOPS_AGE_KEY_CMD/],
  ['a NUL byte and CRLF', (s) => s.ws.write('../nul.txt', `${s.ws.key.identity}\0\r\n`), /nul.txt line 1: malformed age identity/],
];

for (const [name, make, reason] of KEY_FILE_CASES) {
  test(`SOPS_AGE_KEY_FILE ${name}: 128 naming the file and the line, no content shown`, async (t) => {
    const s = await setup(t);
    const r = await s.decrypt({ SOPS_AGE_KEY_FILE: make(s) });
    assertAgeFault(t, s, r, reason);
  });
}

test('a key file with one good and one bad line is rejected as a whole (as age.ParseIdentities / sops do)', async (t) => {
  const s = await setup(t);
  const file = s.ws.write('../mixed.txt', `# created by age-keygen\n${s.ws.key.identity}\nAGE-SECRET-KEY-1NOTAKEY\n`);
  const r = await s.decrypt({ SOPS_AGE_KEY_FILE: file });
  assertAgeFault(t, s, r, /mixed.txt line 3: malformed age identity/);
  // the good line alone works
  const ok = await s.decrypt({ SOPS_AGE_KEY_FILE: s.ws.write('../good.txt', `${s.ws.key.identity}\n`) });
  t.is(ok.code, 0, ok.stderr);
  t.is(ok.out, PLAIN);
});

test('an unreadable key file (mode 000, another user): 128 with EACCES, decrypt -i and --output write nothing', async (t) => {
  if (!canDropRoot()) {
    t.log('*** not root or no setpriv: the mode-000 case runs as the current user ***');
  }
  const s = await setup(t);
  const user = canDropRoot() ? 65534 : undefined;
  const file = s.ws.write('../locked.txt', readFileSync(s.ws.key.keyFile));
  chmodSync(file, 0o000);
  if (user !== undefined) {
    // the other user must be able to reach and write the work dir, but not read the key
    for (const p of [s.ws.home, s.ws.dir]) chmodSync(p, 0o777);
    for (const f of ['enc.yaml', 'plain.yaml']) chownSync(join(s.ws.dir, f), user, user);
  }
  const before = listDir(s.ws.dir);
  const run = (args: string[]) => s.ws.run(args, { extraEnv: { SOPS_AGE_KEY_FILE: file, HOME: s.ws.home }, ...(user !== undefined ? { asUser: user } : {}) });
  const r = await run(['decrypt', 'enc.yaml']);
  if (user === undefined && r.code === 0) {
    t.fail('running as root without setpriv: a mode-000 file is readable, the case cannot be tested here');
    return;
  }
  assertAgeFault(t, s, r, /could not read SOPS_AGE_KEY_FILE=\S+locked.txt: EACCES/);
  const inPlace = await run(['decrypt', '-i', 'enc.yaml']);
  assertAgeFault(t, s, inPlace, /EACCES/);
  const out = await run(['decrypt', '--output', 'out.yaml', 'enc.yaml']);
  assertAgeFault(t, s, out, /EACCES/);
  t.false(existsSync(join(s.ws.dir, 'out.yaml')), 'no output file');
  const rot = await run(['rotate', '-i', 'enc.yaml']);
  assertAgeFault(t, s, rot, /EACCES/);
  t.deepEqual(listDir(s.ws.dir), before, 'nothing written, no temp file');
});

test('SOPS_AGE_KEY_CMD failing: exit code and its stderr (printable, without key material) are shown', async (t) => {
  const s = await setup(t);
  const cmd = s.script('fail.sh', `echo "vault: permission denied for $SOPS_AGE_RECIPIENT" >&2; echo "debug: ${s.ws.key.identity}" >&2; printf '\\033]0;pwned\\007' >&2; exit 3`);
  const r = await s.decrypt({ SOPS_AGE_KEY_CMD: cmd });
  assertAgeFault(t, s, r, /SOPS_AGE_KEY_CMD `\S+fail.sh` exited with code 3: vault: permission denied for age1\w+ debug: \[redacted age identity\]/);
  t.false(r.stderr.includes('pwned'), 'no terminal title sequence');
});

test('SOPS_AGE_KEY_CMD missing, empty output, garbage output, unterminated quote: 128 each', async (t) => {
  const s = await setup(t);
  const cases: Array<[string, RegExp]> = [
    [join(s.ws.home, 'no-such-cmd'), /could not be started: \S+no-such-cmd: not found/],
    [s.script('empty.sh', 'exit 0'), /SOPS_AGE_KEY_CMD=\S+empty.sh \(empty\)/],
    [s.script('garbage.sh', 'head -c 2000 /dev/urandom; echo'), /garbage.sh line \d+: not an age identity/],
    [`sh -c 'echo unterminated`, /could not be parsed: unterminated single quote/],
  ];
  for (const [cmd, reason] of cases) {
    const r = await s.decrypt({ SOPS_AGE_KEY_CMD: cmd });
    assertAgeFault(t, s, r, reason);
  }
});

test('SOPS_AGE_KEY_CMD that hangs: stopped after TSOPS_KEY_CMD_TIMEOUT_MS, also when a child keeps its output open', async (t) => {
  const s = await setup(t);
  const hang = s.script('hang.sh', 'exec sleep 600');
  const r = await s.decrypt({ SOPS_AGE_KEY_CMD: hang, TSOPS_KEY_CMD_TIMEOUT_MS: '700' });
  assertAgeFault(t, s, r, /did not finish within 700 ms and was stopped \(TSOPS_KEY_CMD_TIMEOUT_MS/);
  t.true(r.ms < 10_000, `stopped in ${r.ms} ms`);
  // the shell is killed, its child `sleep` keeps stdout open
  const orphan = s.script('orphan.sh', 'sleep 600; echo late');
  const r2 = await s.decrypt({ SOPS_AGE_KEY_CMD: orphan, TSOPS_KEY_CMD_TIMEOUT_MS: '700' });
  assertAgeFault(t, s, r2, /did not finish within 700 ms/);
  t.true(r2.ms < 10_000, `stopped in ${r2.ms} ms`);
  // a command that prints the key and exits, leaving a background child with the pipe open
  const bg = s.script('bg.sh', `cat ${s.ws.key.keyFile}; (sleep 600 &) ; exit 0`);
  const r3 = await s.decrypt({ SOPS_AGE_KEY_CMD: bg });
  t.is(r3.code, 0, r3.stderr);
  t.is(r3.out, PLAIN);
  t.true(r3.ms < 10_000, `finished in ${r3.ms} ms`);
  const bad = await s.decrypt({ SOPS_AGE_KEY_CMD: hang, TSOPS_KEY_CMD_TIMEOUT_MS: '-1' });
  assertAgeFault(t, s, bad, /TSOPS_KEY_CMD_TIMEOUT_MS="-1" is not a whole number/);
});

test('a failing source does not hide a working one: a bad SOPS_AGE_KEY_CMD with a good SOPS_AGE_KEY decrypts', async (t) => {
  const s = await setup(t);
  const fail = s.script('fail2.sh', 'exit 1');
  const r = await s.decrypt({ SOPS_AGE_KEY_CMD: fail, SOPS_AGE_KEY: s.ws.key.identity, SOPS_AGE_KEY_FILE: join(s.ws.home, 'missing.txt') });
  t.is(r.code, 0, r.stderr);
  t.is(r.out, PLAIN);
});

test('two groups (Shamir), one key missing: 128 saying how many groups were needed, each failure listed', async (t) => {
  const s = await setup(t);
  const { ageKeygen } = await import('../helpers/cli.js');
  const k2 = ageKeygen(s.ws.home, 'second.txt');
  s.ws.write('.sops.yaml', `creation_rules:\n  - key_groups:\n      - age: [${s.ws.key.recipient}]\n      - age: [${k2.recipient}]\n`);
  const enc = await s.ws.run(['encrypt', 'plain.yaml']);
  t.is(enc.code, 0, enc.stderr);
  s.ws.write('enc.yaml', enc.out);
  s.encrypted = enc.out;
  const r = await s.decrypt({ SOPS_AGE_KEY_FILE: s.ws.key.keyFile });
  assertAgeFault(t, s, r, /2 key groups are required, only 1 could be decrypted/, [k2.identity], k2.recipient);
  t.regex(r.stderr, new RegExp(`^tsops:   - group 1: age ${k2.recipient}: no age identity matches`, 'm'));
  const ok = await s.decrypt({ SOPS_AGE_KEY: `${s.ws.key.identity}\n${k2.identity}` });
  t.is(ok.code, 0, ok.stderr);
  t.is(ok.out, PLAIN);
});
