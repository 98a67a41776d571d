/**
 * The git textconv filter on bytes (`tsops git textconv FILE`): a sops file becomes its
 * decrypted plaintext, so `git diff`, `git log -p` and `git show` compare values; anything
 * else (a plaintext file, or a sops file whose keys are not at hand) comes back unchanged with
 * a one-line note. It never fails: a broken textconv would break `git diff` for everyone.
 */
import { decryptTree } from '../api.js';
import { DataKeyError, MacError, isSopsError } from '../errors.js';
import type { KeyContext } from '../keys/types.js';
import { storeFor, type FormatName } from '../stores/index.js';
import { hasSopsMetadata, sniffFormat } from './load-any.js';

/** Options of {@link textconv}. */
export interface TextconvOptions {
  /** The path git gave (a temp file keeps the original name's extension). */
  name: string;
  format?: FormatName;
  keyContext: KeyContext;
  decryptionOrder?: string;
  indent?: number;
}

/** The text for git, and a note for stderr when the file was passed through although it is a sops file. */
export interface TextconvResult {
  output: Uint8Array;
  /** Set when the file is a sops file that could not be shown decrypted. */
  note?: string;
  decrypted: boolean;
}

/** Decrypts a sops file for display; passes everything else through. */
export async function textconv(data: Uint8Array, opts: TextconvOptions): Promise<TextconvResult> {
  const format = opts.format ?? sniffFormat(data, opts.name);
  if (!hasSopsMetadata(data, format)) return { output: data, decrypted: false };
  try {
    const dec = await decryptTree(data, { inputType: format, filename: opts.name, keyContext: opts.keyContext, ...(opts.decryptionOrder ? { decryptionOrder: opts.decryptionOrder } : {}) });
    const output = storeFor(format).emit({ documents: dec.documents }, opts.indent !== undefined ? { indent: opts.indent } : {});
    return { output, decrypted: true };
  } catch (e) {
    let why: string;
    if (e instanceof DataKeyError) why = 'no key at hand can decrypt it';
    else if (e instanceof MacError) why = 'its MAC does not verify (tampered or corrupt)';
    else why = isSopsError(e) ? e.message : e instanceof Error ? e.message : String(e);
    return { output: data, note: `${opts.name}: shown encrypted: ${why}`, decrypted: false };
  }
}
