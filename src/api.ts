/**
 * The library API: encrypt, decrypt and extract on strings, bytes and files.
 *
 * ```ts
 * import { encrypt, decrypt, extract } from 'tsops';
 * const enc = await encrypt('db:\n  password: hunter2\n', { inputType: 'yaml', age: ['age1...'] });
 * const plain = await decrypt(enc, { inputType: 'yaml' });          // identities from SOPS_AGE_KEY_FILE, ...
 * const pw = await extract(enc, '["db"]["password"]', { inputType: 'yaml' });
 * ```
 */
import { ExitCode, ParseError, SopsError } from './errors.js';
import { decryptFile as decryptLoaded, encryptFile as encryptDocs, isSingleValueStore, loadEncrypted, type DecryptedFile, type EncryptedFile } from './engine.js';
import { parseDecryptionOrder } from './keys/datakey.js';
import type { KeyContext } from './keys/types.js';
import { makeKeyContext } from './io/context.js';
import { readInputFile } from './io/files.js';
import { resolveSettings, type ConfigSettings, type DirectSettings } from './settings.js';
import { resolveFormat, storeFor, type FormatName } from './stores/index.js';
import type { EmitOptions, LoadedFile } from './stores/types.js';
import { getAtPath, parseTreePath, withoutComments } from './tree/path.js';
import type { MapNode, Node } from './tree/types.js';

type Input = string | Uint8Array;

const toBytes = (i: Input): Uint8Array => (typeof i === 'string' ? new TextEncoder().encode(i) : i);
const toText = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8');

/** Options shared by every call. */
export interface CommonOptions {
  /** Input format. Default: from `filename`'s suffix; for strings without a filename, `yaml`. */
  inputType?: FormatName;
  /** Output format. Default: the input format. */
  outputType?: FormatName;
  /** Name used for format detection, `.sops.yaml` matching and messages. */
  filename?: string;
  /** Output indentation (YAML default 4, JSON default tab). */
  indent?: number;
  /** Where identities, gpg and the clock come from. Default: the process environment. */
  keyContext?: KeyContext;
}

export interface DecryptOptions extends CommonOptions {
  /** Skip the MAC check (a file edited by hand, or an ancient one without a MAC). */
  ignoreMac?: boolean;
  /** Key kinds in the order to try them (default `age,pgp`; env `SOPS_DECRYPTION_ORDER` in the CLI). */
  decryptionOrder?: string | readonly string[];
}

export interface EncryptOptions extends CommonOptions, DirectSettings {
  /** A `.sops.yaml` creation rule already matched (the CLI and {@link encryptFile} find one). */
  creationRule?: ConfigSettings;
  /** Clock for `lastmodified` (tests). */
  now?: Date;
}

function formats(opts: CommonOptions, fallback: FormatName): { input: FormatName; output: FormatName } {
  const input = opts.inputType ?? (opts.filename ? resolveFormat(undefined, opts.filename) : fallback);
  return { input, output: opts.outputType ?? input };
}

function emitOpts(opts: CommonOptions): EmitOptions {
  return opts.indent !== undefined ? { indent: opts.indent } : {};
}

function orderOf(o: DecryptOptions['decryptionOrder']): readonly string[] {
  return parseDecryptionOrder(typeof o === 'string' || o === undefined ? o : o.join(','));
}

/** The decrypted documents and metadata of an encrypted file, for programs that want the tree. */
export async function decryptTree(input: Input, opts: DecryptOptions = {}): Promise<DecryptedFile & { format: FormatName; source: EncryptedFile }> {
  const { input: format } = formats(opts, 'yaml');
  const store = storeFor(format);
  const name = opts.filename ?? 'the input';
  let file;
  try {
    file = loadEncrypted(toBytes(input), store, name);
  } catch (e) {
    // sops reports a malformed encrypted file with its generic exit code.
    if (e instanceof ParseError) throw new SopsError(`${name}: ${e.message}`, ExitCode.Generic, e.hint ? { hint: e.hint } : {});
    throw e;
  }
  const ctx = opts.keyContext ?? makeKeyContext();
  const res = await decryptLoaded(file, { ctx, decryptionOrder: orderOf(opts.decryptionOrder), ignoreMac: !!opts.ignoreMac, fileName: name });
  return { ...res, format, source: file };
}

