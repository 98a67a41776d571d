/**
 * Bech32 (BIP 173) decoding, with exactly the checks `age-encryption` applies (through
 * `@scure/base`) when it parses age recipients and identities. It lets tsops validate those
 * strings synchronously without loading the age library, which is only needed to encrypt or
 * decrypt.
 */

const ALPHABET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATORS = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymodStep(pre: number): number {
  const b = pre >> 25;
  let chk = (pre & 0x1ffffff) << 5;
  for (let i = 0; i < 5; i++) if (((b >> i) & 1) === 1) chk ^= GENERATORS[i]!;
  return chk;
}

/** A decoded Bech32 string: the lower-case human-readable part and the payload bytes. */
export interface Bech32Decoded {
  prefix: string;
  bytes: Uint8Array;
}

/**
 * Decodes a Bech32 string (checksum constant 1) to bytes; undefined when `@scure/base`'s
 * `bech32.decode` + `fromWords` would throw: bad length (over `limit` characters unless
 * `limit` is false), mixed case, characters outside printable ASCII, no separator, a bad
 * checksum or non-canonical padding.
 */
export function bech32Decode(s: string, limit: number | false = 90): Bech32Decoded | undefined {
  if (s.length < 8 || (limit !== false && s.length > limit)) return undefined;
  let lower = false;
  let upper = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 33 || c > 126) return undefined;
    if (c >= 97 && c <= 122) lower = true;
    else if (c >= 65 && c <= 90) upper = true;
  }
  if (lower && upper) return undefined;
  const str = s.toLowerCase();
  const sep = str.lastIndexOf('1');
  if (sep <= 0) return undefined;
  const prefix = str.slice(0, sep);
  const data = str.slice(sep + 1);
  if (data.length < 6) return undefined;
  const words: number[] = [];
  for (let i = 0; i < data.length; i++) {
    const w = ALPHABET.indexOf(data[i]!);
    if (w < 0) return undefined;
    words.push(w);
  }
  let chk = 1;
  for (let i = 0; i < prefix.length; i++) chk = polymodStep(chk) ^ (prefix.charCodeAt(i) >> 5);
  chk = polymodStep(chk);
  for (let i = 0; i < prefix.length; i++) chk = polymodStep(chk) ^ (prefix.charCodeAt(i) & 0x1f);
  for (const w of words) chk = polymodStep(chk) ^ w;
  if (chk !== 1) return undefined;
  // 5-bit words -> bytes, rejecting excess or non-zero padding (strict canonical form)
  const payload = words.slice(0, words.length - 6);
  const out = new Uint8Array(Math.floor((payload.length * 5) / 8));
  let carry = 0;
  let pos = 0;
  let j = 0;
  for (const w of payload) {
    carry = ((carry << 5) | w) & 0xffff;
    pos += 5;
    for (; pos >= 8; pos -= 8) out[j++] = (carry >> (pos - 8)) & 0xff;
  }
  if (pos >= 5 || ((carry << (8 - pos)) & 0xff) !== 0) return undefined;
  return { prefix, bytes: out };
}

/** The 32-byte key of an `age1...` X25519 recipient, or undefined when age would reject it. */
export function x25519RecipientBytes(s: string): Uint8Array | undefined {
  const d = bech32Decode(s);
  return d && s.startsWith('age1') && d.prefix === 'age' && d.bytes.length === 32 ? d.bytes : undefined;
}

/** Whether age accepts an `age1pq1...` post-quantum hybrid recipient. */
export function isValidHybridRecipient(s: string): boolean {
  const d = bech32Decode(s, false);
  return !!d && s.startsWith('age1pq1') && d.prefix === 'age1pq' && d.bytes.length === 1216;
}

/**
 * The 32-byte scalar of an `AGE-SECRET-KEY-1...` identity (or of an `AGE-SECRET-KEY-PQ-1...`
 * one with `pq`), or undefined when age would reject the string.
 */
export function ageIdentityBytes(s: string, pq = false): Uint8Array | undefined {
  const d = bech32Decode(s);
  const head = pq ? 'AGE-SECRET-KEY-PQ-' : 'AGE-SECRET-KEY-';
  return d && s.startsWith(`${head}1`) && d.prefix.toUpperCase() === head && d.bytes.length === 32 ? d.bytes : undefined;
}
