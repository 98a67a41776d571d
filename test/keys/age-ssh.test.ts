import test, { type ExecutionContext } from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { armor } from 'age-encryption';
import { ageKind } from '../../src/keys/age.js';
import { parseSshPrivateKey, parseSshPublicKey } from '../../src/keys/age-ssh.js';
import { KeyUnavailableError, type KeyContext } from '../../src/keys/types.js';
import { SopsError } from '../../src/errors.js';
import { entry, map, str } from '../../src/tree/types.js';
import { makeKeyContext } from '../helpers/key-context.js';

const HAVE_SSH_KEYGEN = spawnSync('ssh-keygen', ['-?']).error === undefined;
const HAVE_AGE = spawnSync('age', ['--version']).status === 0;
if (!HAVE_SSH_KEYGEN || !HAVE_AGE) console.warn('*** ssh-keygen or age not found on PATH: the age SSH interop tests are SKIPPED ***');
const withKeygen = HAVE_SSH_KEYGEN ? test : test.skip;
const interop = HAVE_SSH_KEYGEN && HAVE_AGE ? test : test.skip;
if (!HAVE_SSH_KEYGEN || !HAVE_AGE) {
  test('ssh-keygen / age missing (SSH tests skipped)', (t) => {
    t.log(`ssh-keygen: ${HAVE_SSH_KEYGEN ? 'found' : 'MISSING'}, age: ${HAVE_AGE ? 'found' : 'MISSING'}`);
    t.pass();
  });
}

function tempDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsops-age-ssh-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

type KeyType = 'ed25519' | 'rsa';

/** `ssh-keygen -t <type>` into dir/name; returns the paths and the public line. */
function sshKeygen(dir: string, type: KeyType, extra: string[] = [], name = `id_${type}`): { path: string; pub: string } {
  const path = join(dir, name);
  const bits = type === 'rsa' ? ['-b', '2048'] : [];
  execFileSync('ssh-keygen', ['-q', '-t', type, ...bits, '-N', '', '-C', 'me@example', ...extra, '-f', path], { stdio: 'pipe' });
  return { path, pub: readFileSync(`${path}.pub`, 'utf8').trim() };
}

function ctxFor(home: string, env: Record<string, string | undefined> = {}): KeyContext {
  return makeKeyContext({ env: { PATH: process.env.PATH, HOME: home, ...env }, homeDir: home });
}

const entryFor = (recipient: string, enc: string) => map([entry('recipient', str(recipient)), entry('enc', str(enc))]);

for (const type of ['ed25519', 'rsa'] as const) {
  interop(`ssh-${type}: our enc is decrypted by \`age -d -i\``, async (t) => {
    const dir = tempDir(t);
    const key = sshKeygen(dir, type);
    const ctx = ctxFor(dir);
    for (const len of [32, 33]) {
      const dataKey = new Uint8Array(randomBytes(len));
      const k = ageKind.fromRecipient(key.pub, ctx);
      t.is(k.id, key.pub);
      await k.encrypt(dataKey, ctx);
      t.true(Buffer.from(armor.decode(k.enc)).toString('latin1').includes(`\n-> ssh-${type} `));
      writeFileSync(join(dir, 'enc.age'), k.enc);
      t.deepEqual(new Uint8Array(execFileSync('age', ['-d', '-i', key.path, join(dir, 'enc.age')])), dataKey);
    }
  });

  interop(`ssh-${type}: \`age -e -a -r\` output decrypts with SOPS_AGE_SSH_PRIVATE_KEY_FILE`, async (t) => {
    const dir = tempDir(t);
    const key = sshKeygen(dir, type, [], 'somekey');
    const dataKey = new Uint8Array(randomBytes(32));
    const enc = execFileSync('age', ['-e', '-a', '-r', key.pub], { input: dataKey }).toString();
    const ctx = ctxFor(dir, { SOPS_AGE_SSH_PRIVATE_KEY_FILE: key.path });
    t.deepEqual(await ageKind.fromMetadata(entryFor(key.pub, enc)).decrypt(ctx), dataKey);
  });

  interop(`ssh-${type}: \`age -e -R\` output decrypts with the default ~/.ssh/id_${type}`, async (t) => {
    const home = tempDir(t);
    mkdirSync(join(home, '.ssh'));
    const key = sshKeygen(join(home, '.ssh'), type);
    const dataKey = new Uint8Array(randomBytes(32));
    const bin = execFileSync('age', ['-e', '-R', `${key.path}.pub`], { input: dataKey });
    t.deepEqual(await ageKind.fromMetadata(entryFor(key.pub, armor.encode(bin))).decrypt(ctxFor(home)), dataKey);
  });

  withKeygen(`ssh-${type}: a passphrase-protected key fails with a clear reason`, async (t) => {
    const home = tempDir(t);
    mkdirSync(join(home, '.ssh'));
    const key = sshKeygen(join(home, '.ssh'), type);
    execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', 'sekrit-pass', '-f', key.path], { stdio: 'pipe' });
    t.is(parseSshPrivateKey(readFileSync(key.path)).kind, 'encrypted');
    const ctx = ctxFor(home);
    const k = ageKind.fromRecipient(key.pub, ctx);
    await k.encrypt(new Uint8Array(32), ctx);
    const err = await t.throwsAsync(k.decrypt(ctx), { instanceOf: KeyUnavailableError });
    t.log(err!.reason);
    t.regex(err!.reason, /matches but is passphrase-protected/);
    t.false(err!.reason.includes('sekrit-pass'));
  });
}

