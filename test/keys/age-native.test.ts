/**
 * The node:crypto path for X25519 age files (keys/age-native.ts) and the Bech32 checks
 * (keys/bech32.ts) against age-encryption itself.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { Decrypter, Encrypter, armor, generateHybridIdentity, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { isArmoredAgeFile, nativeAgeDecrypt, nativeAgeEncrypt } from '../../src/keys/age-native.js';
import { ageIdentityBytes, isValidHybridRecipient, x25519RecipientBytes } from '../../src/keys/bech32.js';

async function x25519(): Promise<{ identity: string; recipient: string }> {
  const identity = await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}

async function libEncrypt(recipients: string[], data: Uint8Array): Promise<string> {
  const e = new Encrypter();
  for (const r of recipients) e.addRecipient(r);
  return armor.encode(await e.encrypt(data));
}

test('files age-encryption writes are decrypted natively, with any of several identities', async (t) => {
  const a = await x25519();
  const b = await x25519();
  const other = await x25519();
  for (const size of [0, 1, 32, 33, 1000]) {
    const data = randomBytes(size);
    const file = await libEncrypt([a.recipient, b.recipient], data);
    t.true(isArmoredAgeFile(file));
    t.deepEqual(Buffer.from(nativeAgeDecrypt(file, [a.identity])!), data);
    t.deepEqual(Buffer.from(nativeAgeDecrypt(file, [other.identity, b.identity])!), data);
    t.is(nativeAgeDecrypt(file, [other.identity]), undefined);
  }
});

test('what nativeAgeEncrypt writes, age-encryption decrypts', async (t) => {
  const a = await x25519();
  const data = randomBytes(32);
  const file = nativeAgeEncrypt(x25519RecipientBytes(a.recipient)!, data);
  const d = new Decrypter();
  d.addIdentity(a.identity);
  t.deepEqual(Buffer.from(await d.decrypt(armor.decode(file))), data);
});

test('outside the common case the native path steps aside', async (t) => {
  const a = await x25519();
  const file = await libEncrypt([a.recipient], randomBytes(32));
  t.is(nativeAgeDecrypt(file, [await generateHybridIdentity()]), undefined);
  t.is(nativeAgeDecrypt(file, [{ unwrapFileKey: () => null }]), undefined);
  t.is(nativeAgeDecrypt(file.replace('-----END', '-----ENDX'), [a.identity]), undefined);
  const lines = file.split('\n');
  lines[1] = lines[1]!.slice(0, 10) + (lines[1]![10] === 'A' ? 'B' : 'A') + lines[1]!.slice(11);
  t.is(nativeAgeDecrypt(lines.join('\n'), [a.identity]), undefined);
  t.false(isArmoredAgeFile('not armored'));
});

/** Whether age-encryption accepts a string as recipient / identity. */
function libAccepts(kind: 'recipient' | 'identity', s: string): boolean {
  try {
    if (kind === 'recipient') new Encrypter().addRecipient(s);
    else new Decrypter().addIdentity(s);
    return true;
  } catch {
    return false;
  }
}

test('Bech32 validation accepts exactly what age-encryption accepts', async (t) => {
  const a = await x25519();
  const hybrid = await generateHybridIdentity();
  const hybridRecipient = await identityToRecipient(hybrid);
  const mutate = (s: string, i: number): string[] => {
    const c = s[i]!;
    return [s.slice(0, i) + s.slice(i + 1), s.slice(0, i) + (c === 'q' ? 'p' : 'q') + s.slice(i + 1), s.slice(0, i) + c.toUpperCase() + s.slice(i + 1), s + 'q'];
  };
  const cases: Array<['recipient' | 'identity', string]> = [];
  for (const s of [a.recipient, 'age1tooshort', a.recipient.toUpperCase(), hybridRecipient]) {
    cases.push(['recipient', s]);
    for (let i = 0; i < s.length; i += 7) for (const m of mutate(s, i)) cases.push(['recipient', m]);
  }
  for (const s of [a.identity, hybrid, a.identity.toLowerCase()]) {
    cases.push(['identity', s]);
    for (let i = 0; i < s.length; i += 5) for (const m of mutate(s, i)) cases.push(['identity', m]);
  }
  for (const [kind, s] of cases) {
    const ours = kind === 'recipient'
      ? (s.startsWith('age1pq1') ? isValidHybridRecipient(s) : !!x25519RecipientBytes(s))
      : !!ageIdentityBytes(s, !s.startsWith('AGE-SECRET-KEY-1'));
    if (kind === 'identity' && !/^AGE-SECRET-KEY-(PQ-)?1/.test(s)) continue; // tsops rejects these before asking age
    if (kind === 'recipient' && (!s.startsWith('age1') || (!s.startsWith('age1pq1') && s.split('1').length > 2))) continue;
    t.is(ours, libAccepts(kind, s), `${kind} ${s}`);
  }
});
