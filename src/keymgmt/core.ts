/**
 * What the key-management operations share: loading an encrypted file, recovering its data key
 * (and each group's part), decrypting with the MAC check, wrapping a data key for new key
 * groups while keeping every `enc` that stays valid, and emitting the result. Pure apart from
 * the key context; nothing here writes files.
 */
import { decryptFile, loadEncrypted, type EncryptedFile } from '../engine.js';
import { EMPTY_KEY_GROUP, ExitCode, KeyGroupsError, NO_KEY_GROUPS, ParseError, SopsError } from '../errors.js';
import { split } from '../crypto/shamir.js';
import { parseDecryptionOrder } from '../keys/datakey.js';
import type { KeyContext, MasterKey } from '../keys/types.js';
import { makeKeyContext } from '../io/context.js';
import { writeMetadata, type Metadata } from '../stores/metadata.js';
import { resolveFormat, storeFor, type FormatName } from '../stores/index.js';
import type { Store } from '../stores/types.js';
import type { MapNode } from '../tree/types.js';
import { isUsableKey, keyIdentity } from './identity.js';
import { recoverParts, RecoveredKey, shareAt, sharesAreExtensible, type RecoveredParts } from './shares.js';

/** Options every key-management operation takes. */
export interface KeyMgmtOptions {
  /** Input format; default from `filename`, else YAML. */
  inputType?: FormatName;
  /** Name used for format detection and in messages. */
  filename?: string;
  /** Output indentation (YAML/JSON). */
  indent?: number;
  /** Where identities, gpg, AWS settings and the clock come from. Default: the process. */
  keyContext?: KeyContext;
  /** Key kinds to try first (default `age,pgp`). */
  decryptionOrder?: string | readonly string[];
  /** Clock for `lastmodified` and `created_at` (tests). */
  now?: Date;
}

/** An encrypted file loaded for key management. */
export interface LoadedFile {
  file: EncryptedFile;
  format: FormatName;
  store: Store;
  name: string;
  ctx: KeyContext;
  order: readonly string[];
}

const toBytes = (i: string | Uint8Array): Uint8Array => (typeof i === 'string' ? new TextEncoder().encode(i) : i);

/** Parses an encrypted file (exit 1 when it has no metadata or is malformed). */
export function loadForKeys(input: string | Uint8Array, opts: KeyMgmtOptions): LoadedFile {
  const format = opts.inputType ?? (opts.filename ? resolveFormat(undefined, opts.filename) : 'yaml');
  const store = storeFor(format);
  const name = opts.filename ?? 'the input';
  let file: EncryptedFile;
  try {
    file = loadEncrypted(toBytes(input), store, name);
  } catch (e) {
    if (e instanceof ParseError) throw new SopsError(`${name}: ${e.message}`, ExitCode.Generic, e.hint ? { hint: e.hint } : {});
    throw e;
  }
  const ctx = opts.keyContext ?? makeKeyContext(opts.now ? { now: () => opts.now! } : {});
  const o = opts.decryptionOrder;
  const order = parseDecryptionOrder(typeof o === 'string' || o === undefined ? o : o.join(','));
  return { file, format, store, name, ctx, order };
}

/** Recovers the data key and each group's part, without touching the values (updatekeys). */
export function recoverKey(l: LoadedFile): Promise<RecoveredParts> {
  const md = l.file.metadata;
  return recoverParts(md.keyGroups, md.shamirThreshold, l.order, l.ctx, l.name);
}

/** Recovers the data key, decrypts every value and checks the MAC (rotate, groups). */
export async function decryptForKeys(l: LoadedFile, ignoreMac = false): Promise<{ recovered: RecoveredParts; documents: MapNode[] }> {
  const recovered = await recoverKey(l);
  const md = l.file.metadata;
  const dec = await decryptFile(
    { documents: l.file.documents, metadata: { ...md, keyGroups: [[new RecoveredKey(recovered.dataKey)]] } },
    { ctx: l.ctx, decryptionOrder: l.order, ignoreMac, fileName: l.name },
  );
  return { recovered, documents: dec.documents };
}

/** The encrypted file with new metadata, in its own format (values untouched). */
export function emitWithMetadata(l: LoadedFile, md: Metadata, documents: readonly MapNode[] = l.file.documents, outFormat: FormatName = l.format, indent?: number): Uint8Array {
  const out = storeFor(outFormat);
  const tree = writeMetadata(md, { singleValueStore: out.name === 'binary' || l.store.name === 'binary' });
  return out.emit({ documents: [...documents], metadata: tree }, indent !== undefined ? { indent } : {});
}

