/**
 * `ENC[AES256_GCM,data:...,iv:...,tag:...,type:...]` values: AES-256-GCM with 32-byte IVs and
 * the value's path as additional data (sops-format.md §2).
 *
 * A {@link ValueCipher} remembers every value it decrypted. Encrypting the same typed plaintext
 * at the same path again returns the stored ciphertext unchanged, so a rewrite only changes
 * the values that really changed (minimal diffs). Nothing new is ever encrypted under an old
 * IV: a reused text is the old ciphertext itself, and a changed value gets a fresh IV.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { DecryptValueError } from '../errors.js';
import type { TypeTag } from '../tree/types.js';
import { GcmBatch } from './gcm.js';

const IV_SIZE = 32;
const TAG_SIZE = 16;
const ENC_RE = /^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]/;

const TYPES: ReadonlySet<string> = new Set(['str', 'int', 'float', 'bytes', 'bool', 'time', 'comment']);

export interface EncryptedValue {
  data: Uint8Array;
  iv: Uint8Array;
  tag: Uint8Array;
  type: TypeTag;
}

/** True when a string looks like a sops-encrypted value (cheap prefix test). */
export function isEncryptedValue(s: string): boolean {
  return s.startsWith('ENC[AES256_GCM,');
}

/**
 * Base64 as `^(?:[A-Za-z0-9+/]{4})*(?:..==|...=)?$` says, without the repeated group, whose backtracking overflows the regex stack on a
 * value of tens of MB (a 32 MB value encrypted, then failed to decrypt): the same language.
 */
