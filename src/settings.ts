/**
 * Turning recipients and rule options (from flags, environment or a `.sops.yaml` creation rule)
 * into what the engine needs: key groups of master keys, the threshold and one selection rule.
 */
import { EMPTY_KEY_GROUP, ExitCode, KeyGroupsError, NO_KEY_GROUPS, SopsError } from './errors.js';
import { keyFromRecipient } from './keys/registry.js';
import type { KeyContext, MasterKey } from './keys/types.js';
import { RULE_FIELDS, type EncryptionRule, type RuleField } from './tree/select.js';

/** One recipient of a given kind. */
export interface KeySpec {
  type: string;
  recipient: string;
  /** AWS KMS: role ARN to assume. */
  role?: string;
  /** AWS KMS: encryption context. */
  context?: Record<string, string>;
  /** AWS KMS: shared-config profile. */
  awsProfile?: string;
}

/** Recipients and rules given directly (CLI flags, env or library options). */
export interface DirectSettings {
  /** age recipients (`age1...`, `ssh-ed25519 ...`). */
  age?: readonly string[];
  /** PGP fingerprints. */
  pgp?: readonly string[];
  /** AWS KMS key ARNs (`ARN[+ROLE_ARN]`). */
  kms?: readonly string[];
  /** AWS KMS encryption context for the `kms` keys. */
  encryptionContext?: Record<string, string>;
  /** AWS profile for the `kms` keys. */
  awsProfile?: string;
  /** Several key groups (Shamir). Used when neither `age` nor `pgp` is given. */
  keyGroups?: readonly (readonly KeySpec[])[];
  shamirThreshold?: number;
  /** At most one selection rule field. */
  rules?: Partial<Record<RuleField, string>>;
  macOnlyEncrypted?: boolean;
}

/** What a matching `.sops.yaml` creation rule contributes. */
export interface ConfigSettings {
  keyGroups: readonly (readonly KeySpec[])[];
  shamirThreshold?: number;
  encryptionRule?: EncryptionRule;
  macOnlyEncrypted?: boolean;
}

export interface ResolvedSettings {
  keyGroups: MasterKey[][];
  shamirThreshold?: number;
  rule?: EncryptionRule;
  macOnlyEncrypted: boolean;
}

/** Splits comma-separated recipient lists, trimming items and dropping empty ones. */
export function splitList(values: readonly string[] | string | undefined): string[] {
  if (values === undefined) return [];
  const arr = typeof values === 'string' ? [values] : values;
  return arr.filter((v): v is string => typeof v === 'string').flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
}

/**
 * Merges direct settings over a creation rule the way sops does: any direct recipient replaces
 * the rule's keys entirely; a direct rule field overrides the same field of the rule; more
 * than one selection rule in the result is an error (exit 8).
 */
export function resolveSettings(direct: DirectSettings, config: ConfigSettings | undefined, ctx: KeyContext): ResolvedSettings {
  const age = splitList(direct.age);
  const pgp = splitList(direct.pgp);
  const kms = splitList(direct.kms);
  let specs: KeySpec[][];
  if (age.length || pgp.length || kms.length) {
    // sops builds one group from flags in the order kms, gcp_kms, hckms, azure_kv, pgp, hc_vault, age.
    const kmsSpecs: KeySpec[] = kms.map((r) => ({
      type: 'kms',
      recipient: r,
      ...(direct.encryptionContext ? { context: direct.encryptionContext } : {}),
      ...(direct.awsProfile ? { awsProfile: direct.awsProfile } : {}),
    }));
    specs = [[...kmsSpecs, ...pgp.map((r) => ({ type: 'pgp', recipient: r })), ...age.map((r) => ({ type: 'age', recipient: r }))]];
  } else if (direct.keyGroups?.length) specs = direct.keyGroups.map((g) => [...g]);
  else if (config) {
    // The keys of a matching creation rule: sops's own checks and message (its functional
    // tests compare it byte for byte).
    specs = config.keyGroups.map((g) => [...g]);
    if (specs.length === 0) throw new KeyGroupsError([NO_KEY_GROUPS]);
    if (specs.some((g) => g.length === 0)) throw new KeyGroupsError([EMPTY_KEY_GROUP]);
  } else specs = [];
  if (specs.length === 0 || specs.every((g) => g.length === 0)) {
    throw new SopsError('no recipients: there is nothing to encrypt the data key to', ExitCode.Generic, {
      hint: 'pass --age RECIPIENT or --pgp FINGERPRINT, set SOPS_AGE_RECIPIENTS, or add a creation rule with keys to .sops.yaml',
    });
  }
  const keyGroups = specs.map((g) =>
    g.map((s) =>
      keyFromRecipient(s.type, s.recipient, ctx, {
        ...(s.role ? { role: s.role } : {}),
        ...(s.context ? { context: s.context } : {}),
        ...(s.awsProfile ? { awsProfile: s.awsProfile } : {}),
      }),
    ),
  );

  const fields = new Map<RuleField, string>();
  if (config?.encryptionRule) fields.set(config.encryptionRule.field, config.encryptionRule.value);
  for (const f of RULE_FIELDS) {
    const v = direct.rules?.[f];
    if (v !== undefined && v !== '') fields.set(f, v);
  }
  if (fields.size > 1) {
    throw new SopsError(`cannot use more than one of ${[...fields.keys()].join(', ')}`, ExitCode.ConflictingParameters, {
      hint: 'choose one selection rule: a flag overrides only the same field of the .sops.yaml rule',
    });
  }
  const [first] = fields;
  const threshold = direct.shamirThreshold ?? config?.shamirThreshold;
  return {
    keyGroups,
    ...(threshold !== undefined ? { shamirThreshold: threshold } : {}),
    ...(first ? { rule: { field: first[0], value: first[1] } } : {}),
    macOnlyEncrypted: direct.macOnlyEncrypted ?? config?.macOnlyEncrypted ?? false,
  };
}