/** A key in a new key group; `from` is the old group whose part its `enc` wraps, when reused. */
export interface Slot {
  key: MasterKey;
  from?: number;
}

/** The effective threshold of key groups: all groups unless a threshold is set (0 for one group). */
export function effectiveThreshold(groups: number, threshold: number | undefined): number {
  if (groups <= 1) return 0;
  return threshold && threshold > 0 ? threshold : groups;
}

/** sops's checks before wrapping: at least one group, none empty (`Could not generate data key: [...]`). */
export function checkGroupsNotEmpty(groups: readonly unknown[][]): void {
  if (groups.length === 0) throw new KeyGroupsError([NO_KEY_GROUPS]);
  if (groups.some((g) => g.length === 0)) throw new KeyGroupsError([EMPTY_KEY_GROUP]);
}

/** Checks a Shamir threshold for `groups` groups; returns the threshold to write (undefined for one group). */
export function checkThreshold(groups: number, threshold: number | undefined): number | undefined {
  if (groups <= 1) return undefined;
  const t = effectiveThreshold(groups, threshold);
  if (t > groups) {
    throw new SopsError(`the Shamir threshold ${t} is larger than the number of key groups (${groups})`, ExitCode.Generic, {
      hint: 'choose a threshold between 2 and the number of key groups (--shamir-secret-sharing-threshold)',
    });
  }
  if (t < 2) {
    throw new SopsError(`a Shamir threshold of ${t} is not possible with ${groups} key groups: sops needs at least 2`, ExitCode.Generic, {
      hint: 'use a threshold of 2 or more, or put all keys in one group',
    });
  }
  return t;
}

export type SharePolicy = 'keep' | 'resplit';

/**
 * Wraps `recovered.dataKey` for new key groups. One group: every key wraps the whole key. Several:
 * with `keep`, each group keeps the share it had (group i holds x = i+1; a new group gets a new
 * point of the same polynomial), so only keys new to a group are wrapped; with `resplit` (or when
 * keeping is impossible: fewer groups, another threshold, unknown layout) the key is split anew
 * and every key is wrapped. `resplit` falls back to `keep` when a key of a kind tsops cannot wrap
 * would otherwise lose its share. Nothing is wrapped until every key that needs it can be.
 */
export async function wrapGroups(target: Slot[][], threshold: number | undefined, old: Metadata, recovered: RecoveredParts, policy: SharePolicy, ctx: KeyContext): Promise<MasterKey[][]> {
  checkGroupsNotEmpty(target);
  const m = target.length;
  const n = old.keyGroups.length;
  const t = checkThreshold(m, threshold);
  let parts: Uint8Array[];
  let reusable: (s: Slot, i: number) => boolean;
  if (m === 1) {
    parts = [recovered.dataKey];
    reusable = (s) => n === 1 && s.from === 0;
  } else {
    const canKeep = n > 1 && m >= n && effectiveThreshold(n, old.shamirThreshold) === t && sharesAreExtensible(recovered.parts, t!);
    const stuck = target.some((g) => g.some((s) => !isUsableKey(s.key)));
    if (canKeep && (policy === 'keep' || stuck)) {
      const basis = recovered.parts.filter((p): p is Uint8Array => p !== undefined).slice(0, t);
      parts = target.map((_, i) => shareAt(basis, i + 1));
      reusable = (s, i) => s.from === i;
    } else {
      parts = split(recovered.dataKey, m, t!);
      reusable = () => false;
    }
  }
  const jobs: Array<{ key: MasterKey; part: Uint8Array; group: number }> = [];
  target.forEach((g, i) => g.forEach((s) => !reusable(s, i) && jobs.push({ key: s.key, part: parts[i]!, group: i })));
  const stuck = jobs.filter((j) => !isUsableKey(j.key));
  if (stuck.length > 0) {
    const list = stuck.map((j) => `${j.key.type} ${keyIdentity(j.key)} (group ${j.group + 1})`).join(', ');
    throw new SopsError(`tsops cannot wrap the data key for ${list}: this change needs every key of ${stuck.length > 1 ? 'those groups' : 'that group'} to wrap a new part of the data key`, ExitCode.Generic, {
      hint: 'remove those keys first (they are kept as they are otherwise), or make this change with sops; the file was not changed',
    });
  }
  await settleAll(jobs.map((j) => j.key.encrypt(j.part, ctx)));
  return target.map((g) => g.map((s) => s.key));
}

/** Waits for every promise (so no gpg or KMS call is left running), then throws the first failure. */
export async function settleAll(promises: Array<Promise<unknown>>): Promise<void> {
  const res = await Promise.allSettled(promises);
  const failed = res.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
