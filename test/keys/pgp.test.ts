/**
 * PGP key kind without GnuPG: metadata parsing and writing, fingerprint handling, the exact
 * gpg command lines (through a recording fake `run`), and how gpg failures are reported.
 */
import test from 'ava';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, SopsError } from '../../src/errors.js';
import {
  createPgpKind, formatCreatedAt, gnupgHome, gpgProblem, parseCreatedAt, pgpKind, shortenFingerprint,
} from '../../src/keys/pgp.js';
import { KeyUnavailableError, type KeyContext, type RunOptions, type RunResult } from '../../src/keys/types.js';
import { entry, get, int, map, seq, str, time, type MapNode } from '../../src/tree/types.js';
import { tempDir } from '../helpers/gpg.js';
import { makeKeyContext } from '../helpers/key-context.js';

const FP = 'FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4';
const ARMOR = '-----BEGIN PGP MESSAGE-----\n\nwcBMAyUpShfNkFB/\n=5PzX\n-----END PGP MESSAGE-----';

interface Call {
  cmd: string;
  args: string[];
  opts: RunOptions | undefined;
}

/** A context whose `run` records calls and answers with `reply`. */
function fakeCtx(env: Record<string, string | undefined>, reply: Partial<RunResult>, now = new Date('2024-05-06T07:08:09.999Z')) {
  const calls: Call[] = [];
  const ctx: KeyContext = {
    env,
    homeDir: '/home/u',
    userConfigDir: '/home/u/.config',
    now: () => now,
    cache: new Map(),
    async run(cmd, args, opts) {
      calls.push({ cmd, args, opts });
      return { code: 0, stdout: new Uint8Array(), stderr: '', ...reply };
    },
    async readFile() {
      return undefined;
    },
  };
  return { ctx, calls };
}

const text = (m: MapNode, k: string) => {
  const v = get(m, k);
  return v?.kind === 'str' ? v.value : undefined;
};

test('fromMetadata reads fp, created_at and enc and keeps unknown fields', (t) => {
  const k = pgpKind.fromMetadata(map([
    entry('created_at', str('2019-12-10T22:45:53Z')),
    entry('enc', str(ARMOR + '\n')),
    entry('fp', str(FP)),
    entry('extra', seq([str('a')])),
  ]));
  t.is(k.type, 'pgp');
  t.is(k.id, FP);
  t.is(k.enc, ARMOR + '\n', 'enc is kept as stored (older files end with a newline)');
  const m = k.toMetadata();
  t.is(text(m, 'created_at'), '2019-12-10T22:45:53Z');
  t.is(text(m, 'fp'), FP);
  t.is(text(m, 'enc'), ARMOR + '\n');
  t.deepEqual(get(m, 'extra'), seq([str('a')]));
  t.true(m.items.every((i) => i.kind === 'entry'));
});

test('created_at is required and must be RFC 3339', (t) => {
  const missing = t.throws(() => pgpKind.fromMetadata(map([entry('fp', str(FP)), entry('enc', str(ARMOR))])), { instanceOf: SopsError });
  t.regex(missing!.message, /created_at/);
  for (const bad of ['', 'yesterday', '2019-12-10 22:45:53Z', '2019-13-10T22:45:53Z', '2019-02-30T22:45:53Z', '2019-12-10T22:45:53', '2019-12-10T22:45:53z']) {
    const e = t.throws(() => pgpKind.fromMetadata(map([entry('created_at', str(bad)), entry('fp', str(FP))])), { instanceOf: SopsError }, bad);
    t.regex(e!.message, /created_at/);
    t.is(e!.exitCode, ExitCode.Generic);
  }
  t.throws(() => pgpKind.fromMetadata(map([entry('created_at', map()), entry('fp', str(FP))])), { message: /created_at/ });
});

test('created_at is written as sops does: UTC, whole seconds', (t) => {
  const cases: Array<[string, string]> = [
    ['2019-12-10T22:45:53Z', '2019-12-10T22:45:53Z'],
    ['2019-12-10T22:45:53.987654321Z', '2019-12-10T22:45:53Z'],
    ['2019-12-10T23:45:53+01:00', '2019-12-10T22:45:53Z'],
    ['2019-12-10T20:15:53-02:30', '2019-12-10T22:45:53Z'],
    ['2020-02-29T00:00:00Z', '2020-02-29T00:00:00Z'],
  ];
  for (const [input, want] of cases) {
    const m = pgpKind.fromMetadata(map([entry('created_at', str(input)), entry('fp', str(FP)), entry('enc', str(ARMOR))])).toMetadata();
    t.is(text(m, 'created_at'), want, input);
  }
  // lenient like sops's weakly typed decoding: a YAML timestamp leaf, an int fingerprint
  const k = pgpKind.fromMetadata(map([entry('created_at', time('2019-12-10T22:45:53Z')), entry('fp', int(1234))]));
  t.is(k.id, '1234');
  t.is(formatCreatedAt(new Date('2001-02-03T04:05:06.789Z')), '2001-02-03T04:05:06Z');
  t.is(parseCreatedAt('2019-12-10T22:45:60Z'), undefined);
});

