/**
 * The built-in OpenPGP path of the PGP key kind (no gpg binary): legacy keyrings, the
 * TSOPS_PGP_*_KEY_FILE variables, interop with gpg in both directions, the packets it writes,
 * and (when SOPS_ORACLE_BOOTSTRAP is set) real sops/go-crypto reading what it writes.
 */
import test, { type ExecutionContext } from 'ava';
import { oracleBootstrap } from '../helpers/oracle.js';
import { oracleDir, sharedTest } from '../helpers/shared.js';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as openpgp from 'openpgp';
import { SopsError } from '../../src/errors.js';
import { pgpKind } from '../../src/keys/pgp.js';
import { KeyUnavailableError, type KeyContext, type MasterKey } from '../../src/keys/types.js';
import { entry, map, str } from '../../src/tree/types.js';
import {
  VECTOR_DIR, VECTOR_FP, VECTOR_KEY_FILE, VECTOR_SUBKEY_FP, exportPublic, exportSecret, fingerprints, firstPgpEnc,
  generateKey, gpg, hasGpg, importKey, listPackets, makeGnupgHome, tempDir, warnNoGpg,
} from '../helpers/gpg.js';
import { makeKeyContext } from '../helpers/key-context.js';

const HAVE_GPG = hasGpg();
if (!HAVE_GPG) warnNoGpg('test/keys/pgp-openpgp.test.ts');
const gtest = HAVE_GPG ? test : test.skip;
const NO_GPG = '/nonexistent/gpg';
const VECTOR_ENC = firstPgpEnc(readFileSync(join(VECTOR_DIR, 'format.enc.yaml'), 'utf8'));

/** A context in a fresh home; `gnupgHome` undefined means "use ~/.gnupg". */
function ctxFor(t: ExecutionContext, env: Record<string, string | undefined>): KeyContext {
  const home = tempDir(t, 'tsops-home-');
  return makeKeyContext({ env: { PATH: process.env.PATH, HOME: home, ...env }, homeDir: home });
}

function entryWith(enc: string, fp = VECTOR_FP): MasterKey {
  return pgpKind.fromMetadata(map([entry('created_at', str('2026-05-22T20:16:20Z')), entry('enc', str(enc)), entry('fp', str(fp))]));
}

/** Outer packets of an armored message, as openpgp.js reads them. */
async function packets(armored: string): Promise<Array<{ tag: number; version?: number }>> {
  const msg = await openpgp.readMessage({ armoredMessage: armored });
  return [...msg.packets].map((p) => ({ tag: (p.constructor as unknown as { tag: number }).tag, version: (p as { version?: number }).version }));
}

test('gpg missing and no keys: clear errors on both sides', async (t) => {
  const ctx = ctxFor(t, { SOPS_GPG_EXEC: NO_GPG, GNUPGHOME: tempDir(t) });
  const e1 = await t.throwsAsync(pgpKind.fromRecipient(VECTOR_FP, ctx).encrypt(randomBytes(32), ctx), { instanceOf: SopsError });
  t.regex(e1!.message, /could not be started/);
  t.regex(e1!.message, new RegExp(`no public key ${VECTOR_FP}`));
  t.regex(e1!.hint!, /install GnuPG/);
  const e2 = await t.throwsAsync(entryWith(VECTOR_ENC).decrypt(ctx), { instanceOf: KeyUnavailableError });
  t.regex(e2!.reason, /could not be started/);
  t.regex(e2!.reason, /no secret key for key ID 25294A17CD90507F/);
});

