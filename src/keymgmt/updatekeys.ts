/**
 * `sops updatekeys`: bring a file's key groups in line with its creation rule. The data key
 * is kept (unless `rotate`), values, MAC and `lastmodified` are untouched, keys that stay keep
 * their `enc` and `created_at`, and only new keys are wrapped. First a plan (what changes, no
 * key needed), then {@link applyUpdateKeys}.
 */
import { encryptFile } from '../engine.js';
import { EMPTY_KEY_GROUP, ExitCode, NO_KEY_GROUPS, SopsError } from '../errors.js';
import { keyKind } from '../keys/registry.js';
import type { ConfigSettings } from '../settings.js';
import { writeMetadata, type Metadata } from '../stores/metadata.js';
import {
  checkThreshold,
  decryptForKeys,
  effectiveThreshold,
  emitWithMetadata,
  loadForKeys,
  recoverKey,
  wrapGroups,
  type KeyMgmtOptions,
  type LoadedFile,
  type Slot,
} from './core.js';
import { isUsableKey, keyIdentity, newKey, specIdentity } from './identity.js';

export interface UpdateKeysOptions extends KeyMgmtOptions {
  /** The matching creation rule (its key groups and threshold). */
  rule: Pick<ConfigSettings, 'keyGroups' | 'shamirThreshold'>;
  /** `--shamir-secret-sharing-threshold`: overrides the rule's and the file's threshold. */
  shamirThreshold?: number;
  /** Also replace the data key and re-encrypt every value (a removed recipient kept the old key). */
  rotate?: boolean;
}

/** What changes in one key group; keys as sops prints them (`type identity`). */
export interface GroupDiff {
  /** Keys the group keeps. */
  common: string[];
  added: string[];
  removed: string[];
  /** Keys of kinds tsops cannot use that the rule does not list: kept as they are. */
  kept: string[];
}

/** The plan of an update: what would change, computed without any key. */
export interface UpdateKeysPlan {
  fileName: string;
  /** Whether anything changes (keys, threshold, or a rotation). */
  changed: boolean;
  groups: GroupDiff[];
  /** Effective thresholds before and after (0 with a single group). */
  threshold: { before: number; after: number };
  rotate: boolean;
  /** Each group's keys before and after, in order (for a readable diff). */
  before: string[][];
  after: string[][];
  warnings: string[];
  /** @internal the loaded file and the new groups. */
  readonly state: { loaded: LoadedFile; target: Slot[][]; threshold: number | undefined };
}

const label = (type: string, id: string) => `${type} ${id}`;

