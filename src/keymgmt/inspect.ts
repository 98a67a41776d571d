/**
 * Looking at a file without any key: `sops filestatus` (is it encrypted?) and the key listing
 * (who can decrypt it: groups, recipients, threshold, when each key was wrapped).
 */
import { ExitCode, SopsError } from '../errors.js';
import { resolveFormat, storeFor, type FormatName } from '../stores/index.js';
import { getEntry, type MapNode } from '../tree/types.js';
import { loadForKeys, effectiveThreshold, type KeyMgmtOptions } from './core.js';
import { isUsableKey, keyCreatedAt, keyIdentity } from './identity.js';

/** `sops filestatus` output. */
export interface FileStatus {
  encrypted: boolean;
}

function scalar(m: MapNode, key: string): string {
  const v = getEntry(m, key)?.value;
  if (!v) return '';
  if (v.kind === 'str' || v.kind === 'time') return v.value;
  if (v.kind === 'int') return v.value.toString();
  if (v.kind === 'float') return String(v.value);
  return '';
}

/**
 * Whether a file is encrypted as sops sees it: it has a `sops` metadata block with a non-empty
 * `version` and `mac`. A file that is not valid in its format is an error (exit 1).
 */
export function fileStatus(input: string | Uint8Array, opts: { inputType?: FormatName; filename?: string } = {}): FileStatus {
  const format = opts.inputType ?? (opts.filename ? resolveFormat(undefined, opts.filename) : 'yaml');
  const data = typeof input === 'string' ? new TextEncoder().encode(input) : input;
  let meta: MapNode | undefined;
  try {
    meta = storeFor(format).load(data, 'encrypted').metadata;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new SopsError(`cannot check file status: cannot load encrypted file: ${why}`, ExitCode.Generic);
  }
  if (!meta) return { encrypted: false };
  if (scalar(meta, 'version') === '') return { encrypted: false };
  // as sops: metadata that does not load (a bad lastmodified, ...) is an error, not "plain"
  loadForKeys(data, { inputType: format, ...(opts.filename ? { filename: opts.filename } : {}) });
  return { encrypted: scalar(meta, 'mac') !== '' };
}

/** One master key in a listing. */
export interface ListedKey {
  /** Metadata list name: `age`, `pgp`, `kms`, `gcp_kms`, ... */
  type: string;
  /** The recipient, fingerprint, ARN (as sops prints keys). */
  identity: string;
  /** When the data key was wrapped for this key (RFC 3339); age entries have no date. */
  createdAt?: string;
  /** False for kinds tsops cannot use (they are kept, never used). */
  usable: boolean;
}

/** Who can decrypt a file. */
export interface KeyListing {
  file: string;
  /** Key groups, in file order; with several, any `threshold` of them are needed. */
  groups: ListedKey[][];
  /** Groups needed (0 with a single group). */
  threshold: number;
  lastModified: string;
  version: string;
}

/** Lists the key groups of an encrypted file (no key is needed). */
export function listKeys(input: string | Uint8Array, opts: KeyMgmtOptions = {}): KeyListing {
  const l = loadForKeys(input, opts);
  const md = l.file.metadata;
  return {
    file: l.name,
    groups: md.keyGroups.map((g) =>
      g.map((k) => {
        const createdAt = keyCreatedAt(k);
        return { type: k.type, identity: keyIdentity(k), ...(createdAt ? { createdAt } : {}), usable: isUsableKey(k) };
      }),
    ),
    threshold: effectiveThreshold(md.keyGroups.length, md.shamirThreshold),
    lastModified: md.lastModified,
    version: md.version,
  };
}
