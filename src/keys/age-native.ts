/**
 * The common age case on `node:crypto` alone: native X25519 recipients (`age1...`) and
 * identities (`AGE-SECRET-KEY-1...`), armored files holding a small payload (a sops data
 * key). It follows the age v1 format (C2SP age spec) as `age-encryption` implements it.
 *
 * Loading `age-encryption` (and the web streams it uses) costs more than a whole small sops
 * decryption, so these functions handle the well-formed common case and return `undefined`
 * for anything else (other recipient types, malformed input, a failed check): the caller
 * then uses `age-encryption`, which gives the exact result or error it always gave.
 */
import { createCipheriv, createDecipheriv, createHmac, createPrivateKey, createPublicKey, diffieHellman, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';
import { ageIdentityBytes } from './bech32.js';

const X25519_PKCS8 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI = Buffer.from('302a300506032b656e032100', 'hex');
const VERSION_LINE = 'age-encryption.org/v1';
const X25519_LABEL = 'age-encryption.org/v1/X25519';
const ARMOR_BEGIN = '-----BEGIN AGE ENCRYPTED FILE-----';
const ARMOR_END = '-----END AGE ENCRYPTED FILE-----';
const TAG = 16;
/** Payloads up to one STREAM chunk (64 KiB); a data key is 32 bytes. */
const CHUNK = 64 * 1024;
const B64 = /^[A-Za-z0-9+/]*$/;

const ZERO_SALT = Buffer.alloc(32);
const BLOCK_1 = Buffer.of(1);

/**
 * HKDF-SHA256 (RFC 5869) for a 32-byte output: one HMAC to extract, one for the single output
 * block. Two HMACs cost about half of what `hkdfSync` costs per call (its KeyObject and
 * argument checks), and a file needs three.
 */
const hkdf = (ikm: Uint8Array, salt: Uint8Array, info: string): Buffer => {
  const prk = createHmac('sha256', salt.length > 0 ? salt : ZERO_SALT).update(ikm).digest();
  return createHmac('sha256', prk).update(info, 'latin1').update(BLOCK_1).digest();
};

/** Strict unpadded base64 (canonical only), or undefined. */
function b64nopad(s: string): Buffer | undefined {
  if (!B64.test(s) || s.length % 4 === 1) return undefined;
  const b = Buffer.from(s, 'base64');
  return b.toString('base64').replace(/=+$/, '') === s ? b : undefined;
}

const toB64nopad = (b: Uint8Array): string => Buffer.from(b).toString('base64').replace(/=+$/, '');

/** The last {@link dearmor} input and result: a data key's enc field is checked, then decoded. */
let lastArmored: string | undefined;
let lastDearmored: Buffer | undefined;

/** `armor.decode` for well-formed input; undefined where age might say otherwise. */
function dearmor(text: string): Buffer | undefined {
  if (text === lastArmored) return lastDearmored;
  lastDearmored = dearmorUncached(text);
  lastArmored = text;
  return lastDearmored;
}

function dearmorUncached(text: string): Buffer | undefined {
  const lines = text.trim().replaceAll('\r\n', '\n').split('\n');
  if (lines.shift() !== ARMOR_BEGIN || lines.pop() !== ARMOR_END || lines.length === 0) return undefined;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const ok = i === lines.length - 1 ? l.length > 0 && l.length <= 64 && l.length % 4 === 0 : l.length === 64;
    if (!ok || !/^[A-Za-z0-9+/]+={0,2}$/.test(l)) return undefined;
  }
  const joined = lines.join('');
  const b = Buffer.from(joined, 'base64');
  return b.toString('base64') === joined ? b : undefined;
}

/** Whether `text` is a well-formed armored age file (then `armor.decode` accepts it too). */
export function isArmoredAgeFile(text: string): boolean {
  return dearmor(text) !== undefined;
}