/** Computes what `updatekeys` would change (no key is unwrapped). */
export function planUpdateKeys(input: string | Uint8Array, opts: UpdateKeysOptions): UpdateKeysPlan {
  const l = loadForKeys(input, opts);
  const md = l.file.metadata;
  const ruleGroups = opts.rule.keyGroups;
  if (ruleGroups.length === 0 || ruleGroups.some((g) => g.length === 0)) {
    throw new SopsError(`the creation rule for ${l.name} has ${ruleGroups.length === 0 ? 'no key groups' : 'an empty key group'}: error updating one or more master keys: [${ruleGroups.length === 0 ? NO_KEY_GROUPS : EMPTY_KEY_GROUP}]`, ExitCode.Generic, {
      hint: 'list at least one key in every group of the matching creation rule in .sops.yaml',
    });
  }
  const warnings: string[] = [];
  const target: Slot[][] = [];
  const groups: GroupDiff[] = [];
  const count = Math.max(md.keyGroups.length, ruleGroups.length);
  for (let i = 0; i < count; i++) {
    const oldGroup = md.keyGroups[i] ?? [];
    const unused = oldGroup.map((k) => ({ k, id: keyIdentity(k), used: false }));
    const slots: Slot[] = [];
    const diff: GroupDiff = { common: [], added: [], removed: [], kept: [] };
    const seen = new Set<string>();
    for (const spec of ruleGroups[i] ?? []) {
      const id = specIdentity(spec, l.ctx);
      if (seen.has(`${spec.type} ${id}`)) continue;
      seen.add(`${spec.type} ${id}`);
      const match = unused.find((u) => !u.used && u.k.type === spec.type && u.id === id);
      if (match) {
        match.used = true;
        slots.push({ key: match.k, from: i });
        diff.common.push(label(spec.type, id));
      } else if (keyKind(spec.type)) {
        slots.push({ key: newKey(spec, l.ctx) });
        diff.added.push(label(spec.type, id));
      } else {
        throw new SopsError(`the creation rule for ${l.name} adds the ${spec.type} key ${id}, and tsops cannot wrap data keys with ${spec.type} keys`, ExitCode.Generic, {
          hint: 'run updatekeys for this file with sops, or remove that key from the rule',
        });
      }
    }
    for (const u of unused.filter((x) => !x.used)) {
      if (isUsableKey(u.k)) {
        diff.removed.push(label(u.k.type, u.id));
        continue;
      }
      if (i >= ruleGroups.length) {
        throw new SopsError(`the creation rule for ${l.name} has no key group ${i + 1}, which holds the ${u.k.type} key ${u.id}; tsops keeps keys it cannot use and will not drop that group`, ExitCode.Generic, {
          hint: 'run updatekeys for this file with sops, or add the group back to the rule',
        });
      }
      slots.push({ key: u.k, from: i });
      diff.kept.push(label(u.k.type, u.id));
      warnings.push(`${l.name}: the ${u.k.type} key ${u.id} is not in the creation rule, but tsops cannot use ${u.k.type} keys and keeps it`);
    }
    if (i < ruleGroups.length) target.push(slots);
    groups.push(diff);
  }

  const m = target.length;
  const wanted = opts.shamirThreshold || opts.rule.shamirThreshold || md.shamirThreshold || 0;
  const threshold = checkThreshold(m, m > 1 ? Math.min(wanted || m, m) : undefined);
  const before = effectiveThreshold(md.keyGroups.length, md.shamirThreshold);
  const after = effectiveThreshold(m, threshold);
  const keysChange = groups.some((g) => g.added.length > 0 || g.removed.length > 0);
  const rotate = !!opts.rotate;
  return {
    fileName: l.name,
    changed: keysChange || before !== after || rotate,
    groups,
    threshold: { before, after },
    rotate,
    before: md.keyGroups.map((g) => g.map((k) => label(k.type, keyIdentity(k)))),
    after: target.map((g) => g.map((s) => label(s.key.type, keyIdentity(s.key)))),
    warnings,
    state: { loaded: l, target, threshold },
  };
}

/** Carries out a plan: returns the new file (the input bytes' equivalent is not re-read). */
export async function applyUpdateKeys(plan: UpdateKeysPlan, opts: Pick<UpdateKeysOptions, 'now' | 'indent'> = {}): Promise<Uint8Array> {
  const { loaded: l, target, threshold } = plan.state;
  const md = l.file.metadata;
  if (plan.rotate) {
    const foreign = target.flat().filter((s) => !isUsableKey(s.key));
    if (foreign.length > 0) {
      throw new SopsError(`cannot rotate the data key of ${l.name}: tsops cannot wrap a new data key for ${foreign.map((s) => `${s.key.type} ${keyIdentity(s.key)}`).join(', ')}`, ExitCode.Generic, {
        hint: 'update the keys without --rotate, or rotate with sops; the file was not changed',
      });
    }
    const { documents } = await decryptForKeys(l);
    const singleValueStore = l.store.name === 'binary';
    const res = await encryptFile(
      documents,
      { keyGroups: target.map((g) => g.map((s) => s.key)), ...(threshold !== undefined ? { shamirThreshold: threshold } : {}), ...(md.rule ? { rule: md.rule } : {}), macOnlyEncrypted: md.macOnlyEncrypted },
      { ctx: l.ctx, singleValueStore, ...(opts.now ? { now: opts.now } : {}) },
    );
    const metadata = { ...res.metadata, version: md.version };
    return l.store.emit({ documents: res.documents, metadata: writeMetadata(metadata, { singleValueStore }) }, opts.indent !== undefined ? { indent: opts.indent } : {});
  }
  const recovered = await recoverKey(l);
  const keyGroups = await wrapGroups(target, threshold, md, recovered, 'keep', l.ctx);
  const next: Metadata = { ...md, keyGroups };
  delete next.shamirThreshold;
  if (threshold !== undefined) next.shamirThreshold = threshold;
  return emitWithMetadata(l, next, l.file.documents, l.format, opts.indent);
}

/** Plans and, when something changes, applies: the library form of `tsops updatekeys --yes`. */
export async function updateKeys(input: string | Uint8Array, opts: UpdateKeysOptions): Promise<{ plan: UpdateKeysPlan; output: Uint8Array; changed: boolean }> {
  const plan = planUpdateKeys(input, opts);
  if (!plan.changed) return { plan, output: typeof input === 'string' ? new TextEncoder().encode(input) : input, changed: false };
  return { plan, output: await applyUpdateKeys(plan, opts), changed: true };
}