test('missing fp and enc read as empty, like sops', (t) => {
  const k = pgpKind.fromMetadata(map([entry('created_at', str('2019-12-10T22:45:53Z'))]));
  t.is(k.id, '');
  t.is(k.enc, '');
});

test('fromRecipient removes spaces only and stamps created_at from ctx.now()', (t) => {
  const { ctx } = fakeCtx({}, {});
  const k = pgpKind.fromRecipient('fbc7 b9e2 a4f9 289a c0c1  d484 3d16 cee4 a273 81b4', ctx);
  t.is(k.id, 'fbc7b9e2a4f9289ac0c1d4843d16cee4a27381b4');
  t.is(k.enc, '');
  const m = k.toMetadata();
  t.is(text(m, 'created_at'), '2024-05-06T07:08:09Z');
  t.is(text(m, 'fp'), 'fbc7b9e2a4f9289ac0c1d4843d16cee4a27381b4');
  t.is(text(m, 'enc'), '');
  t.is(pgpKind.fromRecipient('71D962851765394F76DB9CFC25294A17CD90507F!', ctx).id, '71D962851765394F76DB9CFC25294A17CD90507F!');
  t.throws(() => pgpKind.fromRecipient('  ', ctx), { instanceOf: SopsError });
});

test('shortenFingerprint keeps 16 hex digits (and the !)', (t) => {
  t.is(shortenFingerprint(FP), '3D16CEE4A27381B4');
  t.is(shortenFingerprint(FP + '!'), '3D16CEE4A27381B4!');
  t.is(shortenFingerprint('3D16CEE4A27381B4'), '3D16CEE4A27381B4');
  t.is(shortenFingerprint('A27381B4'), 'A27381B4');
});

test('gnupgHome: $GNUPGHOME, else ~/.gnupg', (t) => {
  t.is(gnupgHome({ env: { GNUPGHOME: '/g' }, homeDir: '/h' }), '/g');
  t.is(gnupgHome({ env: {}, homeDir: '/h/' }), '/h/.gnupg');
});

test('encrypt runs gpg with sops arguments, --homedir only when GNUPGHOME is set, and trims', async (t) => {
  const out = new TextEncoder().encode(`\n${ARMOR}\n\n`);
  const { ctx, calls } = fakeCtx({ GNUPGHOME: '/tmp/gh' }, { stdout: out });
  const k = pgpKind.fromRecipient(FP, ctx);
  const dataKey = new Uint8Array(32).fill(7);
  await k.encrypt(dataKey, ctx);
  t.is(k.enc, ARMOR);
  t.is(calls[0]!.cmd, 'gpg');
  t.deepEqual(calls[0]!.args, [
    '--homedir', '/tmp/gh', '--no-default-recipient', '--yes', '--encrypt', '-a', '-r', FP, '--trusted-key', '3D16CEE4A27381B4', '--no-encrypt-to',
  ]);
  t.deepEqual(calls[0]!.opts?.input, dataKey);
  t.true((calls[0]!.opts?.timeoutMs ?? 0) > 0);

  const other = fakeCtx({ SOPS_GPG_EXEC: '/opt/gpg2' }, { stdout: out });
  const k2 = pgpKind.fromRecipient(FP + '!', other.ctx);
  await k2.encrypt(dataKey, other.ctx);
  t.is(other.calls[0]!.cmd, '/opt/gpg2');
  t.deepEqual(other.calls[0]!.args.slice(0, 1), ['--no-default-recipient']);
  t.true(other.calls[0]!.args.includes('3D16CEE4A27381B4!'));
});

test('decrypt runs gpg -d with the armored text on stdin', async (t) => {
  const dataKey = new Uint8Array(32).fill(9);
  const { ctx, calls } = fakeCtx({ GNUPGHOME: '/tmp/gh' }, { stdout: dataKey });
  const k = pgpKind.fromMetadata(map([entry('created_at', str('2019-12-10T22:45:53Z')), entry('fp', str(FP)), entry('enc', str(ARMOR))]));
  t.deepEqual(await k.decrypt(ctx), dataKey);
  t.deepEqual(calls[0]!.args, ['--homedir', '/tmp/gh', '-d']);
  t.is(calls[0]!.opts?.input, ARMOR);
  const plain = fakeCtx({}, { stdout: dataKey });
  await k.decrypt(plain.ctx);
  t.deepEqual(plain.calls[0]!.args, ['-d']);
});

