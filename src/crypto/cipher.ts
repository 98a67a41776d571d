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

const IV_SIZE = 32;
const TAG_SIZE = 16;
const ENC_RE = /^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]/;
const B64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
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

function b64(field: string, text: string): Uint8Array {
  if (!B64_RE.test(text)) throw new DecryptValueError(`the ${field} field is not valid base64`);
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

  constructor(
    private readonly key: Uint8Array,
    opts: CipherOptions = {},
  ) {
    if (key.length !== 32) throw new Error('data key must be 32 bytes');
    this.randomIv = opts.randomIv ?? (() => randomBytes(IV_SIZE));
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

  /** Remembers that `text` is the encryption of (`type`, `canonical`) at `ad`, for reuse. */
  remember(text: string, type: TypeTag, ad: string, canonical: Uint8Array): void {
    if (text !== '') this.stash.set(ValueCipher.stashKey(ad, type, canonical), text);
  }
}