/** `armor.encode`: 64-character lines of padded base64, final newline. */
function armor(file: Uint8Array): string {
  const b64 = Buffer.from(file).toString('base64');
  let out = `${ARMOR_BEGIN}\n`;
  for (let i = 0; i < b64.length; i += 64) out += b64.slice(i, i + 64) + '\n';
  return `${out}${ARMOR_END}\n`;
}

interface Stanza {
  args: string[];
  body: Buffer;
}

interface Header {
  stanzas: Stanza[];
  /** The header up to and including `---`: what the MAC covers. */
  noMac: Buffer;
  mac: Buffer;
  payload: Buffer;
}

/** The age v1 header of a binary age file, or undefined when it is anything but well-formed. */
function parseHeader(file: Buffer): Header | undefined {
  let pos = 0;
  const line = (): string | undefined => {
    const nl = file.indexOf(0x0a, pos);
    if (nl < 0) return undefined;
    for (let i = pos; i < nl; i++) if (file[i]! < 32 || file[i]! > 126) return undefined;
    const s = file.toString('latin1', pos, nl);
    pos = nl + 1;
    return s;
  };
  if (line() !== VERSION_LINE) return undefined;
  const stanzas: Stanza[] = [];
  for (;;) {
    const start = pos;
    const l = line();
    if (l === undefined) return undefined;
    if (l.startsWith('--- ')) {
      const mac = b64nopad(l.slice(4));
      if (!mac || mac.length !== 32) return undefined;
      return { stanzas, noMac: file.subarray(0, start + 3), mac, payload: file.subarray(pos) };
    }
    const args = l.split(' ');
    if (args.length < 2 || args.shift() !== '->' || args.some((a) => a === '')) return undefined;
    const parts: Buffer[] = [];
    for (;;) {
      const b = line();
      const chunk = b === undefined ? undefined : b64nopad(b);
      if (!chunk || chunk.length > 48) return undefined;
      parts.push(chunk);
      if (chunk.length < 48) break;
    }
    stanzas.push({ args, body: Buffer.concat(parts) });
  }
}

/**
 * An X25519 private key and its public key. Keys are imported as JWK, which skips OpenSSL's
 * DER decoder (noticeably slow on first use); Node derives the public part from `d` (the `x`
 * handed in is not used), and it is checked to have the right length. Should that ever fail,
 * PKCS #8 it is.
 */
function x25519Private(scalar: Uint8Array): { key: KeyObject; pub: Buffer } {
  try {
    const key = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: Buffer.from(scalar).toString('base64url'), x: '' }, format: 'jwk' });
    const pub = Buffer.from(key.export({ format: 'jwk' }).x ?? '', 'base64url');
    if (pub.length === 32) return { key, pub };
  } catch {
    // below
  }
  const key = createPrivateKey({ key: Buffer.concat([X25519_PKCS8, scalar]), format: 'der', type: 'pkcs8' });
  return { key, pub: (createPublicKey(key).export({ type: 'spki', format: 'der' }) as Buffer).subarray(X25519_SPKI.length) };
}

function x25519Public(point: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(point).toString('base64url') }, format: 'jwk' });
}

function chachaOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Buffer | undefined {
  if (sealed.length < TAG) return undefined;
  try {
    const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
    d.setAuthTag(sealed.subarray(sealed.length - TAG));
    return Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG)), d.final()]);
  } catch {
    return undefined;
  }
}

function chachaSeal(key: Uint8Array, nonce: Uint8Array, plain: Uint8Array): Buffer {
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
  return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
}

/** Imported identities, by their text (a run that decrypts many files imports each once). */
const imported = new Map<string, { key: KeyObject; pub: Buffer } | null>();

function identityKey(id: unknown): { key: KeyObject; pub: Buffer } | undefined {
  if (typeof id !== 'string' || !id.startsWith('AGE-SECRET-KEY-1')) return undefined;
  let k = imported.get(id);
  if (k === undefined) {
    const scalar = ageIdentityBytes(id);
    k = scalar ? x25519Private(scalar) : null;
    imported.set(id, k);
  }
  return k ?? undefined;
}

