import test, { type ExecutionContext } from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { armor, generateHybridIdentity, identityToRecipient } from 'age-encryption';
import { AgeMasterKey, ageKind, ageRecipientKind, ageRecipientOf, generateAgeIdentity } from '../../src/keys/age.js';
import { KeyUnavailableError, type KeyContext } from '../../src/keys/types.js';
import { SopsError } from '../../src/errors.js';
import { entry, get, map, str, type MapNode } from '../../src/tree/types.js';
import { makeKeyContext } from '../helpers/key-context.js';

const HAVE_AGE = spawnSync('age', ['--version']).status === 0 && spawnSync('age-keygen', ['--version']).status === 0;
if (!HAVE_AGE) console.warn('*** age / age-keygen not found on PATH: the age interop tests are SKIPPED ***');
const interop = HAVE_AGE ? test : test.skip;
if (!HAVE_AGE) {
  test('age binary missing (interop tests skipped)', (t) => {
    t.log('age / age-keygen not found on PATH: install age to run the interop tests');
    t.pass();
  });
}

function tempDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsops-age-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A context with nothing configured but the given variables, in an empty temp home. */
function ctxFor(t: ExecutionContext, env: Record<string, string | undefined> = {}): { ctx: KeyContext; home: string } {
  const home = tempDir(t);
  return { home, ctx: makeKeyContext({ env: { PATH: process.env.PATH, HOME: home, ...env }, homeDir: home }) };
}

