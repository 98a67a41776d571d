// Fuzzing the age key material parsers: identities (AGE-SECRET-KEY-1..., keys files,
// SOPS_AGE_KEY), recipients (bech32 age1..., age1pq1..., plugin forms age1<name>1...,
// ssh-ed25519 / ssh-rsa lines), OpenSSH private keys, and the armored age file in `enc`.
// Every input either parses or fails with the error type the caller handles (Error with a
// message naming the source / SopsError / DataKeyError), never a raw TypeError/RangeError,
// never a hang, and no message repeats key material.
import test from 'ava';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataKeyError, SopsError } from '../../src/errors.js';
import { parseAgeKeys, splitCommandLine } from '../../src/keys/age-identities.js';
import { ageKind, generateAgeIdentity } from '../../src/keys/age.js';
import { parseSshPrivateKey, parseSshPublicKey } from '../../src/keys/age-ssh.js';
import { ageIdentityBytes, bech32Decode, isValidHybridRecipient, x25519RecipientBytes } from '../../src/keys/bech32.js';
import { unwrapDataKey } from '../../src/keys/datakey.js';
import { DEFAULT_DECRYPTION_ORDER } from '../../src/keys/registry.js';
import { outsideText } from '../../src/keys/sanitize.js';
import type { MasterKey } from '../../src/keys/types.js';
import { fuzzParams } from '../helpers/fuzz.js';
import { makeKeyContext } from '../helpers/key-context.js';

/** Raw JS errors that mean a parser was surprised (a bug), not that it rejected its input. */
const RAW = [TypeError, RangeError, ReferenceError, SyntaxError];
function assertClean(e: unknown, what: string): void {
  if (!(e instanceof Error)) throw new Error(`${what}: threw a non-Error ${String(e)}`);
  for (const k of RAW) if (e.constructor === k) throw new Error(`${what}: raw ${k.name}: ${e.message}`);
  if (!e.message) throw new Error(`${what}: an error without a message`);
}

const BECH32 = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const bech32Char = fc.constantFrom(...BECH32.split(''));

/** Small edits of a valid string: flip, drop, insert, swap case, truncate, add whitespace or NUL. */
function mutated(base: string): fc.Arbitrary<string> {
  return fc.oneof(
    fc.tuple(fc.nat({ max: base.length - 1 }), fc.string({ minLength: 1, maxLength: 1, unit: 'binary' })).map(([i, c]) => base.slice(0, i) + c + base.slice(i + 1)),
    fc.nat({ max: base.length - 1 }).map((i) => base.slice(0, i) + base.slice(i + 1)),
    fc.tuple(fc.nat({ max: base.length }), fc.string({ maxLength: 3 })).map(([i, s]) => base.slice(0, i) + s + base.slice(i)),
    fc.nat({ max: base.length }).map((i) => base.slice(0, i)),
    fc.constant(base.toLowerCase()),
    fc.constant(base.toUpperCase()),
    fc.constantFrom(`${base}\0`, ` ${base}\t`, `${base}\r`, `\uFEFF${base}`, base + base),
  );
}

let sample: { identity: string; recipient: string };
test.before(async () => {
  sample = await generateAgeIdentity();
});

test('bech32 decoders (age1..., AGE-SECRET-KEY-1..., age1pq1...): bytes or undefined, never a throw', (t) => {
  const inputs = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc.array(bech32Char, { maxLength: 120 }).map((cs) => `age1${cs.join('')}`),
    fc.array(bech32Char, { maxLength: 120 }).map((cs) => `age1pq1${cs.join('')}`),
    fc.array(bech32Char, { maxLength: 120 }).map((cs) => `AGE-SECRET-KEY-1${cs.join('').toUpperCase()}`),
    fc.constant(null).chain(() => mutated(sample.recipient)),
    fc.constant(null).chain(() => mutated(sample.identity)),
    fc.nat({ max: 20_000 }).map((n) => `age1${'q'.repeat(n)}`),
  );
  fc.assert(
    fc.property(inputs, (s) => {
      bech32Decode(s);
      bech32Decode(s, false);
      const r = x25519RecipientBytes(s);
      if (r !== undefined && r.length !== 32) throw new Error('recipient bytes must be 32 long');
      isValidHybridRecipient(s);
      const id = ageIdentityBytes(s);
      if (id !== undefined && id.length !== 32) throw new Error('identity bytes must be 32 long');
      ageIdentityBytes(s, true);
    }),
    fuzzParams(3000),
  );
  t.pass();
});

