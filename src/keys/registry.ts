/**
 * The key kinds tsops knows, and a stand-in for entries of kinds it cannot use yet: those are
 * kept byte for byte through every command, and decryption skips them with a clear reason.
 */
import { SopsError } from '../errors.js';
import type { MapNode } from '../tree/types.js';
import { ageKind } from './age.js';
import { kmsKind } from './kms.js';
import { pgpKind } from './pgp.js';
import { KeyUnavailableError, type KeyContext, type KeyKind, type MasterKey, type RecipientOptions } from './types.js';

/** Every key kind tsops can use, by metadata list name. Add a kind here. */
const KINDS: ReadonlyMap<string, KeyKind> = new Map<string, KeyKind>([
  [ageKind.type, ageKind],
  [pgpKind.type, pgpKind],
  [kmsKind.type, kmsKind],
]);

/**
 * Every metadata list name sops knows, in the order sops groups keys after loading a file
 * (sops-format.md §6.2).
 */
export const KEY_TYPES = ['kms', 'gcp_kms', 'hckms', 'azure_kv', 'hc_vault', 'pgp', 'age'] as const;

/** The identifiers `--decryption-order` accepts. */
export const DECRYPTION_ORDER_IDS: readonly string[] = ['age', 'pgp', 'kms', 'gcp_kms', 'azure_kv', 'hc_vault', 'hckms'];

/** sops's default decryption order (v3.9+). */
export const DEFAULT_DECRYPTION_ORDER: readonly string[] = ['age', 'pgp'];

export function keyKind(type: string): KeyKind | undefined {
  return KINDS.get(type);
}

/** A metadata entry parsed by its kind, or kept verbatim when tsops cannot use that kind. */
export function keyFromMetadata(type: string, entry: MapNode): MasterKey {
  const kind = KINDS.get(type);
  return kind ? kind.fromMetadata(entry) : new UnsupportedKey(type, entry);
}

/** A new master key for a recipient of a given kind (from flags, env or `.sops.yaml`). */
export function keyFromRecipient(type: string, recipient: string, ctx: KeyContext, options?: RecipientOptions): MasterKey {
  const kind = KINDS.get(type);
  if (!kind) {
    throw new SopsError(`tsops cannot encrypt to ${type} keys yet (recipient ${recipient})`, 1, {
      hint: `use age or pgp recipients, or real sops for ${type}`,
    });
  }
  return kind.fromRecipient(recipient, ctx, options);
}

const ID_FIELDS: Record<string, string[]> = {
  kms: ['arn'],
  gcp_kms: ['resource_id'],
  azure_kv: ['vault_url', 'name', 'version'],
  hc_vault: ['vault_address', 'engine_path', 'key_name'],
  hckms: ['key_id'],
};

/** An entry of a kind tsops cannot use: kept exactly as it was, never used to decrypt. */
export class UnsupportedKey implements MasterKey {
  readonly id: string;
  enc: string;
  constructor(
    readonly type: string,
    private readonly entry: MapNode,
  ) {
    const fields = new Map<string, string>();
    for (const it of entry.items) if (it.kind === 'entry' && it.value.kind === 'str') fields.set(it.key, it.value.value);
    this.enc = fields.get('enc') ?? '';
    this.id = (ID_FIELDS[type] ?? []).map((f) => fields.get(f) ?? '').filter(Boolean).join('/') || type;
  }
  async encrypt(): Promise<void> {
    throw new SopsError(`tsops cannot wrap a data key with ${this.type} keys yet (${this.id})`, 1, {
      hint: `remove the ${this.type} key from the file's key groups, or use real sops for this command`,
    });
  }
  async decrypt(): Promise<Uint8Array> {
    throw new KeyUnavailableError(`tsops cannot use ${this.type} keys yet`);
  }
  toMetadata(): MapNode {
    return this.entry;
  }
}
