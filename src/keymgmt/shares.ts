/**
 * Getting the data key back together with each key group's part (the whole key for one group,
 * a Shamir share for several), and computing the share of any group from enough known shares,
 * so that changing one group's keys does not force every other group to be re-wrapped.
 */
import { DataKeyError, SopsError, type KeyFailure } from '../errors.js';
import { combine, gfMul } from '../crypto/shamir.js';
import { hintFor, sortedForDecryption } from '../keys/datakey.js';
import { KeyUnavailableError, type KeyContext, type MasterKey } from '../keys/types.js';
import { map } from '../tree/types.js';

/** The data key and what each group's keys wrap (undefined: the group could not be decrypted). */
export interface RecoveredParts {
  dataKey: Uint8Array;
  parts: Array<Uint8Array | undefined>;
}

async function decryptGroup(group: readonly MasterKey[], gi: number | undefined, order: readonly string[], ctx: KeyContext, failures: KeyFailure[]): Promise<Uint8Array | undefined> {
  for (const k of sortedForDecryption(group, order)) {
    try {
      const part = await k.decrypt(ctx);
      if (part.length === 0) throw new KeyUnavailableError('the key returned an empty data key');
      return part;
    } catch (e) {
      const reason = e instanceof KeyUnavailableError || e instanceof SopsError ? e.message : `unexpected error: ${(e as Error)?.message ?? e}`;
      failures.push({ type: k.type, id: k.id, reason, ...(gi !== undefined ? { group: gi } : {}) });
    }
  }
  return undefined;
}

/**
 * Recovers the data key as sops does (every group is tried; several groups need `threshold`
 * shares) and keeps each group's part. Throws {@link DataKeyError} (exit 128) listing every key
 * that failed.
 */
export async function recoverParts(groups: readonly MasterKey[][], threshold: number | undefined, order: readonly string[], ctx: KeyContext, fileName: string): Promise<RecoveredParts> {
  const failures: KeyFailure[] = [];
  if (groups.length === 0 || groups.every((g) => g.length === 0)) {
    throw new DataKeyError(`${fileName} has no master keys: its data key cannot be recovered`, failures);
  }
  const multi = groups.length > 1;
  const parts: Array<Uint8Array | undefined> = [];
  for (let i = 0; i < groups.length; i++) parts.push(await decryptGroup(groups[i]!, multi ? i : undefined, order, ctx, failures));
  const found = parts.filter((p): p is Uint8Array => p !== undefined);
  let dataKey: Uint8Array;
  if (!multi) {
    if (found.length !== 1) throw new DataKeyError(`could not decrypt the data key of ${fileName} with any of its master keys`, failures, { hint: hintFor(failures) });
    dataKey = found[0]!;
  } else {
    const need = threshold && threshold > 0 ? threshold : groups.length;
    if (found.length < need) {
      throw new DataKeyError(`could not decrypt the data key of ${fileName}: ${need} key groups are required, only ${found.length} could be decrypted`, failures, { hint: hintFor(failures) });
    }
    try {
      dataKey = combine(found);
    } catch (e) {
      throw new DataKeyError(`could not combine the Shamir shares of ${fileName}: ${(e as Error).message}`, failures);
    }
  }
  if (dataKey.length !== 32) throw new DataKeyError(`the data key of ${fileName} is ${dataKey.length} bytes long, expected 32`, []);
  return { dataKey, parts };
}

function gfInv(a: number): number {
  let r = 1;
  let base = a;
  for (let e = 254; e > 0; e >>= 1) {
    if (e & 1) r = gfMul(r, base);
    base = gfMul(base, base);
  }
  return r;
}

/**
 * The share at x coordinate `x` (1-255) of the polynomial through `shares` (sops's layout: y
 * bytes, then x). Any `threshold` shares of a split define its polynomial, so this gives the
 * share a group at that x holds, or a new point for a new group.
 */
export function shareAt(shares: readonly Uint8Array[], x: number): Uint8Array {
  if (x < 1 || x > 255) throw new Error('x must be between 1 and 255');
  const len = shares[0]!.length;
  const xs = shares.map((s) => s[len - 1]!);
  const out = new Uint8Array(len);
  out[len - 1] = x;
  for (let pos = 0; pos < len - 1; pos++) {
    let acc = 0;
    for (let i = 0; i < shares.length; i++) {
      let basis = 1;
      for (let j = 0; j < shares.length; j++) {
        if (i === j) continue;
        // (x - x_j) / (x_i - x_j) in GF(2^8), where - is XOR
        basis = gfMul(basis, gfMul(x ^ xs[j]!, gfInv(xs[i]! ^ xs[j]!)));
      }
      acc ^= gfMul(shares[i]![pos]!, basis);
    }
    out[pos] = acc;
  }
  return out;
}

/**
 * Whether the recovered shares follow sops's layout (group i holds x = i+1) and lie on one
 * polynomial of degree below `threshold`, so that {@link shareAt} gives every group's share.
 */
export function sharesAreExtensible(parts: ReadonlyArray<Uint8Array | undefined>, threshold: number): boolean {
  const known = parts.map((p, i) => ({ p, i })).filter((x): x is { p: Uint8Array; i: number } => x.p !== undefined);
  if (known.length < threshold || known.length < 2) return false;
  const len = known[0]!.p.length;
  if (len !== 33 || known.some(({ p, i }) => p.length !== len || p[len - 1] !== i + 1)) return false;
  const basis = known.slice(0, threshold).map((k) => k.p);
  return known.slice(threshold).every(({ p, i }) => Buffer.from(shareAt(basis, i + 1)).equals(Buffer.from(p)));
}

/** A master key that already knows the data key: lets the engine decrypt values and check the MAC without unwrapping twice. */
export class RecoveredKey implements MasterKey {
  readonly type = 'recovered';
  readonly id = 'recovered data key';
  enc = '';
  constructor(private readonly dataKey: Uint8Array) {}
  async encrypt(): Promise<void> {
    throw new Error('a recovered key cannot wrap');
  }
  async decrypt(): Promise<Uint8Array> {
    return this.dataKey;
  }
  toMetadata() {
    return map();
  }
}
