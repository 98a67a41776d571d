/**
 * `sops rotate`: a new data key, every value re-encrypted under it, the key wrapped again for
 * every master key; recipients can be added (to the first key group, as sops does) and removed
 * (from every group). Keys of kinds tsops cannot wrap make it refuse instead of dropping them.
 */
import { encryptFile } from '../engine.js';
import { ExitCode, SopsError } from '../errors.js';
import type { MasterKey } from '../keys/types.js';
import type { KeySpec } from '../settings.js';
import { writeMetadata } from '../stores/metadata.js';
import { storeFor, type FormatName } from '../stores/index.js';
import { checkGroupsNotEmpty, decryptForKeys, loadForKeys, type KeyMgmtOptions } from './core.js';
import { isUsableKey, keyIdentity, newKey, specIdentity } from './identity.js';

/** The rotate flag that removes a key of a kind tsops cannot use. */
const RM_FLAG: Record<string, string> = { gcp_kms: '--rm-gcp-kms', azure_kv: '--rm-azure-kv', hc_vault: '--rm-hc-vault-transit', hckms: '--rm-hckms' };

export interface RotateOptions extends KeyMgmtOptions {
  /** Output format (default: the input's). */
  outputType?: FormatName;
  /** Recipients to add to the first key group. */
  add?: readonly KeySpec[];
  /** Recipients to remove from every key group (compared as sops compares keys). */
  remove?: readonly KeySpec[];
  /** Rotate even if the MAC does not verify. */
  ignoreMac?: boolean;
}

export interface KeyChangeResult {
  /** The new encrypted file. */
  output: Uint8Array;
  /** Whether the output differs from the input. */
  changed: boolean;
  /** Things the user should know (a recipient to remove that was not there, ...). */
  warnings: string[];
}

/** Rotates the data key of an encrypted file; returns the new file (nothing is written). */
export async function rotate(input: string | Uint8Array, opts: RotateOptions = {}): Promise<KeyChangeResult> {
  const l = loadForKeys(input, opts);
  const md = l.file.metadata;
  const warnings: string[] = [];
  // Build and check the new recipients before any key is unwrapped.
  const added = (opts.add ?? []).map((s) => newKey(s, l.ctx));
  const removeIds = (opts.remove ?? []).map((s) => ({ spec: s, id: specIdentity(s, l.ctx) }));

  const { documents } = await decryptForKeys(l, !!opts.ignoreMac);

  const groups: MasterKey[][] = md.keyGroups.map((g) => [...g]);
  if (groups.length === 0) groups.push([]);
  for (const k of added) {
    const id = keyIdentity(k);
    if (groups[0]!.some((o) => o.type === k.type && keyIdentity(o) === id)) {
      warnings.push(`${k.type} ${id} is already a key of the first key group; not added twice`);
      continue;
    }
    groups[0]!.push(k);
  }
  for (const { spec, id } of removeIds) {
    let found = false;
    groups.forEach((g, i) => {
      groups[i] = g.filter((k) => {
        const match = k.type === spec.type && keyIdentity(k) === id;
        found ||= match;
        return !match;
      });
    });
    if (!found) warnings.push(`${spec.type} ${id} is not a key of ${l.name}; nothing to remove`);
  }

  const foreign = groups.flat().filter((k) => !isUsableKey(k));
  if (foreign.length > 0) {
    const list = foreign.map((k) => `${k.type} ${keyIdentity(k)}`).join(', ');
    throw new SopsError(`cannot rotate ${l.name}: tsops cannot wrap a new data key for ${list}, and rotating would drop ${foreign.length > 1 ? 'those keys' : 'that key'}`, ExitCode.Generic, {
      hint: `remove ${foreign.length > 1 ? 'them' : 'it'} with ${[...new Set(foreign.map((k) => RM_FLAG[k.type] ?? `--rm-${k.type}`))].join(', ')} if no longer wanted, or rotate with sops; the file was not changed`,
    });
  }
  checkGroupsNotEmpty(groups);

  const outFormat = opts.outputType ?? l.format;
  const outStore = storeFor(outFormat);
  const singleValueStore = outStore.name === 'binary' || l.store.name === 'binary';
  const res = await encryptFile(
    documents,
    {
      keyGroups: groups,
      ...(md.shamirThreshold !== undefined ? { shamirThreshold: md.shamirThreshold } : {}),
      ...(md.rule ? { rule: md.rule } : {}),
      macOnlyEncrypted: md.macOnlyEncrypted,
    },
    { ctx: l.ctx, singleValueStore, ...(opts.now ? { now: opts.now } : {}) },
  );
  // sops keeps the file's version on rotate
  const metadata = { ...res.metadata, version: md.version };
  const output = outStore.emit({ documents: res.documents, metadata: writeMetadata(metadata, { singleValueStore }) }, opts.indent !== undefined ? { indent: opts.indent } : {});
  return { output, changed: true, warnings };
}
