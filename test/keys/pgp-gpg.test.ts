/**
 * PGP key kind against the real gpg binary: the getsops/sops vector, round trips, subkeys,
 * and the failures a user meets (unknown, expired and passphrase-protected keys, wrong key).
 */
import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SopsError } from '../../src/errors.js';
import { pgpKind } from '../../src/keys/pgp.js';
import { KeyUnavailableError, type KeyContext, type MasterKey } from '../../src/keys/types.js';
import { entry, map, str } from '../../src/tree/types.js';
import {
  VECTOR_DIR, VECTOR_FP, VECTOR_PUBLIC_ONLY_FP, VECTOR_SUBKEY_FP, fingerprints, firstPgpEnc, generateKey, gpg, hasGpg,
  listPackets, makeGnupgHome, tempDir, warnNoGpg,
} from '../helpers/gpg.js';
import { makeKeyContext } from '../helpers/key-context.js';

const HAVE_GPG = hasGpg();
if (!HAVE_GPG) warnNoGpg('test/keys/pgp-gpg.test.ts');
const gtest = HAVE_GPG ? test.serial : test.skip;
if (!HAVE_GPG) test('gpg missing: real-gpg PGP tests skipped', (t) => t.pass());

function ctxFor(t: ExecutionContext, gnupgHome: string, env: Record<string, string> = {}): KeyContext {
  const home = tempDir(t, 'tsops-home-');
  return makeKeyContext({ env: { PATH: process.env.PATH, HOME: home, GNUPGHOME: gnupgHome, ...env }, homeDir: home });
}

function entryWith(enc: string, fp = VECTOR_FP): MasterKey {
  return pgpKind.fromMetadata(map([entry('created_at', str('2026-05-22T20:16:20Z')), entry('enc', str(enc)), entry('fp', str(fp))]));
}

const timings: Record<string, number[]> = {};
async function timed<T>(label: string, f: () => Promise<T>): Promise<T> {
  const s = performance.now();
  try {
    return await f();
  } finally {
    (timings[label] ??= []).push(performance.now() - s);
  }
}
test.after.always(() => {
  for (const [k, v] of Object.entries(timings)) {
    console.log(`gpg timing ${k}: n=${v.length} min=${Math.min(...v).toFixed(0)}ms max=${Math.max(...v).toFixed(0)}ms`);
  }
});

gtest('decrypts the sops.pgp[0].enc of the getsops/sops vector file into 32 bytes', async (t) => {
  const h = makeGnupgHome(t, { importVectorKey: true });
  const enc = firstPgpEnc(readFileSync(join(VECTOR_DIR, 'format.enc.yaml'), 'utf8'));
  const ctx = ctxFor(t, h);
  const key = await timed('decrypt (first, starts gpg-agent)', () => entryWith(enc).decrypt(ctx));
  t.is(key.length, 32);
  const again = await timed('decrypt', () => entryWith(enc + '\n').decrypt(ctx));
  t.deepEqual(again, key, 'a trailing newline in enc (older files) is fine');
  t.deepEqual(new Uint8Array(gpg(h, ['-d'], enc).stdout), key);
});

gtest('round trip through gpg with the vector key and with a fresh key', async (t) => {
  const h = makeGnupgHome(t, { importVectorKey: true });
  const fresh = generateKey(h, 'tsops fresh <fresh@example.com>');
  const ctx = ctxFor(t, h);
  for (const fp of [VECTOR_FP, fresh]) {
    const dataKey = randomBytes(32);
    const k = pgpKind.fromRecipient(fp, ctx);
    await timed('encrypt', () => k.encrypt(dataKey, ctx));
    t.true(k.enc.startsWith('-----BEGIN PGP MESSAGE-----\n'));
    t.true(k.enc.endsWith('-----END PGP MESSAGE-----'), 'trimmed');
    t.deepEqual(await timed('decrypt', () => k.decrypt(ctx)), new Uint8Array(dataKey));
    const back = pgpKind.fromMetadata(k.toMetadata());
    t.deepEqual(await back.decrypt(ctx), new Uint8Array(dataKey));
    t.regex(listPackets(h, k.enc), /literal data packet:\s+mode b/);
  }
  // a 33-byte Shamir share
  const share = randomBytes(33);
  const k = pgpKind.fromRecipient(fresh, ctx);
  await k.encrypt(share, ctx);
  t.deepEqual(await k.decrypt(ctx), new Uint8Array(share));
});