test('keys files: every text parses or fails naming the source and line, never echoing the line', (t) => {
  const line = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.constant(null).chain(() => mutated(sample.identity)),
    fc.constantFrom('# comment', '', '   ', 'AGE-PLUGIN-YUBIKEY-1QQQQ', sample.identity, `${sample.identity} ${sample.identity}`),
  );
  const text = fc.tuple(fc.array(line, { maxLength: 8 }), fc.constantFrom('\n', '\r\n', '\r')).map(([ls, nl]) => ls.join(nl));
  fc.assert(
    fc.property(text, fc.boolean(), (s, multi) => {
      try {
        const r = parseAgeKeys(s, 'KEYFILE', { multiplePerLine: multi });
        for (const id of r.identities) if (!ageIdentityBytes(id, !id.startsWith('AGE-SECRET-KEY-1'))) throw new Error('accepted a bad identity');
      } catch (e) {
        assertClean(e, 'parseAgeKeys');
        const m = (e as Error).message;
        // one of two fixed sentences: source and line number, never the line's content
        if (!/^KEYFILE line \d+: (not an age identity \(expected AGE-SECRET-KEY-1\.\.\.\)|malformed age identity \(bad length or checksum\))$/.test(m)) {
          throw new Error(`unexpected message: ${m}`);
        }
      }
    }),
    fuzzParams(2000),
  );
  t.pass();
});

test('recipients for encryption (x25519, hybrid, plugin, ssh, garbage): a key or a SopsError', (t) => {
  const ctx = makeKeyContext({ env: {}, homeDir: '/nonexistent/tsops-fuzz' });
  const sshBlob = (type: string, body: Uint8Array): string => {
    const name = Buffer.from(type);
    const len = (n: number) => Buffer.from([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
    return Buffer.concat([len(name.length), name, len(body.length), Buffer.from(body)]).toString('base64');
  };
  const recipient = fc.oneof(
    fc.string({ maxLength: 100 }),
    fc.constant(null).chain(() => mutated(sample.recipient)),
    fc.array(bech32Char, { minLength: 1, maxLength: 60 }).map((cs) => `age1yubikey1${cs.join('')}`),
    fc.tuple(fc.constantFrom('ssh-ed25519', 'ssh-rsa', 'ssh-dss', 'ecdsa-sha2-nistp256'), fc.uint8Array({ maxLength: 300 })).map(([ty, b]) => `${ty} ${sshBlob(ty, b)} c`),
    fc.tuple(fc.constantFrom('ssh-ed25519', 'ssh-rsa'), fc.base64String({ maxLength: 200 })).map(([ty, b]) => `${ty} ${b}`),
    fc.uint8Array({ maxLength: 200 }).map((b) => `ssh-ed25519 ${Buffer.from(b).toString('base64')}`),
  );
  fc.assert(
    fc.property(recipient, (r) => {
      try {
        const k = ageKind.fromRecipient(r, ctx);
        if (k.type !== 'age') throw new Error('wrong kind');
      } catch (e) {
        assertClean(e, `fromRecipient(${JSON.stringify(r)})`);
        if (!(e instanceof SopsError)) throw new Error(`not a SopsError: ${(e as Error).message}`);
      }
    }),
    fuzzParams(3000),
  );
  t.pass();
});

test('SSH public key lines and private key files: parsed or rejected with an Error', (t) => {
  let pem: Buffer | undefined;
  if (spawnSync('ssh-keygen', ['-?']).error === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'tsops-fuzz-ssh-'));
    try {
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'k')], { stdio: 'pipe' });
      pem = readFileSync(join(dir, 'k'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  } else {
    t.log('*** ssh-keygen missing: private-key mutations use random bytes only ***');
  }
  const body = pem ? /-----BEGIN OPENSSH PRIVATE KEY-----\n([\s\S]*?)-----END/.exec(pem.toString())![1]!.replace(/\n/g, '') : '';
  const raw = pem ? Buffer.from(body, 'base64') : randomBytes(200);
  const privateKey = fc.oneof(
    fc.uint8Array({ maxLength: 600 }),
    // byte-level mutations of a real OpenSSH key, re-armored
    fc.tuple(fc.nat({ max: raw.length - 1 }), fc.integer({ min: 0, max: 255 }), fc.nat({ max: raw.length })).map(([i, v, cut]) => {
      const b = Buffer.from(raw);
      b[i] = v;
      const m = b.subarray(0, Math.max(cut, 1));
      return new Uint8Array(Buffer.from(`-----BEGIN OPENSSH PRIVATE KEY-----\n${m.toString('base64')}\n-----END OPENSSH PRIVATE KEY-----\n`));
    }),
    fc.string({ maxLength: 300 }).map((s) => new Uint8Array(Buffer.from(`-----BEGIN RSA PRIVATE KEY-----\n${s}\n-----END RSA PRIVATE KEY-----\n`))),
  );
  fc.assert(
    fc.property(privateKey, (data) => {
      try {
        parseSshPrivateKey(data);
      } catch (e) {
        assertClean(e, 'parseSshPrivateKey');
      }
    }),
    fuzzParams(2000),
  );
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 300 }).map((b) => `ssh-ed25519 ${Buffer.from(b).toString('base64')}`)), (line) => {
      try {
        parseSshPublicKey(line);
      } catch (e) {
        assertClean(e, 'parseSshPublicKey');
      }
    }),
    fuzzParams(2000),
  );
  t.pass();
});

