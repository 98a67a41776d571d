/**
 * Reading a file that may be plaintext or sops-encrypted, in any format: the format from the
 * name (or sniffed when the name says nothing, as for git's `.merge_file_*` temp files), and
 * the documents decrypted when it is a sops file.
 */
import { decryptTree, type DecryptOptions } from '../api.js';
import type { DecryptedFile, EncryptedFile } from '../engine.js';
import { ExitCode, ParseError, SopsError } from '../errors.js';
import { formatFromPath, isFormatName, storeFor, type FormatName } from '../stores/index.js';
import type { MapNode } from '../tree/types.js';

/** Whether the bytes hold a `sops` metadata block in this format (parse errors: false). */
export function hasSopsMetadata(data: Uint8Array, format: FormatName): boolean {
  try {
    return storeFor(format).load(data, 'encrypted').metadata !== undefined;
  } catch {
    return false;
  }
}

/**
 * The format to read a file in: `explicit` when given, else the name's; when the name implies
 * binary (no known extension), a sops file in another format is recognised by its metadata.
 */
export function sniffFormat(data: Uint8Array, name: string | undefined, explicit?: string): FormatName {
  if (isFormatName(explicit)) return explicit;
  const byName = formatFromPath(name);
  if (byName !== 'binary') return byName;
  for (const f of ['json', 'yaml', 'dotenv', 'ini'] as const) {
    if (!hasSopsMetadata(data, f)) continue;
    if (f === 'json') {
      // a binary file's envelope is JSON with a single `data` value
      const docs = storeFor('json').load(data, 'encrypted').documents;
      const keys = docs[0]?.items.filter((i) => i.kind === 'entry') ?? [];
      return keys.length === 1 && keys[0]!.kind === 'entry' && keys[0]!.key === 'data' ? 'binary' : 'json';
    }
    return f;
  }
  return 'binary';
}

/** One side of a diff or merge. */
export interface AnyFile {
  format: FormatName;
  /** Decrypted (or plaintext) documents. */
  documents: MapNode[];
  /** The decryption when the file is a sops file. */
  decrypted?: DecryptedFile & { source: EncryptedFile };
}

/** Options of {@link loadAny}. */
export interface LoadAnyOptions extends Pick<DecryptOptions, 'keyContext' | 'decryptionOrder' | 'ignoreMac'> {
  /** Used for messages and (unless `format`) format detection. */
  name: string;
  format?: FormatName;
}

/** An empty (or whitespace-only) file: no documents (git's base of an add/add merge). */
export const isBlank = (data: Uint8Array): boolean => Buffer.from(data).toString('utf8').trim() === '';

/**
 * Loads a file: decrypted (MAC checked unless `ignoreMac`) when it is a sops file, parsed as
 * plaintext otherwise. Throws {@link SopsError} (exit 1 for unparsable plaintext, sops's codes
 * for decryption failures).
 */
export async function loadAny(data: Uint8Array, opts: LoadAnyOptions): Promise<AnyFile> {
  const format = opts.format ?? sniffFormat(data, opts.name);
  if (format !== 'binary' && isBlank(data)) return { format, documents: [] };
  if (hasSopsMetadata(data, format)) {
    const dec = await decryptTree(data, {
      inputType: format,
      filename: opts.name,
      ...(opts.keyContext ? { keyContext: opts.keyContext } : {}),
      ...(opts.decryptionOrder !== undefined ? { decryptionOrder: opts.decryptionOrder } : {}),
      ...(opts.ignoreMac ? { ignoreMac: true } : {}),
    });
    return { format, documents: dec.documents, decrypted: dec };
  }
  try {
    return { format, documents: storeFor(format).load(data, 'plain').documents };
  } catch (e) {
    if (e instanceof ParseError) throw new SopsError(`${opts.name}: ${e.message}`, ExitCode.Generic, e.hint ? { hint: e.hint } : {});
    throw e;
  }
}
