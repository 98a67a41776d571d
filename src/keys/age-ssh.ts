/**
 * The age `ssh-ed25519` and `ssh-rsa` recipient types (C2SP age spec, "SSH recipients"),
 * built on node:crypto and plugged into `age-encryption` through its Recipient/Identity
 * interfaces. Bytes in, bytes out: reading key files is the caller's business.
 *
 * - ssh-rsa: the file key is wrapped with RSA-OAEP-SHA256, label `age-encryption.org/v1/ssh-rsa`.
 * - ssh-ed25519: the Ed25519 key is mapped to X25519; the shared secret is tweaked with
 *   HKDF(salt = SSH wire key) and the wrap key is HKDF(shared, ephemeral || recipient).
 * Both stanzas start with the SSH fingerprint: the first 4 bytes of SHA-256 of the wire key.
 */
import {
  constants, createCipheriv, createDecipheriv, createHash, createPrivateKey, createPublicKey,
  diffieHellman, hkdfSync, privateDecrypt, publicEncrypt, randomBytes, type KeyObject,
} from 'node:crypto';
import type { Identity, Recipient, Stanza as StanzaType } from 'age-encryption';
import { importPackage } from '../packages.js';

/** age's Stanza class, loaded with the library (only ever used once it is loaded). */
async function stanza(args: string[], body: Uint8Array): Promise<StanzaType> {
  const { Stanza } = await importPackage<typeof import('age-encryption')>('age-encryption');
  return new Stanza(args, body);
}

const ED25519_LABEL = 'age-encryption.org/v1/ssh-ed25519';
const RSA_LABEL = 'age-encryption.org/v1/ssh-rsa';
const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI = Buffer.from('302a300506032b656e032100', 'hex');
const P = 2n ** 255n - 19n;

/** An SSH public key of a type age can encrypt to. */
export interface SshPublicKey {
  readonly type: 'ssh-ed25519' | 'ssh-rsa';
  /** The SSH wire encoding (what `authorized_keys` holds in base64). */
  readonly wire: Uint8Array;
  /** age's stanza tag: base64 (no padding) of the first 4 bytes of SHA-256(wire). */
  readonly fingerprint: string;
}

// ---------- SSH wire format ----------

class WireReader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array, private readonly what: string) {}
  u32(): number {
    if (this.pos + 4 > this.buf.length) throw new Error(`${this.what} is truncated`);
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4).getUint32(0);
    this.pos += 4;
    return v;
  }
  bytes(n: number): Uint8Array {
    if (this.pos + n > this.buf.length) throw new Error(`${this.what} is truncated`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  string(): Uint8Array {
    return this.bytes(this.u32());
  }
  text(): string {
    return Buffer.from(this.string()).toString('latin1');
  }
  /** An mpint as an unsigned big-endian byte string without leading zeros. */
  mpint(): Uint8Array {
    const b = this.string();
    let i = 0;
    while (i < b.length && b[i] === 0) i++;
    return b.subarray(i);
  }
  get done(): boolean {
    return this.pos === this.buf.length;
  }
}

function sshString(b: Uint8Array | string): Buffer {
  const body = typeof b === 'string' ? Buffer.from(b, 'latin1') : Buffer.from(b);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length);
  return Buffer.concat([len, body]);
}

function sshMpint(unsigned: Uint8Array): Buffer {
  let i = 0;
  while (i < unsigned.length && unsigned[i] === 0) i++;
  const v = unsigned.subarray(i);
  return sshString(v.length > 0 && v[0]! & 0x80 ? Buffer.concat([Buffer.alloc(1), v]) : v);
}

function fingerprintOf(wire: Uint8Array): string {
  return createHash('sha256').update(wire).digest().subarray(0, 4).toString('base64').replace(/=+$/, '');
}

function makePublicKey(type: SshPublicKey['type'], wire: Uint8Array): SshPublicKey {
  return { type, wire, fingerprint: fingerprintOf(wire) };
}

