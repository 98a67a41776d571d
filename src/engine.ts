/**
 * The sops engine on trees: load an encrypted file into documents + metadata, recover the data
 * key, decrypt and verify the MAC; encrypt documents under a data key and build the metadata.
 * Pure apart from the key context handed in.
 */
import { randomBytes } from 'node:crypto';
import { ExitCode, MacError, SopsError } from './errors.js';
import { ValueCipher, type CipherOptions } from './crypto/cipher.js';
import { lastModifiedAd, formatTimestamp } from './crypto/scalar.js';
import { decryptDocuments, encryptDocuments } from './crypto/tree-cipher.js';
import { unwrapDataKey, wrapDataKey } from './keys/datakey.js';
import type { KeyContext, MasterKey } from './keys/types.js';
import { readMetadata, writeMetadata, SOPS_FORMAT_VERSION, type Metadata } from './stores/metadata.js';
import type { Store } from './stores/types.js';
import { makeSelector, type EncryptionRule } from './tree/select.js';
import type { MapNode } from './tree/types.js';
import { guardDepth } from './stores/depth.js';

/** An encrypted file as loaded: its (still encrypted) documents and parsed metadata. */
export interface EncryptedFile {
  documents: MapNode[];
  metadata: Metadata;
}

/** Whether a store keeps a single value (binary): no selection rules apply there. */
export function isSingleValueStore(store: Store): boolean {
  return store.name === 'binary';
}

/** Parses an encrypted file. Throws (exit 1) when it has no `sops` metadata. */
export function loadEncrypted(data: Uint8Array, store: Store, fileName: string): EncryptedFile {
  const loaded = store.load(data, 'encrypted');
  if (!loaded.metadata) {
    throw new SopsError(`${fileName}: sops metadata not found`, ExitCode.Generic, {
      hint: 'this file is not encrypted with sops/tsops (or the wrong --input-type was used); encrypt it with `tsops encrypt`',
    });
  }
  let metadata: Metadata;
  try {
    metadata = readMetadata(loaded.metadata);
  } catch (e) {
    if (e instanceof SopsError) throw new SopsError(`${fileName}: ${e.message}`, e.exitCode, e.hint ? { hint: e.hint } : {});
    throw e;
  }
  if (isSingleValueStore(store)) {
    // Binary files ignore any rule (v3.11+): the one value is always encrypted.
    delete metadata.rule;
    metadata.macOnlyEncrypted = false;
  } else if (!metadata.rule) {
    metadata.rule = { field: 'unencrypted_suffix', value: '_unencrypted' };
  }
  return { documents: loaded.documents, metadata };
}

export interface DecryptOptions {
  ctx: KeyContext;
  decryptionOrder: readonly string[];
  ignoreMac?: boolean;
  /** Used in messages. */
  fileName: string;
  cipherOptions?: CipherOptions;
}

export interface DecryptedFile {
  documents: MapNode[];
  metadata: Metadata;
  dataKey: Uint8Array;
  /** Remembers every ciphertext, so a later write reuses the unchanged ones. */
  cipher: ValueCipher;
  warnings: string[];
}

/** Recovers the data key, decrypts every value and checks the MAC (in sops's order: 128, 25, 51). */
export async function decryptFile(file: EncryptedFile, opts: DecryptOptions): Promise<DecryptedFile> {
  const md = file.metadata;
  const dataKey = await unwrapDataKey(md.keyGroups, md.shamirThreshold, opts.decryptionOrder, opts.ctx, opts.fileName);
  const cipher = new ValueCipher(dataKey, opts.cipherOptions);
  const res = guardDepth(`could not decrypt ${opts.fileName}`, () => decryptDocuments(file.documents, { selector: makeSelector(md.rule), macOnlyEncrypted: md.macOnlyEncrypted, cipher }), ExitCode.ErrorDecryptingTree);
  if (!opts.ignoreMac) verifyMac(md, res.mac, cipher, opts.fileName);
  return { documents: res.documents, metadata: md, dataKey, cipher, warnings: res.warnings };
}

function verifyMac(md: Metadata, computed: string, cipher: ValueCipher, fileName: string): void {
  if (!md.mac) throw new MacError(`${fileName} has no MAC: its integrity cannot be verified`);
  const ad = lastModifiedAd(md.lastModified) ?? md.lastModified;
  let stored: string;
  try {
    // the data key's batch cipher is already set up; value by value for the exact error
    const { plain } = cipher.decryptMany([md.mac], [ad])[0] ?? cipher.decrypt(md.mac, ad);
    stored = Buffer.from(plain).toString('utf8');
  } catch {
    throw new MacError(`${fileName}: the MAC could not be decrypted (the MAC or lastmodified was changed, or the file was tampered with)`);
  }
  if (stored !== computed) {
    throw new MacError(`${fileName}: MAC mismatch: the values do not match the file's MAC (a value, key or their order was changed)`);
  }
  cipher.remember(md.mac, 'str', ad, Buffer.from(stored));
}

export interface EncryptSettings {
  keyGroups: MasterKey[][];
  shamirThreshold?: number;
  rule?: EncryptionRule;
  macOnlyEncrypted?: boolean;
}