test('gpg missing: the vector decrypts with TSOPS_PGP_PRIVATE_KEY_FILE (armored, several blocks)', async (t) => {
  const ctx = ctxFor(t, { SOPS_GPG_EXEC: NO_GPG, TSOPS_PGP_PRIVATE_KEY_FILE: `/nonexistent/a.asc::${VECTOR_KEY_FILE}` });
  const dataKey = await entryWith(VECTOR_ENC).decrypt(ctx);
  t.is(dataKey.length, 32);
  if (HAVE_GPG) {
    const h = makeGnupgHome(t, { importVectorKey: true });
    t.deepEqual(dataKey, new Uint8Array(gpg(h, ['-d'], VECTOR_ENC).stdout));
  }
  // round trip, public key taken from the secret key file; data key and a Shamir share
  for (const n of [32, 33]) {
    const plain = randomBytes(n);
    const k = pgpKind.fromRecipient(VECTOR_FP, ctx);
    await k.encrypt(plain, ctx);
    t.true(k.enc.startsWith('-----BEGIN PGP MESSAGE-----\n') && k.enc.endsWith('-----END PGP MESSAGE-----'));
    t.deepEqual(await k.decrypt(ctx), new Uint8Array(plain));
  }
});

test('a listed key file that does not exist is reported', async (t) => {
  const ctx = ctxFor(t, { SOPS_GPG_EXEC: NO_GPG, TSOPS_PGP_PUBLIC_KEY_FILE: '/nonexistent/pub.asc' });
  const e = await t.throwsAsync(pgpKind.fromRecipient(VECTOR_FP, ctx).encrypt(randomBytes(32), ctx), { instanceOf: SopsError });
  t.regex(e!.message, /\/nonexistent\/pub\.asc does not exist/);
});

test('messages are v3 PKESK + SEIPD v1 with binary literal data, even for keys that advertise SEIPD v2', async (t) => {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc', userIDs: [{ name: 'aead fan', email: 'aead@example.com' }], format: 'armored', config: { aeadProtect: true },
  });
  const dir = tempDir(t);
  writeFileSync(join(dir, 'pub.asc'), publicKey);
  writeFileSync(join(dir, 'sec.asc'), privateKey);
  const fp = (await openpgp.readKey({ armoredKey: publicKey })).getFingerprint().toUpperCase();
  const ctx = ctxFor(t, { SOPS_GPG_EXEC: NO_GPG, TSOPS_PGP_PUBLIC_KEY_FILE: join(dir, 'pub.asc'), TSOPS_PGP_PRIVATE_KEY_FILE: join(dir, 'sec.asc') });
  const plain = randomBytes(32);
  const k = pgpKind.fromRecipient(fp, ctx);
  await k.encrypt(plain, ctx);
  t.deepEqual(await packets(k.enc), [{ tag: 1, version: 3 }, { tag: 18, version: 1 }]);
  t.regex(k.enc, /\n=[A-Za-z0-9+/]{4}\n-----END PGP MESSAGE-----$/, 'CRC24 line present');
  t.deepEqual(await k.decrypt(ctx), new Uint8Array(plain));
  const decrypted = await openpgp.decrypt({
    message: await openpgp.readMessage({ armoredMessage: k.enc }),
    decryptionKeys: await openpgp.readPrivateKey({ armoredKey: privateKey }),
    format: 'binary',
  });
  t.is(decrypted.data.length, 32);
  if (HAVE_GPG) {
    const h = makeGnupgHome(t);
    importKey(h, privateKey);
    t.deepEqual(new Uint8Array(gpg(h, ['-d'], k.enc).stdout), new Uint8Array(plain), 'gpg 2.2 reads it');
    const listing = listPackets(h, k.enc);
    t.regex(listing, /literal data packet:\s+mode b/);
    t.notRegex(listing, /aead/i);
  }
});

