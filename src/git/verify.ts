/**
 * `tsops verify` on one file's bytes: is it a sops file (metadata that parses, with a version,
 * a MAC and recipients), is every value its rule selects an `ENC[...]` value, and, when a key
 * is at hand, does the MAC verify. A missing key is a note unless keys are required.
 */
import { decryptTree } from '../api.js';
import { parseEncryptedValue } from '../crypto/cipher.js';
import { loadEncrypted, type EncryptedFile } from '../engine.js';
import { DataKeyError, isSopsError } from '../errors.js';
import type { KeyContext } from '../keys/types.js';
import { storeFor, type FormatName } from '../stores/index.js';
import { formatKeyPath } from './tree-slots.js';
import { holdsCiphertext, isEncryptable, selectLeaves } from './selection.js';

/** What was found for one file. */
export interface VerifyResult {
  /** Everything that makes the file an offender (empty: it passed). */
  problems: string[];
  /** Remarks that are not failures (no key to check the MAC, plaintext comments). */
  notes: string[];
  /** The MAC was checked and matches. */
  macVerified: boolean;
}

/** Options of {@link verifyFile}. */
export interface VerifyOptions {
  name: string;
  format: FormatName;
  keyContext: KeyContext;
  decryptionOrder?: string;
  /** A missing key is a failure, not a note. */
  requireKeys?: boolean;
}

const MAX_LISTED = 10;

function structuralProblems(file: EncryptedFile): string[] {
  const problems: string[] = [];
  const md = file.metadata;
  if (!md.version) problems.push('the sops metadata has no version');
  if (!md.mac) problems.push('the sops metadata has no MAC');
  if (md.keyGroups.length === 0 || md.keyGroups.every((g) => g.length === 0)) problems.push('the sops metadata names no recipient');
  const leaves = selectLeaves(file.documents, md.rule).filter((l) => l.selected && isEncryptable(l.leaf));
  const where = (l: (typeof leaves)[number]) => (file.documents.length > 1 ? `document ${l.document + 1}: ` : '') + formatKeyPath(l.path);
  const plain = leaves.filter((l) => !holdsCiphertext(l.leaf));
  const malformed = leaves.filter((l) => {
    if (!holdsCiphertext(l.leaf)) return false;
    try {
      parseEncryptedValue((l.leaf as { value: string }).value);
      return false;
    } catch {
      return true;
    }
  });
  const list = (xs: typeof leaves) => xs.slice(0, MAX_LISTED).map(where).join(', ') + (xs.length > MAX_LISTED ? `, and ${xs.length - MAX_LISTED} more` : '');
  if (plain.length > 0) problems.push(`${plain.length === 1 ? 'a value its rule encrypts is' : `${plain.length} values its rule encrypts are`} in plaintext: ${list(plain)}`);
  if (malformed.length > 0) problems.push(`malformed ENC[...] ${malformed.length === 1 ? 'value' : 'values'}: ${list(malformed)}`);
  const all = selectLeaves(file.documents, md.rule).filter((l) => isEncryptable(l.leaf));
  if (all.length > 0 && !all.some((l) => l.selected)) {
    const r = md.rule ? `${md.rule.field} ${JSON.stringify(md.rule.value)}` : 'its rule';
    problems.push(`no value is encrypted: ${r} selects none of its ${all.length} values`);
  }
  return problems;
}

/** Checks one file. Never throws for a bad file: everything wrong ends up in `problems`. */
export async function verifyFile(data: Uint8Array, opts: VerifyOptions): Promise<VerifyResult> {
  const res: VerifyResult = { problems: [], notes: [], macVerified: false };
  const store = storeFor(opts.format);
  let metadataPresent: boolean;
  try {
    metadataPresent = store.load(data, 'encrypted').metadata !== undefined;
  } catch (e) {
    res.problems.push(opts.format === 'binary' ? 'not encrypted: it is not a sops file (an encrypted binary file is JSON with a sops block)' : `not encrypted: it does not parse as ${opts.format} (${e instanceof Error ? e.message : String(e)})`);
    return res;
  }
  if (!metadataPresent) {
    res.problems.push('not encrypted: it has no sops metadata');
    return res;
  }
  let file: EncryptedFile;
  try {
    file = loadEncrypted(data, store, opts.name);
  } catch (e) {
    res.problems.push(`invalid sops metadata: ${isSopsError(e) || e instanceof Error ? e.message.replace(`${opts.name}: `, '') : String(e)}`);
    return res;
  }
  res.problems.push(...structuralProblems(file));
  if (res.problems.length > 0) return res;
  try {
    await decryptTree(data, { inputType: opts.format, filename: opts.name, keyContext: opts.keyContext, ...(opts.decryptionOrder ? { decryptionOrder: opts.decryptionOrder } : {}) });
    res.macVerified = true;
  } catch (e) {
    if (e instanceof DataKeyError) {
      if (opts.requireKeys) res.problems.push('no key at hand can decrypt it, so its MAC cannot be checked (--require-keys)');
      else res.notes.push('MAC not checked: no key at hand can decrypt it');
    } else {
      res.problems.push(isSopsError(e) || e instanceof Error ? e.message.replace(`${opts.name}: `, '') : String(e));
    }
  }
  return res;
}
