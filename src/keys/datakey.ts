/**
 * Wrapping the data key for every master key, and getting it back (sops-format.md §6):
 * one group wraps the whole key, several groups wrap Shamir shares; decryption tries each
 * group's keys in the decryption order and reports every failure.
 */
import { DataKeyError, EMPTY_KEY_GROUP, ExitCode, KeyGroupsError, NO_KEY_GROUPS, SopsError, type KeyFailure } from '../errors.js';
import { combine, split } from '../crypto/shamir.js';
import { DECRYPTION_ORDER_IDS, DEFAULT_DECRYPTION_ORDER } from './registry.js';
import { KeyUnavailableError, type KeyContext, type MasterKey } from './types.js';

/** Checks and normalizes a `--decryption-order` list (duplicates: exit 112). */
export function parseDecryptionOrder(text: string | undefined): readonly string[] {
  if (text === undefined || text.trim() === '') return DEFAULT_DECRYPTION_ORDER;
  const ids = text.split(',').map((s) => s.trim()).filter(Boolean);
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw new SopsError(`duplicate key type "${id}" in the decryption order`, ExitCode.DuplicateDecryptionKeyType);
    if (!DECRYPTION_ORDER_IDS.includes(id)) {
      throw new SopsError(`unknown key type "${id}" in the decryption order`, ExitCode.Generic, {
        hint: `use a comma-separated list of ${DECRYPTION_ORDER_IDS.join(', ')}`,
      });
    }
    seen.add(id);
  }
  return ids;
}

/** sops's identifier of a key type as used in the decryption order. */
function orderId(type: string): string {
  return type;
}

/** Indices of a group's keys in the order to try them (stable; unlisted kinds last). */
export function sortedForDecryption(group: readonly MasterKey[], order: readonly string[]): MasterKey[] {
  const prio = (k: MasterKey) => {
    const i = order.indexOf(orderId(k.type));
    return i < 0 ? order.length : i;
  };
  return group.map((k, i) => ({ k, i })).sort((a, b) => prio(a.k) - prio(b.k) || a.i - b.i).map((x) => x.k);
}

/**
 * Wraps `dataKey` for every key of every group. With one group every key wraps the whole key;
 * with several, group i wraps Shamir share i and `threshold` groups (default: all) recover it.
 */
export async function wrapDataKey(dataKey: Uint8Array, groups: readonly MasterKey[][], threshold: number | undefined, ctx: KeyContext): Promise<void> {
  // sops's checks and message (`Could not generate data key: [...]`)
  if (groups.length === 0) throw new KeyGroupsError([NO_KEY_GROUPS]);
  if (groups.some((g) => g.length === 0)) throw new KeyGroupsError([EMPTY_KEY_GROUP]);
  let parts: Uint8Array[];
  if (groups.length === 1) parts = [dataKey];
  else {
    const t = threshold && threshold > 0 ? threshold : groups.length;
    if (t > groups.length) {
      throw new SopsError(`the Shamir threshold ${t} is larger than the number of key groups (${groups.length})`, ExitCode.Generic);
    }
    parts = split(dataKey, groups.length, Math.max(t, 2));
  }
  const results = await Promise.allSettled(groups.flatMap((g, i) => g.map((k) => k.encrypt(parts[i]!, ctx))));
  const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) {
    // as sops: every key that failed is reported, not only the first
    const first = errors.find((e): e is SopsError => e instanceof SopsError);
    const messages = errors.map((e) => (e instanceof Error ? e.message : String(e)));
    throw Object.assign(
      new SopsError(`could not encrypt the data key with ${errors.length} of its master keys`, first?.exitCode ?? ExitCode.Generic, first?.hint ? { hint: first.hint } : {}),
      { problems: messages },
    );
  }
}