gtest('gpg missing: legacy keyrings in $GNUPGHOME and in ~/.gnupg', async (t) => {
  const src = makeGnupgHome(t, { importVectorKey: true });
  const legacy = tempDir(t);
  writeFileSync(join(legacy, 'pubring.gpg'), exportPublic(src));
  writeFileSync(join(legacy, 'secring.gpg'), exportSecret(src));
  const ctx = ctxFor(t, { SOPS_GPG_EXEC: NO_GPG, GNUPGHOME: legacy });
  t.is((await entryWith(VECTOR_ENC).decrypt(ctx)).length, 32);
  const plain = randomBytes(32);
  const k = pgpKind.fromRecipient(VECTOR_FP.toLowerCase(), ctx);
  await k.encrypt(plain, ctx);
  t.deepEqual(await k.decrypt(ctx), new Uint8Array(plain));
  t.deepEqual(new Uint8Array(gpg(src, ['-d'], k.enc).stdout), new Uint8Array(plain), 'gpg decrypts what the built-in path wrote');

  // no GNUPGHOME: ~/.gnupg (armored keyring files work too)
  const home = tempDir(t, 'tsops-home-');
  mkdirSync(join(home, '.gnupg'));
  writeFileSync(join(home, '.gnupg', 'pubring.gpg'), exportPublic(src, undefined, true));
  writeFileSync(join(home, '.gnupg', 'secring.gpg'), exportSecret(src, undefined, true));
  const hctx = makeKeyContext({ env: { PATH: process.env.PATH, HOME: home, SOPS_GPG_EXEC: NO_GPG }, homeDir: home });
  t.is((await entryWith(VECTOR_ENC).decrypt(hctx)).length, 32);
  await k.encrypt(plain, hctx);
  t.deepEqual(await k.decrypt(hctx), new Uint8Array(plain));
});

gtest('gpg legacy pubring with trust packets (gpg keeps using an existing pubring.gpg)', async (t) => {
  const legacy = makeGnupgHome(t);
  writeFileSync(join(legacy, 'pubring.gpg'), '');
  gpg(legacy, ['--import', VECTOR_KEY_FILE]);
  t.regex(listPackets(legacy, readFileSync(join(legacy, 'pubring.gpg'))), /trust packet/);
  const ctx = ctxFor(t, { SOPS_GPG_EXEC: NO_GPG, GNUPGHOME: legacy });
  const k = pgpKind.fromRecipient(VECTOR_FP, ctx);
  await k.encrypt(randomBytes(32), ctx);
  t.regex(listPackets(legacy, k.enc, false), /keyid 25294A17CD90507F/);
});

gtest('gpg -> built-in and built-in -> gpg', async (t) => {
  const h = makeGnupgHome(t, { importVectorKey: true });
  const withGpg = ctxFor(t, { GNUPGHOME: h });
  const without = ctxFor(t, { SOPS_GPG_EXEC: NO_GPG, TSOPS_PGP_PRIVATE_KEY_FILE: VECTOR_KEY_FILE });
  const a = randomBytes(32);
  const k1 = pgpKind.fromRecipient(VECTOR_FP, withGpg);
  await k1.encrypt(a, withGpg);
  t.deepEqual(await pgpKind.fromMetadata(k1.toMetadata()).decrypt(without), new Uint8Array(a));
  const b = randomBytes(32);
  const k2 = pgpKind.fromRecipient(VECTOR_FP, without);
  await k2.encrypt(b, without);
  t.deepEqual(await pgpKind.fromMetadata(k2.toMetadata()).decrypt(withGpg), new Uint8Array(b));
});

gtest('with TSOPS_PGP_PRIVATE_KEY_FILE set, the built-in path is tried after gpg fails', async (t) => {
  const ctx = ctxFor(t, { GNUPGHOME: makeGnupgHome(t), TSOPS_PGP_PRIVATE_KEY_FILE: VECTOR_KEY_FILE });
  t.is((await entryWith(VECTOR_ENC).decrypt(ctx)).length, 32);
  const k = pgpKind.fromRecipient(VECTOR_FP, ctx);
  await k.encrypt(randomBytes(32), ctx); // gpg: No public key; built-in: found in the file
  t.is((await k.decrypt(ctx)).length, 32);
});