/** Decrypts to bytes in the output format (raw bytes for binary). */
export async function decryptBytes(input: Input, opts: DecryptOptions = {}): Promise<Uint8Array> {
  const res = await decryptTree(input, opts);
  const out = storeFor(opts.outputType ?? res.format);
  return out.emit({ documents: res.documents }, emitOpts(opts));
}

/** Decrypts an encrypted document to its plaintext text. */
export async function decrypt(input: Input, opts: DecryptOptions = {}): Promise<string> {
  return toText(await decryptBytes(input, opts));
}

/** Reads and decrypts a file (format from its name unless given). */
export async function decryptFile(path: string, opts: DecryptOptions = {}): Promise<string> {
  return decrypt(readInputFile(path), { filename: path, ...opts });
}

/**
 * Decrypts and returns one value, printed as `sops decrypt --extract` prints it: a string as
 * its raw text, a mapping as a whole document, anything else in the output format.
 */
export async function extractBytes(input: Input, treePath: string, opts: DecryptOptions = {}): Promise<Uint8Array> {
  const steps = parseTreePath(treePath);
  const res = await decryptTree(input, opts);
  const out = storeFor(opts.outputType ?? res.format);
  const first = res.documents[0];
  if (!first) throw new SopsError('the file has no document to extract from', ExitCode.Generic);
  return renderExtracted(getAtPath(first, steps), out, emitOpts(opts));
}

/** Formats an extracted value as sops does. */
export function renderExtracted(v: Node, out: ReturnType<typeof storeFor>, eo: EmitOptions): Uint8Array {
  if (v.kind === 'str') return new TextEncoder().encode(v.value);
  if (v.kind === 'bytes') return v.value;
  if (v.kind === 'map') return out.emit({ documents: [withoutComments(v) as MapNode] }, eo);
  return out.emitValue(withoutComments(v), eo);
}

/** {@link extractBytes} as a string. */
export async function extract(input: Input, treePath: string, opts: DecryptOptions = {}): Promise<string> {
  return toText(await extractBytes(input, treePath, opts));
}

/** Parses a plaintext file for encryption, with sops's checks (exit 203, 92, 2). */
export function loadPlain(data: Uint8Array, format: FormatName, name: string): LoadedFile {
  const loaded = storeFor(format).load(data, 'plain');
  if (loaded.metadata) {
    throw new SopsError(`${name} is already encrypted (it has sops metadata)`, ExitCode.FileAlreadyEncrypted, {
      hint: format === 'dotenv' ? 'dotenv keys that start with sops_ are reserved for the metadata' : 'decrypt it first, or use `tsops rotate`/`updatekeys` to change its keys',
    });
  }
  if (loaded.documents.length === 0) {
    throw new SopsError(`${name} cannot be completely empty: it must contain at least one document`, ExitCode.NeedAtLeastOneDocument);
  }
  return loaded;
}

/** Encrypts a plaintext document to the encrypted file text. */
export async function encryptBytes(plaintext: Input, opts: EncryptOptions = {}): Promise<Uint8Array> {
  const { input, output } = formats(opts, 'yaml');
  const name = opts.filename ?? 'the input';
  const loaded = loadPlain(toBytes(plaintext), input, name);
  const ctx = opts.keyContext ?? makeKeyContext(opts.now ? { now: () => opts.now! } : {});
  const settings = resolveSettings(opts, opts.creationRule, ctx);
  const outStore = storeFor(output);
  const res = await encryptDocs(loaded.documents, settings, {
    ctx,
    singleValueStore: isSingleValueStore(storeFor(input)) || isSingleValueStore(outStore),
    ...(opts.now ? { now: opts.now } : {}),
  });
  return outStore.emit({ documents: res.documents, metadata: res.metadataTree }, emitOpts(opts));
}

/** {@link encryptBytes} as a string (encrypted files are always text). */
export async function encrypt(plaintext: Input, opts: EncryptOptions = {}): Promise<string> {
  return toText(await encryptBytes(plaintext, opts));
}

/** Reads and encrypts a file; returns the encrypted text (nothing is written). */
export async function encryptFile(path: string, opts: EncryptOptions = {}): Promise<string> {
  return encrypt(readInputFile(path), { filename: path, ...opts });
}
