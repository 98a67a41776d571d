/**
 * The git merge driver on bytes (`tsops git merge BASE OURS THEIRS PATH`): decrypt the three
 * versions, merge the documents key by key, and encrypt the result with OURS's data key and
 * metadata, keeping the exact ciphertext of every value that did not change (of OURS's values,
 * and of THEIRS's when both share the data key), so the merge commit's diff shows only what
 * really changed. Nothing here writes files; the result is either encrypted bytes or the list
 * of conflicting key paths.
 */
import { isSingleValueStore, rewriteFile } from '../engine.js';
import { decryptDocuments } from '../crypto/tree-cipher.js';
import { ExitCode, SopsError } from '../errors.js';
import { keyIdentity } from '../keymgmt/identity.js';
import { effectiveThreshold } from '../keymgmt/core.js';
import type { KeyContext } from '../keys/types.js';
import { storeFor, type FormatName } from '../stores/index.js';
import type { Metadata } from '../stores/metadata.js';
import { makeSelector } from '../tree/select.js';
import { hasSopsMetadata, isBlank, loadAny, sniffFormat, type AnyFile } from './load-any.js';
import { mergeDocuments, type MergeConflict } from './tree-merge.js';

/** The three versions git hands the driver, and how to read and write them. */
export interface MergeInputs {
  base: Uint8Array;
  ours: Uint8Array;
  theirs: Uint8Array;
  /** The file's path in the repository (%P): format detection and messages. */
  path: string;
  /** Format; default from `path`, else sniffed. */
  format?: FormatName;
  keyContext: KeyContext;
  decryptionOrder?: string;
  /** Output indentation (`.sops.yaml` `stores`). */
  indent?: number;
  now?: Date;
}

/** What the driver does. */
export type MergeOutcome =
  /** The merged file, encrypted (`changed` false: OURS's bytes as they are). */
  | { kind: 'merged'; output: Uint8Array; changed: boolean; notes: string[] }
  /** Key paths (and metadata) that cannot be merged; nothing is to be written. */
  | { kind: 'conflict'; conflicts: MergeConflict[]; notes: string[] }
  /** None of the three is a sops file: an ordinary text merge applies. */
  | { kind: 'not-sops' };

/** Who can decrypt, as comparable text: each group's key identities, sorted, and the threshold. */
function recipientsOf(md: Metadata): string {
  const groups = md.keyGroups.map((g) => g.map((k) => `${k.type}:${keyIdentity(k)}`).sort().join(','));
  return JSON.stringify({ groups, threshold: effectiveThreshold(md.keyGroups.length, md.shamirThreshold) });
}

function ruleOf(md: Metadata): string {
  return JSON.stringify({ rule: md.rule ?? null, macOnlyEncrypted: md.macOnlyEncrypted });
}

/** Three-way decision for a metadata property: OURS's value stands unless THEIRS changed it differently. */
function metadataConflict(what: string, base: string | undefined, ours: string, theirs: string): MergeConflict | undefined {
  if (ours === theirs || theirs === base) return undefined;
  return { path: `sops metadata: ${what}`, reason: base === undefined || ours === base ? 'changed in theirs' : 'changed differently on both sides' };
}

/** Merges three versions of a sops file. Throws {@link SopsError} when a version cannot be decrypted. */
export async function mergeEncrypted(inp: MergeInputs): Promise<MergeOutcome> {
  const format = inp.format ?? sniffFormat(inp.ours, inp.path);
  const baseIsSops = !isBlank(inp.base) && hasSopsMetadata(inp.base, format);
  const oursIsSops = hasSopsMetadata(inp.ours, format);
  const theirsIsSops = hasSopsMetadata(inp.theirs, format);
  if (!baseIsSops && !oursIsSops && !theirsIsSops) return { kind: 'not-sops' };
  if (!oursIsSops || !theirsIsSops) {
    const plain = !oursIsSops ? 'ours' : 'theirs';
    throw new SopsError(`cannot merge ${inp.path}: ${plain} is not a sops-encrypted file while the other side is`, ExitCode.Generic, {
      hint: 'resolve it by hand: keep the encrypted version and apply the other side\'s changes with `tsops edit`',
    });
  }
  const common = { keyContext: inp.keyContext, format, ...(inp.decryptionOrder ? { decryptionOrder: inp.decryptionOrder } : {}) };
  const ours = await loadAny(inp.ours, { ...common, name: `${inp.path} (ours)` });
  const theirs = await loadAny(inp.theirs, { ...common, name: `${inp.path} (theirs)` });
  const base: AnyFile = await loadAny(inp.base, { ...common, name: `${inp.path} (base)` });
  const o = ours.decrypted!;
  const t = theirs.decrypted!;
  const b = base.decrypted;
  const notes: string[] = [];

  const conflicts: MergeConflict[] = [];
  const recipients = metadataConflict('recipients and key groups', b && recipientsOf(b.metadata), recipientsOf(o.metadata), recipientsOf(t.metadata));
  if (recipients) conflicts.push(recipients);
  const rule = metadataConflict('encryption rule', b && ruleOf(b.metadata), ruleOf(o.metadata), ruleOf(t.metadata));
  if (rule) conflicts.push(rule);

  const merged = mergeDocuments(base.documents, ours.documents, theirs.documents);
  conflicts.push(...merged.conflicts);
  if (conflicts.length > 0) return { kind: 'conflict', conflicts, notes };

  const sameKey = Buffer.from(o.dataKey).equals(Buffer.from(t.dataKey));
  if (sameKey) {
    // THEIRS's ciphertexts are valid under OURS's key: reuse them for THEIRS's changes, then
    // OURS's again, so that OURS's text wins wherever both hold the same value.
    for (const side of [t, o]) {
      decryptDocuments(side.source.documents, { selector: makeSelector(side.metadata.rule), macOnlyEncrypted: side.metadata.macOnlyEncrypted, cipher: o.cipher });
    }
  } else if (!b || !Buffer.from(b.dataKey).equals(Buffer.from(t.dataKey))) {
    notes.push(`theirs has another data key (rotated?); the merged file keeps ours's data key: run \`tsops rotate -i ${inp.path}\` if the rotation mattered`);
  }

  const store = storeFor(format);
  const res = rewriteFile(o, o.source, merged.documents, { ctx: inp.keyContext, singleValueStore: isSingleValueStore(store), ...(inp.now ? { now: inp.now } : {}) });
  if (!res.changed) return { kind: 'merged', output: inp.ours, changed: false, notes };
  const output = store.emit({ documents: res.documents, metadata: res.metadataTree }, inp.indent !== undefined ? { indent: inp.indent } : {});
  return { kind: 'merged', output, changed: true, notes };
}