export interface EncryptOptions {
  ctx: KeyContext;
  /** Existing data key (edit/set keep it); a new random one when absent. */
  dataKey?: Uint8Array;
  /** Existing cipher, whose remembered ciphertexts are reused for unchanged values. */
  cipher?: ValueCipher;
  cipherOptions?: CipherOptions;
  /** Skip wrapping the data key: the key groups already hold it (edit/set). */
  keysAlreadyWrapped?: boolean;
  /** Existing metadata fields to keep (version is raised to ours). */
  previous?: Metadata;
  now?: Date;
  singleValueStore?: boolean;
}

export interface EncryptedResult {
  documents: MapNode[];
  metadata: Metadata;
  metadataTree: MapNode;
  dataKey: Uint8Array;
  cipher: ValueCipher;
}

/** Encrypts plaintext documents: values, MAC, wrapped data key, metadata. */
export async function encryptFile(documents: readonly MapNode[], settings: EncryptSettings, opts: EncryptOptions): Promise<EncryptedResult> {
  const dataKey = opts.dataKey ?? randomBytes(32);
  const cipher = opts.cipher ?? new ValueCipher(dataKey, opts.cipherOptions);
  const rule = opts.singleValueStore ? undefined : (settings.rule ?? { field: 'unencrypted_suffix', value: '_unencrypted' });
  const macOnlyEncrypted = !opts.singleValueStore && !!settings.macOnlyEncrypted;
  const res = guardDepth('could not encrypt the document', () => encryptDocuments(documents, { selector: makeSelector(rule), macOnlyEncrypted, cipher }), ExitCode.ErrorEncryptingTree);
  if (!opts.keysAlreadyWrapped) await wrapDataKey(dataKey, settings.keyGroups, settings.shamirThreshold, opts.ctx);
  const lastModified = formatTimestamp(opts.now ?? opts.ctx.now());
  const mac = cipher.encrypt(Buffer.from(res.mac), 'str', lastModified);
  const metadata: Metadata = {
    keyGroups: settings.keyGroups,
    ...(settings.keyGroups.length > 1 ? { shamirThreshold: settings.shamirThreshold && settings.shamirThreshold > 0 ? settings.shamirThreshold : settings.keyGroups.length } : {}),
    lastModified,
    mac,
    ...(rule ? { rule } : {}),
    macOnlyEncrypted,
    version: SOPS_FORMAT_VERSION,
  };
  const metadataTree = writeMetadata(metadata, { singleValueStore: !!opts.singleValueStore });
  return { documents: res.documents, metadata, metadataTree, dataKey, cipher };
}

/** Exact equality of documents, comments, order and types included. */
export function identicalDocuments(a: readonly MapNode[], b: readonly MapNode[]): boolean {
  const key = (d: readonly MapNode[]) =>
    JSON.stringify(d, (_k, v: unknown) =>
      typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? `bytes:${Buffer.from(v).toString('hex')}` : typeof v === 'number' && Object.is(v, -0) ? '-0' : v,
    );
  return key(a) === key(b);
}

export interface RewriteOptions {
  ctx: KeyContext;
  now?: Date;
  singleValueStore?: boolean;
}

export interface RewriteResult {
  documents: MapNode[];
  metadata: Metadata;
  metadataTree: MapNode;
  /** False when every value, key and comment is as before: nothing needs writing. */
  changed: boolean;
}

/**
 * Re-encrypts edited documents under the file's own data key (edit, set, unset, encrypt
 * --reuse). Values whose plaintext did not change keep their exact `ENC[...]` text, so a diff
 * shows only what changed plus `lastmodified` and `mac`; when nothing changed at all, the old
 * `lastmodified` and MAC are kept too.
 */
export function rewriteFile(dec: DecryptedFile, original: EncryptedFile, edited: readonly MapNode[], opts: RewriteOptions): RewriteResult {
  const md = dec.metadata;
  const [res, changed] = guardDepth('could not encrypt the document', () => {
    const r = encryptDocuments(edited, { selector: makeSelector(md.rule), macOnlyEncrypted: md.macOnlyEncrypted, cipher: dec.cipher });
    return [r, !identicalDocuments(r.documents, original.documents)] as const;
  }, ExitCode.ErrorEncryptingTree);
  let metadata: Metadata = md;
  if (changed) {
    const lastModified = formatTimestamp(opts.now ?? opts.ctx.now());
    metadata = {
      ...md,
      lastModified,
      mac: dec.cipher.encrypt(Buffer.from(res.mac), 'str', lastModified),
      version: newerVersion(md.version, SOPS_FORMAT_VERSION),
    };
  }
  return { documents: res.documents, metadata, metadataTree: writeMetadata(metadata, { singleValueStore: !!opts.singleValueStore }), changed };
}

/** The newer of two semantic versions (sops raises a file's version when it rewrites it). */
export function newerVersion(a: string, b: string): string {
  const parse = (v: string) => (/^v?(\d+)\.(\d+)\.(\d+)/.exec(v) ?? []).slice(1, 4).map(Number);
  const pa = parse(a);
  const pb = parse(b);
  if (pa.length < 3) return b;
  for (let i = 0; i < 3; i++) if (pa[i]! !== pb[i]!) return pa[i]! > pb[i]! ? a : b;
  return a;
}