/** The file key from the first X25519 stanza one of the identities opens. */
function unwrap(stanzas: Stanza[], keys: Array<{ key: KeyObject; pub: Buffer }>): Buffer | undefined {
  for (const { key: priv, pub: recipient } of keys) {
    for (const s of stanzas) {
      if (s.args[0] !== 'X25519') continue;
      if (s.args.length !== 2 || s.body.length !== 32) return undefined;
      const share = b64nopad(s.args[1]!);
      if (!share || share.length !== 32) return undefined;
      const secret = diffieHellman({ privateKey: priv, publicKey: x25519Public(share) });
      if (secret.every((b) => b === 0)) return undefined;
      const key = hkdf(secret, Buffer.concat([share, recipient]), X25519_LABEL);
      const fileKey = chachaOpen(key, Buffer.alloc(12), s.body);
      if (fileKey) return fileKey;
    }
  }
  return undefined;
}

/**
 * Decrypts an armored age file with X25519 identity strings. Undefined when the input or an
 * identity is outside the common case, when no identity fits, or when any check fails:
 * `age-encryption` then decides, and reports the exact error.
 */
export function nativeAgeDecrypt(armored: string, identities: readonly unknown[]): Uint8Array | undefined {
  try {
    const keys: Array<{ key: KeyObject; pub: Buffer }> = [];
    for (const id of identities) {
      const k = identityKey(id);
      if (!k) return undefined;
      keys.push(k);
    }
    const file = dearmor(armored);
    const h = file && parseHeader(file);
    if (!h) return undefined;
    const fileKey = unwrap(h.stanzas, keys);
    if (!fileKey) return undefined;
    const mac = createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header')).update(h.noMac).digest();
    if (!timingSafeEqual(mac, h.mac)) return undefined;
    if (h.payload.length < 16 + TAG || h.payload.length > 16 + CHUNK + TAG) return undefined;
    const streamKey = hkdf(fileKey, h.payload.subarray(0, 16), 'payload');
    const nonce = Buffer.alloc(12);
    nonce[11] = 1; // first and last chunk
    return chachaOpen(streamKey, nonce, h.payload.subarray(16));
  } catch {
    return undefined;
  }
}

/**
 * Encrypts `data` (at most 64 KiB) to one X25519 recipient key and returns the armored age
 * file, laid out exactly as `age-encryption` writes it.
 */
export function nativeAgeEncrypt(recipient: Uint8Array, data: Uint8Array): string {
  if (recipient.length !== 32 || data.length > CHUNK) throw new Error('nativeAgeEncrypt: unsupported input');
  const fileKey = randomBytes(16);
  const { key: ephemeral, pub: share } = x25519Private(randomBytes(32));
  const secret = diffieHellman({ privateKey: ephemeral, publicKey: x25519Public(recipient) });
  const wrapKey = hkdf(secret, Buffer.concat([share, recipient]), X25519_LABEL);
  const body = chachaSeal(wrapKey, Buffer.alloc(12), fileKey);
  let head = `${VERSION_LINE}\n-> X25519 ${toB64nopad(share)}\n`;
  for (let i = 0; i < body.length; i += 48) head += toB64nopad(body.subarray(i, i + 48)) + '\n';
  if (body.length % 48 === 0) head += '\n';
  head += '---';
  const noMac = Buffer.from(head, 'latin1');
  const mac = createHmac('sha256', hkdf(fileKey, Buffer.alloc(0), 'header')).update(noMac).digest();
  const nonce = randomBytes(16);
  const streamNonce = Buffer.alloc(12);
  streamNonce[11] = 1;
  const payload = chachaSeal(hkdf(fileKey, nonce, 'payload'), streamNonce, data);
  return armor(Buffer.concat([noMac, Buffer.from(` ${toB64nopad(mac)}\n`, 'latin1'), nonce, payload]));
}
