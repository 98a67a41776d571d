/**
 * `sops groups add` / `sops groups delete`: add a key group of given recipients, or delete one
 * by index. The data key is kept; with several groups it is split anew as sops does (every key
 * wraps its group's new share). Values, MAC and `lastmodified` are untouched.
 */
import { ExitCode, SopsError } from '../errors.js';
import type { MasterKey } from '../keys/types.js';
import type { KeySpec } from '../settings.js';
import type { Metadata } from '../stores/metadata.js';
import { decryptForKeys, emitWithMetadata, loadForKeys, wrapGroups, type KeyMgmtOptions, type Slot } from './core.js';
import { keyIdentity, newKey } from './identity.js';
import type { KeyChangeResult } from './rotate.js';

export interface GroupOptions extends KeyMgmtOptions {
  /** `--shamir-secret-sharing-threshold`: the new threshold (default: the file's, else all groups). */
  shamirThreshold?: number;
  /** Change the keys even if the MAC does not verify. */
  ignoreMac?: boolean;
}

function oldSlots(md: Metadata, skip?: number): Slot[][] {
  return md.keyGroups.flatMap((g, i) => (i === skip ? [] : [g.map((key) => ({ key, from: i }))]));
}

function withGroups(md: Metadata, keyGroups: MasterKey[][], threshold: number | undefined): Metadata {
  const next: Metadata = { ...md, keyGroups };
  delete next.shamirThreshold;
  if (keyGroups.length > 1 && threshold !== undefined) next.shamirThreshold = threshold;
  return next;
}

/** Adds a key group with the given recipients; returns the new file (nothing is written). */
export async function addKeyGroup(input: string | Uint8Array, group: readonly KeySpec[], opts: GroupOptions = {}): Promise<KeyChangeResult> {
  const l = loadForKeys(input, opts);
  const md = l.file.metadata;
  const keys: MasterKey[] = [];
  const warnings: string[] = [];
  for (const spec of group) {
    const k = newKey(spec, l.ctx);
    const id = keyIdentity(k);
    if (keys.some((o) => o.type === k.type && keyIdentity(o) === id)) {
      warnings.push(`${k.type} ${id} given twice; added once`);
      continue;
    }
    keys.push(k);
  }
  if (keys.length === 0) {
    throw new SopsError('the new key group has no keys', ExitCode.Generic, { hint: 'give at least one --age, --pgp or --kms recipient' });
  }
  const { recovered } = await decryptForKeys(l, !!opts.ignoreMac);
  const target = [...oldSlots(md), keys.map((key) => ({ key }))];
  const threshold = opts.shamirThreshold || md.shamirThreshold || target.length;
  const keyGroups = await wrapGroups(target, threshold, md, recovered, 'resplit', l.ctx);
  return { output: emitWithMetadata(l, withGroups(md, keyGroups, threshold), l.file.documents, l.format, opts.indent), changed: true, warnings };
}

/** Deletes the key group at `index` (0-based, as in sops); returns the new file. */
export async function deleteKeyGroup(input: string | Uint8Array, index: number, opts: GroupOptions = {}): Promise<KeyChangeResult> {
  const l = loadForKeys(input, opts);
  const md = l.file.metadata;
  const n = md.keyGroups.length;
  if (!Number.isInteger(index) || index < 0 || index >= n) {
    throw new SopsError(`${l.name} has ${n} key group${n === 1 ? '' : 's'} (indices 0 to ${n - 1}); there is no group ${index}`, ExitCode.Generic, {
      hint: 'list the groups with `tsops keys FILE`; indices start at 0',
    });
  }
  if (n === 1) {
    throw new SopsError(`${l.name} has only one key group; deleting it would leave nobody able to decrypt the file`, ExitCode.Generic, {
      hint: 'add another group first (tsops groups add), or change the keys with tsops rotate --add-.../--rm-...',
    });
  }
  const threshold = opts.shamirThreshold || md.shamirThreshold || 0;
  if (n - 1 < threshold) {
    throw new SopsError(
      `removing this key group will make the Shamir threshold impossible to satisfy: Shamir threshold is ${threshold}, but we only have ${n - 1} key groups`,
      ExitCode.Generic,
      { hint: 'lower the threshold with --shamir-secret-sharing-threshold N' },
    );
  }
  const { recovered } = await decryptForKeys(l, !!opts.ignoreMac);
  const target = oldSlots(md, index);
  const t = target.length > 1 ? threshold || target.length : undefined;
  const keyGroups = await wrapGroups(target, t, md, recovered, 'resplit', l.ctx);
  return { output: emitWithMetadata(l, withGroups(md, keyGroups, t), l.file.documents, l.format, opts.indent), changed: true, warnings: [] };
}