test('the armored age file in enc: any change is a clean DataKeyError (exit 128) or the original key', async (t) => {
  const ctx = makeKeyContext({ env: { SOPS_AGE_KEY: sample.identity }, homeDir: '/nonexistent/tsops-fuzz' });
  const dataKey = new Uint8Array(randomBytes(32));
  const k = ageKind.fromRecipient(sample.recipient, ctx);
  await k.encrypt(dataKey, ctx);
  const enc = k.enc;
  const lines = enc.split('\n');
  const encInput = fc.oneof(
    mutated(enc),
    fc.string({ maxLength: 300 }),
    // a changed line of the armor (header, body or footer)
    fc.tuple(fc.nat({ max: lines.length - 1 }), fc.string({ maxLength: 70 })).map(([i, s]) => lines.map((l, j) => (j === i ? s : l)).join('\n')),
    // changed bytes of the binary age file, armored again
    fc.tuple(fc.nat({ max: 400 }), fc.integer({ min: 0, max: 255 })).map(([i, v]) => {
      const body = Buffer.from(lines.slice(1, -2).join(''), 'base64');
      body[i % body.length] = v;
      return `-----BEGIN AGE ENCRYPTED FILE-----\n${body.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END AGE ENCRYPTED FILE-----\n`;
    }),
    fc.constantFrom(enc.replace(/\n/g, '\r\n'), enc.trim(), `${enc}${enc}`, enc.replace('-----END', 'x-----END'), ''),
  );
  await fc.assert(
    fc.asyncProperty(encInput, async (e) => {
      const key = ageKind.fromMetadata({ kind: 'map', items: [
        { kind: 'entry', key: 'recipient', value: { kind: 'str', value: sample.recipient } },
        { kind: 'entry', key: 'enc', value: { kind: 'str', value: e } },
      ] } as never) as MasterKey;
      try {
        const got = await unwrapDataKey([[key]], undefined, DEFAULT_DECRYPTION_ORDER, ctx, 'f.yaml');
        if (Buffer.compare(Buffer.from(got), Buffer.from(dataKey)) !== 0) throw new Error('a changed enc gave a different data key');
      } catch (err) {
        assertClean(err, 'unwrapDataKey');
        if (!(err instanceof DataKeyError)) throw new Error(`not a DataKeyError: ${(err as Error).message}`);
        const text = err.failures.map((f) => f.reason).join('\n');
        if (text.includes(sample.identity) || text.includes(Buffer.from(dataKey).toString('base64'))) throw new Error('key material in the message');
      }
    }),
    fuzzParams(1500, 0.3),
  );
  t.pass();
});

test('key command lines (SOPS_AGE_KEY_CMD) split or fail cleanly; outside text is always one bounded printable line', (t) => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (cmd) => {
      try {
        const words = splitCommandLine(cmd);
        if (!Array.isArray(words)) throw new Error('not a list');
      } catch (e) {
        assertClean(e, 'splitCommandLine');
        if (!/^unterminated (single|double) quote$/.test((e as Error).message)) throw new Error(`unexpected message ${(e as Error).message}`);
      }
    }),
    fuzzParams(3000),
  );
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 2000, unit: 'binary' }), fc.constant(`x AGE-SECRET-KEY-1${'Q'.repeat(58)} y`)), fc.nat({ max: 400 }), (s, max) => {
      const out = outsideText(s, [], max + 1);
      // eslint-disable-next-line no-control-regex
      if (/[\u0000-\u001f\u007f-\u009f]/.test(out)) throw new Error('control character kept');
      if (out.length > max + 1 + '... (cut)'.length) throw new Error('not cut');
      if (/AGE-SECRET-KEY-1Q{20}/.test(out)) throw new Error('identity kept');
    }),
    fuzzParams(3000),
  );
  t.pass();
});