async function decryptGroup(group: readonly MasterKey[], gi: number | undefined, order: readonly string[], ctx: KeyContext, failures: KeyFailure[]): Promise<Uint8Array | undefined> {
  // one group holds the whole data key (32 bytes); several hold Shamir shares (33 bytes)
  const expected = gi === undefined ? 32 : 33;
  for (const k of sortedForDecryption(group, order)) {
    try {
      const part = await k.decrypt(ctx);
      if (!(part instanceof Uint8Array)) throw new KeyUnavailableError('the key returned no data key');
      if (part.length === 0) throw new KeyUnavailableError('the key returned an empty data key');
      if (part.length !== expected) {
        // a wrong length means a wrong or damaged answer: the next key may still give the right one
        throw new KeyUnavailableError(`the key returned ${part.length} bytes where a ${expected}-byte ${gi === undefined ? 'data key' : 'key share'} was expected (damaged enc field or a wrong answer from the key service)`);
      }
      return part;
    } catch (e) {
      const reason = e instanceof KeyUnavailableError || e instanceof SopsError ? e.message : `unexpected error: ${(e as Error)?.message ?? e}`;
      failures.push({ type: k.type, id: k.id, reason, ...(gi !== undefined ? { group: gi } : {}) });
    }
  }
  return undefined;
}

/** Recovers the data key. Throws {@link DataKeyError} (exit 128) listing every key tried. */
export async function unwrapDataKey(groups: readonly MasterKey[][], threshold: number | undefined, order: readonly string[], ctx: KeyContext, fileName = 'the file'): Promise<Uint8Array> {
  const failures: KeyFailure[] = [];
  if (groups.length === 0 || groups.every((g) => g.length === 0)) {
    throw new DataKeyError(`${fileName} has no master keys: its data key cannot be recovered`, failures);
  }
  const multi = groups.length > 1;
  const parts: Uint8Array[] = [];
  for (let i = 0; i < groups.length; i++) {
    const p = await decryptGroup(groups[i]!, multi ? i : undefined, order, ctx, failures);
    if (p) parts.push(p);
  }
  const hint = hintFor(failures);
  if (!multi) {
    if (parts.length !== 1) throw new DataKeyError(`could not decrypt the data key of ${fileName} with any of its master keys`, failures, { hint });
    checkLength(parts[0]!, fileName);
    return parts[0]!;
  }
  const need = threshold && threshold > 0 ? threshold : groups.length;
  if (parts.length < need) {
    throw new DataKeyError(`could not decrypt the data key of ${fileName}: ${need} key groups are required, only ${parts.length} could be decrypted`, failures, { hint });
  }
  let key: Uint8Array;
  try {
    key = combine(parts);
  } catch (e) {
    throw new DataKeyError(`could not combine the Shamir shares of ${fileName}: ${(e as Error).message}`, failures);
  }
  checkLength(key, fileName);
  return key;
}

function checkLength(key: Uint8Array, fileName: string): void {
  if (key.length !== 32) {
    throw new DataKeyError(`the data key of ${fileName} is ${key.length} bytes long, expected 32`, []);
  }
}

const KIND_ADVICE: Record<string, string> = {
  age: 'make the age identity available (SOPS_AGE_KEY_FILE, SOPS_AGE_KEY or SOPS_AGE_KEY_CMD)',
  pgp: 'import the PGP secret key into GnuPG (gpg --import) and check that gpg and gpg-agent work',
  kms: 'check the AWS credentials and that AWS KMS is reachable (AWS_ENDPOINT_URL_KMS)',
};

/** What to do, for the kinds of key that failed (one clause per kind, in the order tried). */
export function hintFor(failures: readonly KeyFailure[]): string {
  const kinds = [...new Set(failures.map((f) => f.type))];
  const advice = kinds.map((k) => KIND_ADVICE[k]).filter((a): a is string => a !== undefined);
  if (advice.length === 0) return 'make the secret part of one of these master keys available';
  return `fix one of the keys above: ${advice.join('; or ')}`;
}

/** The report lines for a {@link DataKeyError}: one per key tried. */
export function describeFailures(failures: readonly KeyFailure[]): string[] {
  return failures.map((f) => `${f.group !== undefined ? `group ${f.group}: ` : ''}${f.type} ${f.id}: ${f.reason}`);
}
