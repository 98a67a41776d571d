/**
 * How key management recognises "the same master key": sops compares keys by their
 * `ToString()` text (fingerprint, recipient, `ARN[+ROLE][|context][|profile]`, ...). The
 * functions here give that text for a metadata entry and for a recipient from flags or
 * `.sops.yaml`, and build new master keys for recipients.
 */
import { ExitCode, SopsError } from '../errors.js';
import { keyFromRecipient, keyKind, UnsupportedKey } from '../keys/registry.js';
import type { KeyContext, MasterKey } from '../keys/types.js';
import type { KeySpec } from '../settings.js';
import { getEntry, type MapNode, type Node } from '../tree/types.js';

/** Key kinds that exist in sops but that tsops can neither unwrap nor wrap. */
export const FOREIGN_KINDS: readonly string[] = ['gcp_kms', 'azure_kv', 'hc_vault', 'hckms'];

function text(m: MapNode, field: string): string {
  const e = getEntry(m, field);
  if (!e) return '';
  const v: Node = e.value;
  return v.kind === 'str' || v.kind === 'time' ? v.value : v.kind === 'int' ? v.value.toString() : '';
}

/** sops's text form of a KMS encryption context: `k1:v1,k2:v2`, keys sorted. */
export function kmsContextText(context: ReadonlyMap<string, string | null> | Record<string, string> | undefined): string {
  if (!context) return '';
  const pairs = context instanceof Map ? [...context] : Object.entries(context);
  return pairs
    .filter(([, v]) => v !== null)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}:${v}`)
    .join(',');
}

function kmsText(arn: string, role: string, context: string, profile: string): string {
  const arnRole = role ? `${arn}+${role}` : arn;
  if (profile) return `${arnRole}|${context}|${profile}`;
  if (context) return `${arnRole}|${context}`;
  return arnRole;
}

function contextOf(m: MapNode): Map<string, string> {
  const out = new Map<string, string>();
  const c = getEntry(m, 'context')?.value;
  if (c?.kind === 'map') for (const it of c.items) if (it.kind === 'entry' && it.value.kind === 'str') out.set(it.key, it.value.value);
  return out;
}

/**
 * The identity sops uses to compare keys (`MasterKey.ToString()`): age recipient, PGP
 * fingerprint, `ARN[+ROLE][|context][|profile]` for AWS KMS, the resource ID, key URL or key ID
 * for the other kinds.
 */
export function keyIdentity(key: MasterKey): string {
  const m = key.toMetadata();
  switch (key.type) {
    case 'age':
      return text(m, 'recipient') || key.id;
    case 'pgp':
      return text(m, 'fp') || key.id;
    case 'kms':
      return kmsText(text(m, 'arn'), text(m, 'role'), kmsContextText(contextOf(m)), text(m, 'aws_profile'));
    case 'gcp_kms':
      return text(m, 'resource_id') || key.id;
    case 'azure_kv':
      return `${text(m, 'vault_url')}/keys/${text(m, 'name')}/${text(m, 'version')}`;
    case 'hc_vault':
      return `${text(m, 'vault_address')}/v1/${text(m, 'engine_path')}/keys/${text(m, 'key_name')}`;
    case 'hckms':
      return text(m, 'key_id') || key.id;
    default:
      return key.id;
  }
}

/** `created_at` of a metadata entry (age entries have none). */
export function keyCreatedAt(key: MasterKey): string | undefined {
  return text(key.toMetadata(), 'created_at') || undefined;
}

/** Whether tsops can wrap and unwrap data keys with this key (false for gcp_kms, azure_kv, ...). */
export function isUsableKey(key: MasterKey): boolean {
  return !(key instanceof UnsupportedKey) && keyKind(key.type) !== undefined;
}

/** A new master key for a recipient (age, pgp, kms); other kinds are refused with a clear error. */
export function newKey(spec: KeySpec, ctx: KeyContext): MasterKey {
  return keyFromRecipient(spec.type, spec.recipient, ctx, {
    ...(spec.role ? { role: spec.role } : {}),
    ...(spec.context ? { context: spec.context } : {}),
    ...(spec.awsProfile ? { awsProfile: spec.awsProfile } : {}),
  });
}

/**
 * The identity of a recipient given on the command line or in `.sops.yaml`. For kinds tsops
 * can use, the key is built (which also validates the recipient); for the others the
 * recipient text is compared as sops prints such keys.
 */
export function specIdentity(spec: KeySpec, ctx: KeyContext): string {
  if (keyKind(spec.type)) return keyIdentity(newKey(spec, ctx));
  return spec.recipient.trim();
}

/** Parses `--encryption-context k1:v1,k2:v2` as sops does; malformed text is exit 6. */
export function parseEncryptionContext(textValue: string | undefined): Record<string, string> | undefined {
  if (textValue === undefined || textValue === '') return undefined;
  const out: Record<string, string> = {};
  for (const kv of textValue.split(',')) {
    const parts = kv.split(':');
    if (parts.length !== 2) {
      throw new SopsError(`invalid KMS encryption context ${JSON.stringify(textValue)}`, ExitCode.InvalidEncryptionContext, {
        hint: 'use key:value pairs separated by commas, e.g. --encryption-context app:web,env:prod',
      });
    }
    out[parts[0]!] = parts[1]!;
  }
  return out;
}