/** Checks a wire-format public key and returns it typed. Throws for other key types. */
function publicKeyFromWire(wire: Uint8Array): SshPublicKey {
  const r = new WireReader(wire, 'SSH public key');
  const type = r.text();
  if (type === 'ssh-ed25519') {
    if (r.string().length !== 32 || !r.done) throw new Error('malformed ssh-ed25519 public key');
    return makePublicKey(type, wire);
  }
  if (type === 'ssh-rsa') {
    const e = r.mpint();
    const n = r.mpint();
    if (e.length === 0 || n.length < 128 || !r.done) throw new Error('malformed or too small ssh-rsa public key');
    return makePublicKey(type, wire);
  }
  throw new Error(`unsupported SSH key type ${JSON.stringify(type)} (age supports ssh-ed25519 and ssh-rsa)`);
}

/**
 * Parses an `authorized_keys`-style line: `ssh-ed25519 AAAA... [comment]` or `ssh-rsa AAAA...`.
 * Throws an Error saying what is wrong.
 */
export function parseSshPublicKey(line: string): SshPublicKey {
  const fields = line.trim().split(/\s+/);
  if (fields.length < 2) throw new Error('an SSH public key needs a type and a base64 key');
  const [type, b64] = fields as [string, string];
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new Error('the SSH public key is not valid base64');
  const key = publicKeyFromWire(Buffer.from(b64, 'base64'));
  if (key.type !== type) throw new Error(`the SSH key says ${JSON.stringify(type)} but contains ${key.type}`);
  return key;
}

// ---------- primitives ----------