function ageKeygen(dir: string, name = 'key.txt'): { path: string; recipient: string; identity: string } {
  const path = join(dir, name);
  execFileSync('age-keygen', ['-o', path], { stdio: 'pipe' });
  const text = readFileSync(path, 'utf8');
  return { path, recipient: /# public key: (age1\w+)/.exec(text)![1]!, identity: /AGE-SECRET-KEY-1\w+/.exec(text)![0] };
}

const metadata = (recipient: string, enc: string, ...extra: Array<[string, string]>): MapNode =>
  map([entry('recipient', str(recipient)), entry('enc', str(enc)), ...extra.map(([k, v]) => entry(k, str(v)))]);

const strOf = (m: MapNode, k: string): string | undefined => {
  const v = get(m, k);
  return v?.kind === 'str' ? v.value : undefined;
};

// ---------- interop with the age binary (X25519) ----------

interop('our enc is decrypted by `age -d`, for a data key and a 33-byte share', async (t) => {
  const dir = tempDir(t);
  const key = ageKeygen(dir);
  const { ctx } = ctxFor(t);
  for (const len of [32, 33]) {
    const dataKey = new Uint8Array(randomBytes(len));
    const k = ageKind.fromRecipient(key.recipient, ctx);
    await k.encrypt(dataKey, ctx);
    writeFileSync(join(dir, 'enc.age'), k.enc);
    t.deepEqual(new Uint8Array(execFileSync('age', ['-d', '-i', key.path, join(dir, 'enc.age')])), dataKey);
  }
});

interop('our enc has the armored shape sops writes', async (t) => {
  const dir = tempDir(t);
  const { ctx } = ctxFor(t);
  const k = ageKind.fromRecipient(ageKeygen(dir).recipient, ctx);
  await k.encrypt(new Uint8Array(32), ctx);
  const lines = k.enc.split('\n');
  t.is(lines[0], '-----BEGIN AGE ENCRYPTED FILE-----');
  t.true(k.enc.endsWith('-----END AGE ENCRYPTED FILE-----\n'));
  const body = lines.slice(1, -2);
  t.true(body.slice(0, -1).every((l) => l.length === 64));
  t.true(body.at(-1)!.length > 0 && body.at(-1)!.length <= 64);
  t.true(Buffer.from(armor.decode(k.enc)).toString('latin1').startsWith('age-encryption.org/v1\n-> X25519 '));
});

interop('`age -e -a -r` output decrypts with SOPS_AGE_KEY_FILE', async (t) => {
  const dir = tempDir(t);
  const key = ageKeygen(dir);
  const dataKey = new Uint8Array(randomBytes(32));
  const enc = execFileSync('age', ['-e', '-a', '-r', key.recipient], { input: dataKey }).toString();
  const { ctx } = ctxFor(t, { SOPS_AGE_KEY_FILE: key.path });
  const k = ageKind.fromMetadata(metadata(key.recipient, enc));
  t.deepEqual(await k.decrypt(ctx), dataKey);
});

interop('binary `age -e -r` output, armored, decrypts with SOPS_AGE_KEY', async (t) => {
  const dir = tempDir(t);
  const key = ageKeygen(dir);
  const dataKey = new Uint8Array(randomBytes(33));
  const bin = execFileSync('age', ['-e', '-r', key.recipient], { input: dataKey });
  const { ctx } = ctxFor(t, { SOPS_AGE_KEY: key.identity });
  t.deepEqual(await ageKind.fromMetadata(metadata(key.recipient, armor.encode(bin))).decrypt(ctx), dataKey);
});

interop('a file for several recipients decrypts with the second identity only', async (t) => {
  const dir = tempDir(t);
  const a = ageKeygen(dir, 'a.txt');
  const b = ageKeygen(dir, 'b.txt');
  const dataKey = new Uint8Array(randomBytes(32));
  const enc = execFileSync('age', ['-e', '-a', '-r', a.recipient, '-r', b.recipient], { input: dataKey }).toString();
  const { ctx } = ctxFor(t, { SOPS_AGE_KEY_FILE: b.path });
  t.deepEqual(await ageKind.fromMetadata(metadata(a.recipient, enc)).decrypt(ctx), dataKey);
});

interop('the wrong key gives KeyUnavailableError that lists the sources and no key material', async (t) => {
  const dir = tempDir(t);
  const right = ageKeygen(dir, 'right.txt');
  const wrong = ageKeygen(dir, 'wrong.txt');
  const { ctx, home } = ctxFor(t, { SOPS_AGE_KEY_FILE: wrong.path, SOPS_AGE_KEY: wrong.identity });
  const k = ageKind.fromRecipient(right.recipient, ctx);
  await k.encrypt(new Uint8Array(32), ctx);
  const err = await t.throwsAsync(k.decrypt(ctx), { instanceOf: KeyUnavailableError });
  t.log(err!.reason);
  t.regex(err!.reason, new RegExp(`^no age identity matches recipient ${right.recipient}; looked in SOPS_AGE_KEY \\(1 identity\\)`));
  t.true(err!.reason.includes(`SOPS_AGE_KEY_FILE=${wrong.path} (1 identity)`));
  t.true(err!.reason.includes(`${join(home, '.config', 'sops', 'age', 'keys.txt')} (missing)`));
  t.true(err!.reason.includes('not set: SOPS_AGE_KEY_CMD'));
  t.true(err!.reason.includes('AGE-SECRET-KEY-1... identity of this recipient'));
  t.false(err!.reason.includes(wrong.identity));
  t.false(err!.reason.includes(right.identity));
});

// ---------- without the binary ----------

test('post-quantum hybrid recipients round-trip', async (t) => {
  const identity = await generateHybridIdentity();
  const recipient = await identityToRecipient(identity);
  t.true(recipient.startsWith('age1pq1'));
  t.is(ageRecipientKind(recipient), 'hybrid');
  const { ctx } = ctxFor(t, { SOPS_AGE_KEY: `# pq\n${identity}\n` });
  const k = ageKind.fromRecipient(recipient, ctx);
  const dataKey = new Uint8Array(randomBytes(32));
  await k.encrypt(dataKey, ctx);
  t.true(Buffer.from(armor.decode(k.enc)).toString('latin1').includes('-> mlkem768x25519 '));
  t.deepEqual(await ageKind.fromMetadata(k.toMetadata()).decrypt(ctx), dataKey);
  t.is(await ageRecipientOf(identity), recipient);
});

test('no identities at all: the reason says where it looked and what to do', async (t) => {
  const { recipient } = await generateAgeIdentity();
  const { ctx, home } = ctxFor(t);
  const k = ageKind.fromRecipient(recipient, ctx);
  await k.encrypt(new Uint8Array(32), ctx);
  const err = await t.throwsAsync(k.decrypt(ctx), { instanceOf: KeyUnavailableError });
  t.true(err!.reason.startsWith(`no age identities found for recipient ${recipient}; looked in `));
  for (const p of [join(home, '.config/sops/age/keys.txt'), join(home, '.ssh/id_ed25519'), join(home, '.ssh/id_rsa')]) {
    t.true(err!.reason.includes(`${p} (missing)`), p);
  }
  t.true(err!.reason.includes('not set: SOPS_AGE_KEY, SOPS_AGE_KEY_FILE, SOPS_AGE_KEY_CMD, SOPS_AGE_SSH_PRIVATE_KEY_FILE, SOPS_AGE_SSH_PRIVATE_KEY_CMD'));
});

test('toMetadata / fromMetadata keep recipient, enc and unknown fields', async (t) => {
  const { identity, recipient } = await generateAgeIdentity();
  const { ctx } = ctxFor(t, { SOPS_AGE_KEY: identity });
  const k = ageKind.fromRecipient(`  ${recipient}\n`, ctx);
  t.is(k.type, 'age');
  t.is(k.id, recipient);
  t.is(k.enc, '');
  await k.encrypt(new Uint8Array(32).fill(7), ctx);
  const m = k.toMetadata();
  t.deepEqual(m.items.map((i) => (i.kind === 'entry' ? i.key : i.kind)), ['recipient', 'enc']);
  t.is(strOf(m, 'recipient'), recipient);
  t.is(strOf(m, 'enc'), k.enc);
  t.false('created_at' in Object.fromEntries(m.items.map((i) => [i.kind === 'entry' ? i.key : '', 1])));

  const withExtra = metadata(recipient, k.enc, ['future_field', 'x']);
  const again = ageKind.fromMetadata(withExtra);
  t.true(again instanceof AgeMasterKey);
  t.deepEqual(again.toMetadata(), withExtra);
  t.not(again.toMetadata(), withExtra);
  await again.encrypt(new Uint8Array(32), ctx);
  t.is(strOf(again.toMetadata(), 'future_field'), 'x');
  t.deepEqual(await again.decrypt(ctx), new Uint8Array(32));
});

test('fromMetadata rejects entries without a usable recipient', (t) => {
  t.throws(() => ageKind.fromMetadata(map([entry('enc', str('x'))])), { instanceOf: SopsError, message: /"recipient"/ });
  t.throws(() => ageKind.fromMetadata(map([entry('recipient', map())])), { instanceOf: SopsError, message: /"recipient"/ });
  const k = ageKind.fromMetadata(map([entry('recipient', str('age1whatever'))]));
  t.is(k.enc, '');
});

test('fromRecipient validates and names the bad recipient', async (t) => {
  const { ctx } = ctxFor(t);
  const { recipient } = await generateAgeIdentity();
  const broken = recipient.slice(0, -1) + (recipient.endsWith('q') ? 'p' : 'q');
  for (const [bad, why] of [
    [broken, /not a valid Bech32/],
    ['age1tooshort', /not a valid Bech32/],
    ['AGE1' + recipient.slice(4), /unknown recipient type/],
    ['age1yubikey1qwertyuiop', /plugin recipients .* not supported/],
    ['ssh-ed25519 notbase64!!', /base64/],
    ['ssh-dss AAAAB3NzaC1kc3MAAAA=', /unsupported SSH key type "ssh-dss"/],
    ['pgp:ABCDEF', /unknown recipient type/],
  ] as const) {
    const err = t.throws(() => ageKind.fromRecipient(bad, ctx), { instanceOf: SopsError });
    t.true(err!.message.includes(JSON.stringify(bad)), err!.message);
    t.regex(err!.message, why);
    t.truthy(err!.hint);
  }
});

test('a plugin recipient from metadata fails clearly on encrypt and decrypt', async (t) => {
  const { ctx } = ctxFor(t, { SOPS_AGE_KEY: (await generateAgeIdentity()).identity });
  const k = ageKind.fromMetadata(metadata('age1yubikey1qwertyuiop', ''));
  await t.throwsAsync(k.encrypt(new Uint8Array(32), ctx), { instanceOf: SopsError, message: /not supported/ });
  await t.throwsAsync(k.decrypt(ctx), { instanceOf: KeyUnavailableError, message: /empty enc/ });
});

test('a damaged enc gives KeyUnavailableError', async (t) => {
  const { identity, recipient } = await generateAgeIdentity();
  const { ctx } = ctxFor(t, { SOPS_AGE_KEY: identity });
  const err = await t.throwsAsync(ageKind.fromMetadata(metadata(recipient, 'not armored')).decrypt(ctx), { instanceOf: KeyUnavailableError });
  t.regex(err!.reason, /not an armored age file/);

  const k = ageKind.fromRecipient(recipient, ctx);
  await k.encrypt(new Uint8Array(32), ctx);
  const raw = armor.decode(k.enc);
  raw[raw.length - 1]! ^= 1;
  const err2 = await t.throwsAsync(ageKind.fromMetadata(metadata(recipient, armor.encode(raw))).decrypt(ctx), { instanceOf: KeyUnavailableError });
  t.regex(err2!.reason, /^age could not decrypt the data key for age1/);
});

test('generateAgeIdentity and ageRecipientOf', async (t) => {
  const { identity, recipient } = await generateAgeIdentity();
  t.regex(identity, /^AGE-SECRET-KEY-1[0-9A-Z]{58}$/);
  t.regex(recipient, /^age1[0-9a-z]{58}$/);
  t.is(await ageRecipientOf(identity), recipient);
  t.is(await ageRecipientOf(`${identity}\n`), recipient);
  await t.throwsAsync(ageRecipientOf('hello'), { instanceOf: SopsError, message: /not an age identity/ });
  const bad = identity.slice(0, -1) + (identity.endsWith('Q') ? 'P' : 'Q');
  const err = await t.throwsAsync(ageRecipientOf(bad), { instanceOf: SopsError });
  t.false(err!.message.includes(bad));
});

interop('ageRecipientOf agrees with age-keygen -y', async (t) => {
  const key = ageKeygen(tempDir(t));
  t.is(await ageRecipientOf(key.identity), key.recipient);
  t.is(execFileSync('age-keygen', ['-y'], { input: key.identity }).toString().trim(), await ageRecipientOf(key.identity));
});