gtest('subkey selection matches gpg: SUB! is exact, a primary or plain subkey fingerprint picks the newest', async (t) => {
  const h = makeGnupgHome(t);
  const fp = generateKey(h, 'tsops two subkeys <two@example.com>');
  await new Promise((r) => setTimeout(r, 1100)); // distinct creation times
  gpg(h, ['--pinentry-mode', 'loopback', '--passphrase', '', '--quick-add-key', fp, 'default', 'encr', 'never']);
  const [, first, second] = fingerprints(h, fp);
  const dir = tempDir(t);
  writeFileSync(join(dir, 'sec.gpg'), exportSecret(h));
  const withGpg = ctxFor(t, { GNUPGHOME: h });
  const without = ctxFor(t, { SOPS_GPG_EXEC: NO_GPG, TSOPS_PGP_PRIVATE_KEY_FILE: join(dir, 'sec.gpg') });
  const keyidOf = (enc: string) => /keyid ([0-9A-F]{16})/.exec(listPackets(h, enc, false))?.[1];
  for (const [recipient, want] of [[`${first}!`, first], [fp, second], [first, second], [`${second}!`, second]] as const) {
    for (const ctx of [withGpg, without]) {
      const k = pgpKind.fromRecipient(recipient!, ctx);
      await k.encrypt(randomBytes(32), ctx);
      t.is(keyidOf(k.enc), want!.slice(-16), `${recipient} via ${ctx === withGpg ? 'gpg' : 'built-in'}`);
      t.is((await k.decrypt(ctx)).length, 32);
    }
  }
  const vsub = ctxFor(t, { SOPS_GPG_EXEC: NO_GPG, TSOPS_PGP_PUBLIC_KEY_FILE: VECTOR_KEY_FILE });
  const k = pgpKind.fromRecipient(`${VECTOR_SUBKEY_FP}!`, vsub);
  await k.encrypt(randomBytes(32), vsub);
  t.is(keyidOf(k.enc), '25294A17CD90507F');
});

gtest('gpg missing and a passphrase-protected secret key: clear reason', async (t) => {
  const h = makeGnupgHome(t);
  const fp = generateKey(h, 'tsops locked <locked@example.com>', { passphrase: 'pw' });
  const dir = tempDir(t);
  writeFileSync(join(dir, 'sec.asc'), exportSecret(h, fp, true, 'pw'));
  const ctx = ctxFor(t, { SOPS_GPG_EXEC: NO_GPG, TSOPS_PGP_PRIVATE_KEY_FILE: join(dir, 'sec.asc') });
  const k = pgpKind.fromRecipient(fp, ctx);
  await k.encrypt(randomBytes(32), ctx);
  const e = await t.throwsAsync(k.decrypt(ctx), { instanceOf: KeyUnavailableError });
  t.regex(e!.reason, /passphrase-protected/);
  t.true(e!.reason.includes(fp));
});

sharedTest('real sops 3.9.2 (go-crypto) reads a data key the built-in path wrapped', async (t) => {
  const ORACLE = oracleBootstrap();
  const yaml = readFileSync(join(VECTOR_DIR, 'format.enc.yaml'), 'utf8');
  const ctx = ctxFor(t, { SOPS_GPG_EXEC: NO_GPG, TSOPS_PGP_PRIVATE_KEY_FILE: VECTOR_KEY_FILE });
  const dataKey = await entryWith(VECTOR_ENC).decrypt(ctx);
  const k = pgpKind.fromRecipient(VECTOR_FP, ctx);
  await k.encrypt(dataKey, ctx);
  t.not(k.enc, VECTOR_ENC);
  const block = /^( *)-----BEGIN PGP MESSAGE-----\n[\s\S]*?-----END PGP MESSAGE-----/m.exec(yaml)!;
  const file = join(tempDir(t), 'rewrapped.enc.yaml');
  writeFileSync(file, yaml.replace(block[0], k.enc.split('\n').map((l) => (l ? block[1] + l : l)).join('\n')));
  const oracle = join(oracleDir, 'oracle.mjs');
  const r = spawnSync(process.execPath, [oracle, '--bootstrap', ORACLE!, '--pgp-key-file', VECTOR_KEY_FILE, file], { timeout: 60_000 });
  t.is(r.status, 0, r.stderr?.toString());
  t.is(r.stdout.toString().trim(), 'foo: bar');
});