function x25519(scalar: Uint8Array, point: Uint8Array): Uint8Array {
  const privateKey = createPrivateKey({ key: Buffer.concat([X25519_PKCS8, scalar]), format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey({ key: Buffer.concat([X25519_SPKI, point]), format: 'der', type: 'spki' });
  return new Uint8Array(diffieHellman({ privateKey, publicKey }));
}

function x25519Base(scalar: Uint8Array): Uint8Array {
  const priv = createPrivateKey({ key: Buffer.concat([X25519_PKCS8, scalar]), format: 'der', type: 'pkcs8' });
  return Buffer.from(createPublicKey(priv).export({ format: 'jwk' }).x as string, 'base64url');
}

function hkdf(ikm: Uint8Array, salt: Uint8Array, info: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', ikm, salt, Buffer.from(info), 32));
}

function seal(key: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const c = createCipheriv('chacha20-poly1305', key, Buffer.alloc(12), { authTagLength: 16 });
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}

function open(key: Uint8Array, body: Uint8Array): Uint8Array | null {
  if (body.length < 16) return null;
  const d = createDecipheriv('chacha20-poly1305', key, Buffer.alloc(12), { authTagLength: 16 });
  d.setAuthTag(body.subarray(body.length - 16));
  try {
    return Buffer.concat([d.update(body.subarray(0, body.length - 16)), d.final()]);
  } catch {
    return null;
  }
}

function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  b %= m;
  for (; e > 0n; e >>= 1n, b = (b * b) % m) if (e & 1n) r = (r * b) % m;
  return r;
}

/** Ed25519 public key -> X25519 (Montgomery u = (1 + y) / (1 - y)). */
function ed25519ToX25519(pk: Uint8Array): Uint8Array {
  const le = Buffer.from(pk);
  le[31]! &= 0x7f;
  const y = BigInt('0x' + Buffer.from(le).reverse().toString('hex'));
  const den = (((1n - y) % P) + P) % P;
  if (den === 0n) throw new Error('invalid ssh-ed25519 public key');
  const u = ((1n + y) * modPow(den, P - 2n, P)) % P;
  return Buffer.from(u.toString(16).padStart(64, '0'), 'hex').reverse();
}

const b64nopad = (b: Uint8Array): string => Buffer.from(b).toString('base64').replace(/=+$/, '');

function ed25519Tweak(pub: SshPublicKey): Uint8Array {
  return hkdf(new Uint8Array(0), pub.wire, ED25519_LABEL);
}

// ---------- recipients ----------

/** An age Recipient for an SSH public key. */
export function sshRecipient(pub: SshPublicKey): Recipient {
  if (pub.type === 'ssh-rsa') {
    const r = new WireReader(pub.wire, 'SSH public key');
    r.text();
    const e = r.mpint();
    const n = r.mpint();
    const key = createPublicKey({ key: { kty: 'RSA', n: b64url(n), e: b64url(e) }, format: 'jwk' });
    return {
      wrapFileKey: async (fileKey) => [await stanza(['ssh-rsa', pub.fingerprint], new Uint8Array(publicEncrypt(
        { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from(RSA_LABEL) },
        fileKey,
      )))],
    };
  }
  const r = new WireReader(pub.wire, 'SSH public key');
  r.text();
  const theirs = ed25519ToX25519(r.string());
  return {
    wrapFileKey: async (fileKey) => {
      const ephemeral = randomBytes(32);
      const share = x25519Base(ephemeral);
      const shared = x25519(ed25519Tweak(pub), x25519(ephemeral, theirs));
      const key = hkdf(shared, Buffer.concat([share, theirs]), ED25519_LABEL);
      return [await stanza(['ssh-ed25519', pub.fingerprint, b64nopad(share)], seal(key, fileKey))];
    },
  };
}

const b64url = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

// ---------- identities ----------

function ed25519Identity(seed: Uint8Array, pub: SshPublicKey): Identity {
  const secret = createHash('sha512').update(seed).digest().subarray(0, 32);
  const ours = x25519Base(secret);
  return {
    unwrapFileKey(stanzas) {
      for (const s of stanzas) {
        if (s.args[0] !== 'ssh-ed25519') continue;
        if (s.args.length !== 3) throw new Error('invalid ssh-ed25519 stanza');
        const share = Buffer.from(s.args[2]!, 'base64');
        if (share.length !== 32) throw new Error('invalid ssh-ed25519 stanza');
        if (s.args[1] !== pub.fingerprint) continue;
        const shared = x25519(ed25519Tweak(pub), x25519(secret, share));
        const key = hkdf(shared, Buffer.concat([share, ours]), ED25519_LABEL);
        const fileKey = open(key, s.body);
        if (fileKey === null) throw new Error('ssh-ed25519 stanza matches the key but does not decrypt');
        return fileKey;
      }
      return null;
    },
  };
}

function rsaIdentity(key: KeyObject, pub: SshPublicKey): Identity {
  return {
    unwrapFileKey(stanzas) {
      for (const s of stanzas) {
        if (s.args[0] !== 'ssh-rsa') continue;
        if (s.args.length !== 2) throw new Error('invalid ssh-rsa stanza');
        if (s.args[1] !== pub.fingerprint) continue;
        try {
          return new Uint8Array(privateDecrypt(
            { key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256', oaepLabel: Buffer.from(RSA_LABEL) },
            s.body,
          ));
        } catch {
          throw new Error('ssh-rsa stanza matches the key but does not decrypt');
        }
      }
      return null;
    },
  };
}

/**
 * An identity for a passphrase-protected SSH key whose public half is known: it answers
 * `null` for other keys and throws a clear error when the file was encrypted to it.
 */
export function passphraseProtectedIdentity(pub: SshPublicKey, source: string): Identity {
  return {
    unwrapFileKey(stanzas) {
      for (const s of stanzas) {
        if (s.args[0] === pub.type && s.args[1] === pub.fingerprint) {
          throw new Error(`the SSH key ${source} matches but is passphrase-protected, which tsops does not support; ` +
            'use an unencrypted copy (ssh-keygen -p -N "") via SOPS_AGE_SSH_PRIVATE_KEY_FILE');
        }
      }
      return null;
    },
  };
}

/** What {@link parseSshPrivateKey} found. */
export type SshPrivateKey =
  | { kind: 'plain'; identity: Identity; publicKey: SshPublicKey }
  /** Passphrase-protected; the public key is known for the OpenSSH format only. */
  | { kind: 'encrypted'; publicKey?: SshPublicKey };

function bigOf(b: Uint8Array): bigint {
  return b.length === 0 ? 0n : BigInt('0x' + Buffer.from(b).toString('hex'));
}

function bytesOf(v: bigint): Uint8Array {
  const h = v.toString(16);
  return Buffer.from(h.length % 2 ? '0' + h : h, 'hex');
}

function parseOpenSsh(data: Buffer): SshPrivateKey {
  const r = new WireReader(data, 'OpenSSH private key');
  if (Buffer.from(r.bytes(15)).toString('latin1') !== 'openssh-key-v1\0') throw new Error('not an openssh-key-v1 private key');
  const cipher = r.text();
  r.text(); // kdf name
  r.string(); // kdf options
  const count = r.u32();
  if (count !== 1) throw new Error(`the key file holds ${count} keys; only one is supported`);
  const publicKey = publicKeyFromWire(r.string());
  if (cipher !== 'none') return { kind: 'encrypted', publicKey };
  const p = new WireReader(r.string(), 'OpenSSH private key');
  if (p.u32() !== p.u32()) throw new Error('corrupt OpenSSH private key (check bytes differ)');
  const type = p.text();
  if (type !== publicKey.type) throw new Error('corrupt OpenSSH private key (type mismatch)');
  if (type === 'ssh-ed25519') {
    p.string(); // public
    const priv = p.string();
    if (priv.length !== 64) throw new Error('malformed ssh-ed25519 private key');
    return { kind: 'plain', identity: ed25519Identity(priv.subarray(0, 32), publicKey), publicKey };
  }
  const [n, e, d, iqmp, pp, q] = [p.mpint(), p.mpint(), p.mpint(), p.mpint(), p.mpint(), p.mpint()];
  const D = bigOf(d);
  const jwk = {
    kty: 'RSA', n: b64url(n), e: b64url(e), d: b64url(d), p: b64url(pp), q: b64url(q), qi: b64url(iqmp),
    dp: b64url(bytesOf(D % (bigOf(pp) - 1n))), dq: b64url(bytesOf(D % (bigOf(q) - 1n))),
  };
  return { kind: 'plain', identity: rsaIdentity(createPrivateKey({ key: jwk, format: 'jwk' }), publicKey), publicKey };
}

function parsePem(text: string): SshPrivateKey {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: 'pem' });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'ERR_MISSING_PASSPHRASE' || /ENCRYPTED/.test(text)) return { kind: 'encrypted' };
    throw new Error('malformed PEM private key');
  }
  const jwk = key.export({ format: 'jwk' });
  if (key.asymmetricKeyType === 'rsa') {
    const wire = Buffer.concat([sshString('ssh-rsa'), sshMpint(Buffer.from(jwk.e!, 'base64url')), sshMpint(Buffer.from(jwk.n!, 'base64url'))]);
    const publicKey = makePublicKey('ssh-rsa', wire);
    return { kind: 'plain', identity: rsaIdentity(key, publicKey), publicKey };
  }
  if (key.asymmetricKeyType === 'ed25519') {
    const publicKey = makePublicKey('ssh-ed25519', Buffer.concat([sshString('ssh-ed25519'), sshString(Buffer.from(jwk.x!, 'base64url'))]));
    return { kind: 'plain', identity: ed25519Identity(Buffer.from(jwk.d!, 'base64url'), publicKey), publicKey };
  }
  throw new Error(`unsupported private key type ${key.asymmetricKeyType} (age supports ssh-ed25519 and ssh-rsa)`);
}

/**
 * Parses an SSH private key: the OpenSSH format (`-----BEGIN OPENSSH PRIVATE KEY-----`) or a
 * PEM RSA/PKCS#8 key. Throws an Error (never quoting the key) when it is not usable.
 */
export function parseSshPrivateKey(data: Uint8Array): SshPrivateKey {
  const text = Buffer.from(data).toString('latin1').trim();
  const m = /^-----BEGIN OPENSSH PRIVATE KEY-----\r?\n([\sA-Za-z0-9+/=]*?)\r?\n?-----END OPENSSH PRIVATE KEY-----$/.exec(text);
  if (m) return parseOpenSsh(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'));
  if (/^-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) return parsePem(text);
  throw new Error('not an SSH private key (expected -----BEGIN OPENSSH PRIVATE KEY-----)');
}
