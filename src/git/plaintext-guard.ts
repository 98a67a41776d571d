/**
 * The encrypt-time guard: a selection rule (from flags or `.sops.yaml`) that would leave every
 * value of a file in clear text is almost always a mistake (an `encrypted_regex` that matches no
 * key, a suffix nobody uses), and the result would look encrypted (it has a `sops` block) while
 * holding only plaintext. `tsops encrypt` refuses it unless `--allow-plaintext`. Pure.
 */
import { ExitCode, SopsError } from '../errors.js';
import type { ConfigSettings } from '../settings.js';
import { storeFor, type FormatName } from '../stores/index.js';
import { RULE_FIELDS, type EncryptionRule, type RuleField } from '../tree/select.js';
import type { MapNode } from '../tree/types.js';
import { isEncryptable, selectLeaves } from './selection.js';

/** The rule field and flag that decide, as resolveSettings combines them (undefined: ambiguous, left to it). */
export function effectiveRule(direct: Partial<Record<RuleField, string>>, creationRule: ConfigSettings | undefined): { rule?: EncryptionRule; from: string } | undefined {
  const fromFlags = RULE_FIELDS.filter((f) => direct[f] !== undefined && direct[f] !== '');
  if (fromFlags.length > 1) return undefined;
  if (fromFlags.length === 1) {
    const f = fromFlags[0]!;
    if (creationRule?.encryptionRule && creationRule.encryptionRule.field !== f) return undefined;
    return { rule: { field: f, value: direct[f]! }, from: `--${f.replace(/_/g, '-')}` };
  }
  if (creationRule?.encryptionRule) return { rule: creationRule.encryptionRule, from: `the .sops.yaml creation rule's ${creationRule.encryptionRule.field}` };
  return { from: 'the default rule (every key except those ending in _unencrypted)' };
}

/**
 * Throws (exit 1) when `rule` would encrypt none of the values of `documents` although some
 * could be encrypted. Files without any value (or with only nulls and empty strings) pass.
 */
export function assertEncryptsSomething(documents: readonly MapNode[], rule: EncryptionRule | undefined, opts: { name: string; from: string }): void {
  const leaves = selectLeaves(documents, rule).filter((l) => isEncryptable(l.leaf));
  if (leaves.length === 0 || leaves.some((l) => l.selected)) return;
  const what = rule ? `${rule.field} ${JSON.stringify(rule.value)}` : 'the default rule';
  throw new SopsError(`refusing to encrypt ${opts.name}: ${what} (from ${opts.from}) selects none of its ${leaves.length} values, so every value would stay in plaintext`, ExitCode.Generic, {
    hint: 'check the rule against the key names (`tsops config explain FILE` shows what it selects); pass --allow-plaintext if a file without any encrypted value is really intended',
  });
}

/**
 * The guard on raw plaintext as `encrypt` reads it. Input that does not parse is let through:
 * the encryption itself reports it with the usual message and exit code.
 */
export function checkPlaintextGuard(data: Uint8Array, format: FormatName, opts: { name: string; outputFormat?: FormatName; direct: Partial<Record<RuleField, string>>; creationRule?: ConfigSettings }): void {
  if (format === 'binary' || opts.outputFormat === 'binary') return; // the single value is always encrypted
  const eff = effectiveRule(opts.direct, opts.creationRule);
  if (!eff) return;
  let documents: MapNode[];
  try {
    const loaded = storeFor(format).load(data, 'plain');
    if (loaded.metadata) return;
    documents = loaded.documents;
  } catch {
    return;
  }
  assertEncryptsSomething(documents, eff.rule, { name: opts.name, from: eff.from });
}