const B64_FLAT_RE = /^[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const isB64 = (t: string): boolean => t.length % 4 === 0 && B64_FLAT_RE.test(t);

function b64(field: string, text: string): Uint8Array {
  if (!isB64(text)) throw new DecryptValueError(`the ${field} field is not valid base64`);
  return Buffer.from(text, 'base64');
}

/** Parses the `ENC[...]` text like Go's regex does (anchored at the start, greedy fields). */
export function parseEncryptedValue(text: string): EncryptedValue {
  const m = ENC_RE.exec(text);
  if (!m) throw new DecryptValueError("the value does not match sops' data format ENC[AES256_GCM,data:...,iv:...,tag:...,type:...]");
  const type = m[4]!;
  if (!TYPES.has(type)) throw new DecryptValueError(`unknown value type "${type.slice(0, 20)}"`);
  return { data: b64('data', m[1]!), iv: b64('iv', m[2]!), tag: b64('tag', m[3]!), type: type as TypeTag };
}

/**
 * `ENC[...]` in its canonical layout: each field once, in standard base64 characters, `]` at the
 * very end. When it matches (and the lengths are multiples of 4), ENC_RE and B64_RE give the
 * same fields: {@link ValueCipher.decryptMany} uses it, anything else goes to {@link ValueCipher.decrypt}.
 */
const CANONICAL_RE = /^ENC\[AES256_GCM,data:([A-Za-z0-9+/]+={0,2}),iv:([A-Za-z0-9+/]+={0,2}),tag:([A-Za-z0-9+/]+={0,2}),type:(str|int|float|bytes|bool|time|comment)\]$/;

const EMPTY = new Uint8Array(0);

/** Below this many values, one cipher object per value is cheaper than setting up a batch. */
const BATCH_MIN = 32;

/** The number of `=` at the end of a base64 text. */
const padding = (s: string): number => (s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0);

export function formatEncryptedValue(v: EncryptedValue): string {
  const e = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
  return `ENC[AES256_GCM,data:${e(v.data)},iv:${e(v.iv)},tag:${e(v.tag)},type:${v.type}]`;
}

export interface CipherOptions {
  /** IV source; tests inject a deterministic one. */
  randomIv?: () => Uint8Array;
}

export class ValueCipher {
  private readonly stash = new Map<string, string>();
  private readonly randomIv: () => Uint8Array;
  /** IVs are random (not a test's sequence): their order is unobservable, so many can be drawn at once. */
  private readonly ownIvs: boolean;
  private gcm: GcmBatch | undefined;
  /** Remembered values not yet in {@link stash} (added when first needed): text, type, ad, canonical. */
  private pending: Array<string | TypeTag | Uint8Array> = [];

  constructor(
    private readonly key: Uint8Array,
    opts: CipherOptions = {},
  ) {
    if (key.length !== 32) throw new Error('data key must be 32 bytes');
    this.randomIv = opts.randomIv ?? (() => randomBytes(IV_SIZE));
    this.ownIvs = opts.randomIv === undefined;
  }

  private static stashKey(ad: string, type: TypeTag, plain: Uint8Array): string {
    return `${type}\u0000${ad}\u0000${Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength).toString('latin1')}`;
  }

  /**
   * Encrypts canonical plaintext bytes under a type tag. Empty plaintext is never encrypted:
   * it returns '' (sops cannot parse an `ENC[` with an empty data field).
   */
  encrypt(plain: Uint8Array, type: TypeTag, ad: string): string {
    if (plain.length === 0) return '';
    this.flushPending();
    const sk = ValueCipher.stashKey(ad, type, plain);
    const known = this.stash.get(sk);
    if (known !== undefined) return known;
    const iv = this.randomIv();
    const c = createCipheriv('aes-256-gcm', this.key, iv, { authTagLength: TAG_SIZE });
    c.setAAD(Buffer.from(ad, 'utf8'));
    const data = Buffer.concat([c.update(plain), c.final()]);
    const text = formatEncryptedValue({ data, iv, tag: c.getAuthTag(), type });
    this.stash.set(sk, text);
    return text;
  }

  /**
   * Decrypts an `ENC[...]` text. '' decrypts to empty `str`. Throws {@link DecryptValueError}
   * (exit 25) on a malformed value or failed authentication. `canonical` (from the caller's
   * type interpretation) is what gets remembered for reuse; by default the raw plaintext.
   */
  decrypt(text: string, ad: string): { type: TypeTag; plain: Uint8Array } {
    if (text === '') return { type: 'str', plain: new Uint8Array(0) };
    const v = parseEncryptedValue(text);
    if (v.tag.length !== TAG_SIZE) throw new DecryptValueError('authentication failed: the tag is not 16 bytes');
    if (v.iv.length === 0) throw new DecryptValueError('the iv field is empty');
    let plain: Buffer;
    try {
      const d = createDecipheriv('aes-256-gcm', this.key, v.iv, { authTagLength: TAG_SIZE });
      d.setAAD(Buffer.from(ad, 'utf8'));
      d.setAuthTag(v.tag);
      plain = Buffer.concat([d.update(v.data), d.final()]);
    } catch {
      throw new DecryptValueError('authentication failed (wrong data key, a changed key path, or a tampered value)');
    }
    return { type: v.type, plain };
  }

  /**
   * Decrypts many `ENC[...]` texts at once (`ads[i]` is the additional data of `texts[i]`):
   * the same results as {@link decrypt}, several times faster for many small values. An entry
   * is undefined where it was not decrypted here (what {@link decrypt} rejects, or an unusual
   * layout); call {@link decrypt} for that value to get its result or error.
   */
  decryptMany(texts: readonly string[], ads: readonly string[]): Array<{ type: TypeTag; plain: Uint8Array } | undefined> {
    const n = texts.length;
    const out: Array<{ type: TypeTag; plain: Uint8Array } | undefined> = new Array(n).fill(undefined);
    if (n < BATCH_MIN) {
      // setting up the batch costs more than a few values one by one
      for (let k = 0; k < n; k++) {
        try {
          out[k] = this.decrypt(texts[k]!, ads[k]!);
        } catch {
          // left to the caller
        }
      }
      return out;
    }
    // the well-formed values, their fields as text
    const idx: number[] = [];
    const fields: string[] = [];
    let dataBytes = 0;
    let ivLength = -1;
    for (let k = 0; k < n; k++) {
      const text = texts[k]!;
      if (text === '') {
        out[k] = { type: 'str', plain: new Uint8Array(0) };
        continue;
      }
      const m = CANONICAL_RE.exec(text);
      if (!m) continue;
      // indexed, not destructured: destructuring runs the iterator protocol, which unoptimized code pays for per value
      const d = m[1]!;
      const i = m[2]!;
      const t = m[3]!;
      const y = m[4]!;
      if (d.length % 4 !== 0 || i.length % 4 !== 0 || t.length !== 24 || padding(t) !== 2) continue; // a 16-byte tag
      const ivBytes = (i.length / 4) * 3 - padding(i);
      if (ivLength < 0) ivLength = ivBytes;
      if (ivBytes !== ivLength || ivBytes === 0) continue;
      idx.push(k);
      fields.push(d, i, t, y);
      dataBytes += (d.length / 4) * 3 - padding(d);
    }
    const count = idx.length;
    if (count === 0) return out;
    const adText = idx.map((k) => ads[k]!);
    const joined = adText.join('');
    const aad = Buffer.from(joined, 'utf8');
    const aadOff = new Int32Array(count + 1);
    const ascii = aad.length === joined.length;
    for (let j = 0, o = 0; j < count; j++) {
      aadOff[j] = o;
      o += ascii ? adText[j]!.length : Buffer.byteLength(adText[j]!, 'utf8');
      aadOff[j + 1] = o;
    }
    const data = Buffer.allocUnsafe(dataBytes);
    const dataOff = new Int32Array(count + 1);
    const ivs = Buffer.allocUnsafe(count * ivLength);
    const tags = Buffer.allocUnsafe(count * 16);
    for (let j = 0, o = 0; j < count; j++) {
      dataOff[j] = o;
      o += data.write(fields[j * 4]!, o, 'base64');
      dataOff[j + 1] = o;
      ivs.write(fields[j * 4 + 1]!, j * ivLength, 'base64');
      tags.write(fields[j * 4 + 2]!, j * 16, 'base64');
    }
    this.gcm ??= new GcmBatch(this.key);
    const { plain, ok } = this.gcm.openPacked({ count, ivLength, ivs, aad, aadOff, data, dataOff, tags });
    for (let j = 0; j < count; j++) {
      if (ok[j]) out[idx[j]!] = { type: fields[j * 4 + 3] as TypeTag, plain: plain.subarray(dataOff[j], dataOff[j + 1]) };
    }
    return out;
  }

  /**
   * Whether {@link encryptMany} may draw IVs out of document order: true unless a test injected
   * its IV sequence (whose order is then part of the expected output).
   */
  get batchable(): boolean {
    return this.ownIvs;
  }

  /**
   * {@link encrypt} for many values at once (one AES pass for all; with an injected IV source
   * the IVs are drawn in order, one {@link encrypt} at a time).
   */
  encryptMany(values: ReadonlyArray<{ plain: Uint8Array; type: TypeTag; ad: string }>): string[] {
    if (!this.ownIvs || values.length < BATCH_MIN) return values.map((v) => this.encrypt(v.plain, v.type, v.ad));
    this.flushPending();
    const known = this.stash.size > 0;
    const out: string[] = new Array(values.length);
    // Values that need a new encryption. Equal (type, ad, plaintext) share one: the stash key is
    // only built where an additional data repeats (list elements, duplicate keys).
    const jobs: number[] = [];
    const byAd = new Map<string, number[]>();
    const same = new Map<number, number>();
    for (let k = 0; k < values.length; k++) {
      const v = values[k]!;
      if (v.plain.length === 0) {
        out[k] = '';
        continue;
      }
      if (known) {
        const text = this.stash.get(ValueCipher.stashKey(v.ad, v.type, v.plain));
        if (text !== undefined) {
          out[k] = text;
          continue;
        }
      }
      const earlier = byAd.get(v.ad);
      const twin = earlier?.find((j) => values[j]!.type === v.type && Buffer.compare(values[j]!.plain, v.plain) === 0);
      if (twin !== undefined) {
        same.set(k, twin);
        continue;
      }
      if (earlier) earlier.push(k);
      else byAd.set(v.ad, [k]);
      jobs.push(k);
    }
    if (jobs.length > 0) {
      const count = jobs.length;
      const ivs = randomBytes(IV_SIZE * count);
      const adText = jobs.map((k) => values[k]!.ad);
      const joined = adText.join('');
      const aad = Buffer.from(joined, 'utf8');
      const aadOff = new Int32Array(count + 1);
      const ascii = aad.length === joined.length;
      const dataOff = new Int32Array(count + 1);
      for (let j = 0, a = 0, d = 0; j < count; j++) {
        aadOff[j] = a;
        a += ascii ? adText[j]!.length : Buffer.byteLength(adText[j]!, 'utf8');
        aadOff[j + 1] = a;
        dataOff[j] = d;
        d += values[jobs[j]!]!.plain.length;
        dataOff[j + 1] = d;
      }
      const plain = Buffer.allocUnsafe(dataOff[count]!);
      for (let j = 0; j < count; j++) plain.set(values[jobs[j]!]!.plain, dataOff[j]);
      this.gcm ??= new GcmBatch(this.key);
      const sealed = this.gcm.sealPacked({ count, ivLength: IV_SIZE, ivs, aad, aadOff, data: plain, dataOff, tags: EMPTY });
      for (let j = 0; j < count; j++) {
        const k = jobs[j]!;
        const v = values[k]!;
        const text = `ENC[AES256_GCM,data:${sealed.data.toString('base64', dataOff[j], dataOff[j + 1])},iv:${ivs.toString('base64', j * IV_SIZE, (j + 1) * IV_SIZE)},tag:${sealed.tags.toString('base64', j * 16, (j + 1) * 16)},type:${v.type}]`;
        out[k] = text;
        // kept for reuse, as encrypt() does (added to the stash when next needed)
        this.pending.push(text, v.type, v.ad, v.plain);
      }
    }
    for (const [k, twin] of same) out[k] = out[twin]!;
    return out;
  }

  /** Remembers that `text` is the encryption of (`type`, `canonical`) at `ad`, for reuse. */
  remember(text: string, type: TypeTag, ad: string, canonical: Uint8Array): void {
    // Kept as they come; the lookup table is built on the first encryption that needs it.
    if (text !== '') this.pending.push(text, type, ad, canonical);
  }

  private flushPending(): void {
    const p = this.pending;
    if (p.length === 0) return;
    for (let i = 0; i < p.length; i += 4) {
      this.stash.set(ValueCipher.stashKey(p[i + 2] as string, p[i + 1] as TypeTag, p[i + 3] as Uint8Array), p[i] as string);
    }
    this.pending = [];
  }
}