withKeygen('ssh-rsa keys in PEM (ssh-keygen -m PEM) and PKCS#8 load too', async (t) => {
  const dir = tempDir(t);
  for (const [type, fmt] of [['rsa', 'PEM'], ['rsa', 'PKCS8']] as const) {
    const key = sshKeygen(dir, type, [], `k-${type}-${fmt}`);
    execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', '', '-m', fmt, '-f', key.path], { stdio: 'pipe' });
    const text = readFileSync(key.path, 'utf8');
    t.false(text.includes('OPENSSH'), `${type} ${fmt} is not in OpenSSH format`);
    const parsed = parseSshPrivateKey(Buffer.from(text));
    if (parsed.kind !== 'plain') return t.fail('expected a plain key');
    t.is(parsed.publicKey.fingerprint, parseSshPublicKey(key.pub).fingerprint, `${type} ${fmt}`);
    const ctx = ctxFor(dir, { SOPS_AGE_SSH_PRIVATE_KEY_FILE: key.path });
    const k = ageKind.fromRecipient(key.pub, ctx);
    const dataKey = new Uint8Array(randomBytes(32));
    await k.encrypt(dataKey, ctx);
    t.deepEqual(await k.decrypt(ctx), dataKey);
  }
});

test('an ed25519 key in PKCS#8 PEM loads', async (t) => {
  const dir = tempDir(t);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const wire = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), raw]);
  const pub = `ssh-ed25519 ${wire.toString('base64')}`;
  writeFileSync(join(dir, 'k.pem'), privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const ctx = ctxFor(dir, { SOPS_AGE_SSH_PRIVATE_KEY_FILE: join(dir, 'k.pem') });
  const k = ageKind.fromRecipient(pub, ctx);
  const dataKey = new Uint8Array(randomBytes(32));
  await k.encrypt(dataKey, ctx);
  t.deepEqual(await k.decrypt(ctx), dataKey);
});

withKeygen('an encrypted PEM key with a .pub beside it is reported when it matches', async (t) => {
  const home = tempDir(t);
  mkdirSync(join(home, '.ssh'));
  const key = sshKeygen(join(home, '.ssh'), 'rsa');
  execFileSync('ssh-keygen', ['-q', '-p', '-P', '', '-N', 'pw-123456', '-m', 'PEM', '-f', key.path], { stdio: 'pipe' });
  t.regex(readFileSync(key.path, 'utf8'), /BEGIN RSA PRIVATE KEY[\s\S]*ENCRYPTED/);
  const ctx = ctxFor(home);
  const k = ageKind.fromRecipient(key.pub, ctx);
  await k.encrypt(new Uint8Array(32), ctx);
  const err = await t.throwsAsync(k.decrypt(ctx), { instanceOf: KeyUnavailableError });
  t.regex(err!.reason, /id_rsa matches but is passphrase-protected/);
  rmSync(`${key.path}.pub`);
  const err2 = await t.throwsAsync(k.decrypt(ctxFor(home)), { instanceOf: KeyUnavailableError });
  t.regex(err2!.reason, /id_rsa \(passphrase-protected, not supported\)/);
  t.regex(err2!.reason, /id_rsa is a passphrase-protected SSH key, which tsops does not support/);
});

withKeygen('the stanza fingerprint is the first 4 bytes of SHA-256 of the wire key', (t) => {
  const dir = tempDir(t);
  const key = sshKeygen(dir, 'ed25519');
  const wire = Buffer.from(key.pub.split(' ')[1]!, 'base64');
  const pub = parseSshPublicKey(key.pub);
  t.is(pub.type, 'ssh-ed25519');
  t.deepEqual(Buffer.from(pub.wire), wire);
  t.is(pub.fingerprint, createHash('sha256').update(wire).digest().subarray(0, 4).toString('base64').replace(/=+$/, ''));
});