test('decrypt failures: gpg stderr lines, zero bytes, timeout; never the output', async (t) => {
  const k = pgpKind.fromMetadata(map([entry('created_at', str('2019-12-10T22:45:53Z')), entry('fp', str(FP)), entry('enc', str(ARMOR))]));
  const stderr = 'gpg: encrypted with 2048-bit RSA key, ID 25294A17CD90507F, created 2019-08-29\n      "SOPS Functional Tests Key 1"\ngpg: decryption failed: No secret key\n';
  const secret = new TextEncoder().encode('SECRET-OUTPUT');
  const failed = fakeCtx({}, { code: 2, stderr, stdout: secret });
  const e1 = await t.throwsAsync(k.decrypt(failed.ctx), { instanceOf: KeyUnavailableError });
  t.is(e1!.reason, 'gpg: decryption failed: No secret key');

  const empty = fakeCtx({}, { code: 0 });
  t.regex((await t.throwsAsync(k.decrypt(empty.ctx), { instanceOf: KeyUnavailableError }))!.reason, /zero bytes/);

  const timedOut = fakeCtx({}, { code: null, stdout: secret });
  const e3 = await t.throwsAsync(k.decrypt(timedOut.ctx), { instanceOf: KeyUnavailableError });
  t.regex(e3!.reason, /did not finish/);
  // some run implementations report a timeout as spawnError: still not "could not be started"
  const timedOut2 = fakeCtx({}, { code: null, spawnError: 'timed out after 5 ms' });
  t.regex((await t.throwsAsync(k.decrypt(timedOut2.ctx), { instanceOf: KeyUnavailableError }))!.reason, /did not finish/);

  const locked = fakeCtx({}, { code: 2, stderr: 'gpg: public key decryption failed: Inappropriate ioctl for device\ngpg: decryption failed: No secret key\n' });
  t.regex((await t.throwsAsync(k.decrypt(locked.ctx), { instanceOf: KeyUnavailableError }))!.reason, /passphrase.*GPG_TTY/);

  for (const e of [e1, e3]) t.notRegex(e!.message, /SECRET-OUTPUT/);
  const noEnc = pgpKind.fromMetadata(map([entry('created_at', str('2019-12-10T22:45:53Z')), entry('fp', str(FP))]));
  t.regex((await t.throwsAsync(noEnc.decrypt(empty.ctx), { instanceOf: KeyUnavailableError }))!.reason, /enc is empty/);
});

test('encrypt failures name the fingerprint and give a hint', async (t) => {
  const { ctx } = fakeCtx({}, { code: 2, stderr: `gpg: ${FP}: skipped: No public key\ngpg: [stdin]: encryption failed: No public key\n` });
  const e = await t.throwsAsync(pgpKind.fromRecipient(FP, ctx).encrypt(new Uint8Array(32), ctx), { instanceOf: SopsError });
  t.true(e!.message.includes(FP));
  t.regex(e!.message, /No public key/);
  t.regex(e!.hint ?? '', /gpg --import/);

  const expired = fakeCtx({}, { code: 2, stderr: `gpg: ${FP}: skipped: Unusable public key\n` });
  const e2 = await t.throwsAsync(pgpKind.fromRecipient(FP, expired.ctx).encrypt(new Uint8Array(32), expired.ctx), { instanceOf: SopsError });
  t.regex(e2!.hint ?? '', /expired/);

  const junk = fakeCtx({}, { code: 0, stdout: new TextEncoder().encode('hello') });
  await t.throwsAsync(pgpKind.fromRecipient(FP, junk.ctx).encrypt(new Uint8Array(32), junk.ctx), { message: /no armored/ });
});

test('gpgProblem keeps the lines that explain a failure', (t) => {
  t.is(gpgProblem('gpg: key 3D16CEE4A27381B4 marked as ultimately trusted\ngpg: checking the trustdb\ngpg: X: skipped: No public key\n'), 'gpg: X: skipped: No public key');
  t.is(gpgProblem(''), '');
});

test('a gpg that hangs is stopped by the timeout', async (t) => {
  const dir = tempDir(t);
  const script = join(dir, 'slow-gpg');
  writeFileSync(script, '#!/bin/sh\nwhile :; do :; done\n'); // no external program: works with any PATH
  chmodSync(script, 0o755);
  const ctx = makeKeyContext({ env: { PATH: process.env.PATH, SOPS_GPG_EXEC: script }, homeDir: dir });
  const kind = createPgpKind({ gpgTimeoutMs: 300 });
  const k = kind.fromMetadata(map([entry('created_at', str('2019-12-10T22:45:53Z')), entry('fp', str(FP)), entry('enc', str(ARMOR))]));
  const started = Date.now();
  const e = await t.throwsAsync(k.decrypt(ctx), { instanceOf: KeyUnavailableError });
  t.regex(e!.reason, /did not finish within/);
  t.true(Date.now() - started < 10_000);
  await t.throwsAsync(kind.fromRecipient(FP, ctx).encrypt(new Uint8Array(32), ctx), { instanceOf: SopsError, message: /did not finish/ });
});