gtest('fingerprints: spaces, lower case and a ! subkey work with gpg', async (t) => {
  const h = makeGnupgHome(t, { importVectorKey: true });
  const ctx = ctxFor(t, h);
  const spaced = VECTOR_FP.replace(/(.{4})/g, '$1 ').trim().toLowerCase();
  const k1 = pgpKind.fromRecipient(spaced, ctx);
  t.is(k1.id, VECTOR_FP.toLowerCase());
  await k1.encrypt(randomBytes(32), ctx);
  t.is((await k1.decrypt(ctx)).length, 32);

  // a key with two encryption subkeys: `SUB!` must pick exactly that one
  const fp = generateKey(h, 'tsops two subkeys <two@example.com>');
  gpg(h, ['--pinentry-mode', 'loopback', '--passphrase', '', '--quick-add-key', fp, 'default', 'encr', 'never']);
  const [, firstSub, secondSub] = fingerprints(h, fp);
  t.truthy(firstSub && secondSub);
  const exact = pgpKind.fromRecipient(`${firstSub}!`, ctx);
  await exact.encrypt(randomBytes(32), ctx);
  t.regex(listPackets(h, exact.enc, false), new RegExp(`keyid ${firstSub!.slice(-16)}`));
  t.is((await exact.decrypt(ctx)).length, 32);
  const vecSub = pgpKind.fromRecipient(`${VECTOR_SUBKEY_FP}!`, ctx);
  await vecSub.encrypt(randomBytes(32), ctx);
  t.regex(listPackets(h, vecSub.enc, false), /keyid 25294A17CD90507F/);
});

gtest('a key we only have the public part of: KeyUnavailableError "No secret key"', async (t) => {
  const h = makeGnupgHome(t, { importVectorKey: true });
  const ctx = ctxFor(t, h);
  const k = pgpKind.fromRecipient(VECTOR_PUBLIC_ONLY_FP, ctx);
  await k.encrypt(randomBytes(32), ctx);
  const e = await t.throwsAsync(k.decrypt(ctx), { instanceOf: KeyUnavailableError });
  t.regex(e!.reason, /No secret key/);
  t.notRegex(e!.reason, /encrypted with/);
});

gtest('a message for another key: "No secret key" from an empty GNUPGHOME', async (t) => {
  const enc = firstPgpEnc(readFileSync(join(VECTOR_DIR, 'format.enc.yaml'), 'utf8'));
  const ctx = ctxFor(t, makeGnupgHome(t));
  const e = await t.throwsAsync(entryWith(enc).decrypt(ctx), { instanceOf: KeyUnavailableError });
  t.regex(e!.reason, /No secret key/);
});

gtest('unknown and expired keys: SopsError naming the fingerprint, with a hint', async (t) => {
  const h = makeGnupgHome(t, { importVectorKey: true });
  const ctx = ctxFor(t, h);
  const unknown = '0123456789ABCDEF0123456789ABCDEF01234567';
  const e1 = await t.throwsAsync(pgpKind.fromRecipient(unknown, ctx).encrypt(randomBytes(32), ctx), { instanceOf: SopsError });
  t.true(e1!.message.includes(unknown));
  t.regex(e1!.message, /No public key/);
  t.regex(e1!.hint!, /gpg --import/);

  const expired = generateKey(h, 'tsops expired <expired@example.com>', { fakedTime: '20200101T000000', expire: '1d' });
  const e2 = await t.throwsAsync(pgpKind.fromRecipient(expired, ctx).encrypt(randomBytes(32), ctx), { instanceOf: SopsError });
  t.true(e2!.message.includes(expired));
  t.regex(e2!.message, /Unusable public key|expired/);
  t.regex(e2!.hint!, /expired/);
});

gtest('a passphrase-protected key with no pinentry fails quickly with a clear reason', async (t) => {
  const h = makeGnupgHome(t);
  const fp = generateKey(h, 'tsops locked <locked@example.com>', { passphrase: 'correct horse' });
  const ctx = ctxFor(t, h); // no DISPLAY, no GPG_TTY, no terminal on stdin
  const k = pgpKind.fromRecipient(fp, ctx);
  await k.encrypt(randomBytes(32), ctx); // encryption needs no passphrase
  const started = Date.now();
  const e = await timed('decrypt (passphrase, no pinentry)', () => t.throwsAsync(k.decrypt(ctx), { instanceOf: KeyUnavailableError }));
  t.log(`failed after ${Date.now() - started} ms: ${e!.reason}`);
  t.true(Date.now() - started < 60_000);
  t.regex(e!.reason, /No secret key|did not finish/);
  t.regex(e!.reason, /passphrase/);
});