withKeygen('SSH recipients that are not usable are rejected with their text', (t) => {
  const dir = tempDir(t);
  const ctx = ctxFor(dir);
  const ed = sshKeygen(dir, 'ed25519').pub;
  const [, b64] = ed.split(' ');
  execFileSync('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', join(dir, 'ec')], { stdio: 'pipe' });
  const ec = readFileSync(join(dir, 'ec.pub'), 'utf8').trim();
  for (const [bad, why] of [
    [ec, /unknown recipient type/],
    ['ssh-dss AAAAB3NzaC1kc3MAAAA=', /unsupported SSH key type "ssh-dss"/],
    [`ssh-rsa ${b64}`, /says "ssh-rsa" but contains ssh-ed25519/],
    ['ssh-ed25519', /needs a type and a base64 key/],
    [`ssh-ed25519 ${b64!.slice(0, 40)}`, /truncated|malformed/],
  ] as const) {
    const err = t.throws(() => ageKind.fromRecipient(bad, ctx), { instanceOf: SopsError });
    t.true(err!.message.includes(JSON.stringify(bad)));
    t.regex(err!.message, why);
  }
});

withKeygen('an SSH key that does not match gives the SSH advice', async (t) => {
  const dir = tempDir(t);
  const right = sshKeygen(dir, 'ed25519', [], 'right');
  const wrong = sshKeygen(dir, 'ed25519', [], 'wrong');
  const ctx = ctxFor(dir, { SOPS_AGE_SSH_PRIVATE_KEY_FILE: wrong.path });
  const k = ageKind.fromRecipient(right.pub, ctx);
  await k.encrypt(new Uint8Array(32), ctx);
  const err = await t.throwsAsync(k.decrypt(ctx), { instanceOf: KeyUnavailableError });
  t.true(err!.reason.includes(`SOPS_AGE_SSH_PRIVATE_KEY_FILE=${wrong.path} (ssh-ed25519)`));
  t.regex(err!.reason, /point SOPS_AGE_SSH_PRIVATE_KEY_FILE at the unencrypted private key/);
  t.false(err!.reason.includes(readFileSync(wrong.path, 'utf8').split('\n')[1]!));
});

withKeygen('garbage and missing SSH key files are reported, not fatal', async (t) => {
  const home = tempDir(t);
  mkdirSync(join(home, '.ssh'));
  writeFileSync(join(home, '.ssh', 'id_rsa'), 'this is not a key\n');
  const good = sshKeygen(home, 'ed25519', [], 'good');
  copyFileSync(good.path, join(home, '.ssh', 'id_ed25519'));
  const ctx = ctxFor(home, { SOPS_AGE_SSH_PRIVATE_KEY_FILE: join(home, 'nope') });
  const k = ageKind.fromRecipient(good.pub, ctx);
  const dataKey = new Uint8Array(randomBytes(32));
  await k.encrypt(dataKey, ctx);
  t.deepEqual(await k.decrypt(ctx), dataKey);
  const other = ageKind.fromRecipient(sshKeygen(home, 'ed25519', [], 'other').pub, ctx);
  await other.encrypt(dataKey, ctx);
  const err = await t.throwsAsync(other.decrypt(ctx), { instanceOf: KeyUnavailableError });
  t.true(err!.reason.includes(`SOPS_AGE_SSH_PRIVATE_KEY_FILE=${join(home, 'nope')} does not exist`));
  t.true(err!.reason.includes(`${join(home, '.ssh', 'id_rsa')}: not an SSH private key`));
  t.false(err!.reason.includes('this is not a key'));
});

withKeygen('SOPS_AGE_SSH_PRIVATE_KEY_CMD output is used and gets SOPS_AGE_RECIPIENT', async (t) => {
  const dir = tempDir(t);
  const key = sshKeygen(dir, 'rsa', [], 'cmdkey');
  const script = join(dir, 'print-key.sh');
  writeFileSync(script, `#!/bin/sh\ncase "$SOPS_AGE_RECIPIENT" in ssh-rsa\\ *) cat "$1" ;; *) echo "bad recipient" >&2; exit 4 ;; esac\n`, { mode: 0o755 });
  const ctx = ctxFor(dir, { SOPS_AGE_SSH_PRIVATE_KEY_CMD: `${script} ${key.path}` });
  const k = ageKind.fromRecipient(key.pub, ctx);
  const dataKey = new Uint8Array(randomBytes(32));
  await k.encrypt(dataKey, ctx);
  t.deepEqual(await k.decrypt(ctx), dataKey);
});
