/**
 * Creation-rule matching: which rule of a validated `.sops.yaml` applies to a file. Pure: paths
 * come in as strings (absolute config path, file path, working directory).
 *
 * The target is the file's absolute path made relative to the config file's directory when
 * it is inside it, otherwise the absolute path. Separators are always `/`, on every OS: sops
 * uses `\` on Windows, so a `path_regex` written with `/` only works on Unix there; with tsops
 * the same `.sops.yaml` works everywhere. The first rule whose `path_regex` finds a match
 * anywhere in that string (an unanchored search) wins; a rule without `path_regex` matches
 * every file.
 */
import { posix, win32 } from 'node:path';
import { ConfigError } from '../errors.js';
import { compileRe2 } from './regex.js';
import type { CreationRule, EncryptionRule, KeySpec, SopsConfig } from './schema.js';

/** The creation rule that applies to a file, ready for the engine. */
export interface ResolvedRule {
  /** Index in `creation_rules`. */
  ruleIndex: number;
  pathRegex?: string;
  /**
   * Key groups; a flat rule gives one group (empty when the rule names no keys). Within a flat
   * rule: age, pgp, kms, gcp_kms, hckms, azure_kv, hc_vault; `merge` is flattened first in a
   * group; duplicates are removed.
   */
  keyGroups: KeySpec[][];
  shamirThreshold?: number;
  encryptionRule?: EncryptionRule;
  macOnlyEncrypted: boolean;
}

/** Why an earlier rule did not apply (for `config explain`). */
export interface RuleMiss {
  ruleIndex: number;
  pathRegex: string;
  reason: string;
}

/** The outcome of matching, whether or not a rule applied. */
export interface MatchExplanation {
  /** The string the regexes were matched against (`secrets/prod/db.yaml`). */
  relativePath: string;
  /** The directory paths are made relative to (the config file's directory, `/` separators). */
  configDir: string;
  /** The rule that applies; undefined when none matched. */
  rule?: ResolvedRule;
  /** Every rule before the winner (or every rule, when none matched), with the reason. */
  misses: RuleMiss[];
}

/** A successful match. */
export interface CreationRuleMatch {
  rule: ResolvedRule;
  relativePath: string;
  misses: RuleMiss[];
}

/** Inputs of {@link matchCreationRule}. */
export interface MatchOptions {
  /** Path of the `.sops.yaml` (relative paths are resolved against `cwd`). */
  configPath: string;
  /** The file (or the `--filename-override` name), absolute or relative to `cwd`. */
  filePath: string;
  /** Absolute working directory. */
  cwd: string;
  /** `--encryption-context`: applied to the KMS keys of a flat rule (key groups have their own). */
  kmsContext?: Record<string, string>;
  /** Path syntax; default: win32 when `cwd` or `configPath` looks like `C:\...` or `\\server\...`. */
  platform?: 'posix' | 'win32';
}

const WINDOWS_PATH = /^(?:[A-Za-z]:[\\/]|\\\\)/;

function pathApi(opts: Pick<MatchOptions, 'cwd' | 'configPath' | 'platform'>) {
  const platform = opts.platform ?? (WINDOWS_PATH.test(opts.cwd) || WINDOWS_PATH.test(opts.configPath) ? 'win32' : 'posix');
  return platform === 'win32' ? win32 : posix;
}

const slashes = (p: string, api: typeof posix) => (api === win32 ? p.replace(/\\/g, '/') : p);

/** The config file's directory, absolute, with `/` separators. */
export function configDirOf(opts: Pick<MatchOptions, 'cwd' | 'configPath' | 'platform'>): string {
  const api = pathApi(opts);
  return slashes(api.dirname(api.resolve(opts.cwd, opts.configPath)), api);
}

/**
 * The string `path_regex` is matched against: the file's path relative to the config file's
 * directory when inside it, else its absolute path; always with `/` separators.
 */
export function targetPath(opts: Pick<MatchOptions, 'cwd' | 'configPath' | 'filePath' | 'platform'>): string {
  const api = pathApi(opts);
  const file = api.resolve(opts.cwd, opts.filePath);
  const dir = api.dirname(api.resolve(opts.cwd, opts.configPath));
  const rel = api.relative(dir, file);
  const inside = rel !== '' && rel !== '..' && !rel.startsWith('..' + api.sep) && !api.isAbsolute(rel);
  return slashes(inside ? rel : file, api);
}

function resolveRule(rule: CreationRule, kmsContext: Record<string, string> | undefined): ResolvedRule {
  const withContext = (k: KeySpec): KeySpec => (k.type === 'kms' && kmsContext && Object.keys(kmsContext).length > 0 && !rule.usesKeyGroups ? { ...k, context: { ...kmsContext } } : { ...k });
  return {
    ruleIndex: rule.index,
    ...(rule.pathRegex !== undefined ? { pathRegex: rule.pathRegex } : {}),
    keyGroups: rule.keyGroups.map((g) => g.map(withContext)),
    ...(rule.shamirThreshold !== undefined ? { shamirThreshold: rule.shamirThreshold } : {}),
    ...(rule.encryptionRule ? { encryptionRule: { ...rule.encryptionRule } } : {}),
    macOnlyEncrypted: rule.macOnlyEncrypted,
  };
}

/**
 * Matches every rule in order and says why each one before the winner did not apply. Returns
 * undefined when the config has no `creation_rules` (it then counts as absent). Never throws
 * for a validated config.
 */
export function explainMatch(config: SopsConfig, opts: MatchOptions): MatchExplanation | undefined {
  const rules = config.creationRules;
  if (!rules) return undefined;
  const relativePath = targetPath(opts);
  const misses: RuleMiss[] = [];
  for (const rule of rules) {
    if (rule.pathRegex === undefined || compileRe2(rule.pathRegex).test(relativePath)) {
      return { relativePath, configDir: configDirOf(opts), rule: resolveRule(rule, opts.kmsContext), misses };
    }
    misses.push({ ruleIndex: rule.index, pathRegex: rule.pathRegex, reason: `path_regex \`${rule.pathRegex}\` does not match \`${relativePath}\`` });
  }
  return { relativePath, configDir: configDirOf(opts), misses };
}

/**
 * The creation rule for a file: undefined when the config has no `creation_rules`; throws
 * {@link ConfigError} (exit 1, like sops's "no matching creation rules found") when it has
 * rules but none matches, even if keys were given on the command line.
 */
export function matchCreationRule(config: SopsConfig, opts: MatchOptions): CreationRuleMatch | undefined {
  const ex = explainMatch(config, opts);
  if (!ex) return undefined;
  if (ex.rule) return { rule: ex.rule, relativePath: ex.relativePath, misses: ex.misses };
  const where = slashes(pathApi(opts).resolve(opts.cwd, opts.configPath), pathApi(opts));
  const problems = ex.misses.map((m) => `creation_rules[${m.ruleIndex}]: ${m.reason}`);
  const message = ex.misses.length === 0
    ? `no matching creation rules found: ${where} has an empty creation_rules list`
    : `no matching creation rules found in ${where}: no rule's path_regex matches \`${ex.relativePath}\``;
  throw new ConfigError(message, problems, {
    hint: `path_regex is searched in the path relative to ${ex.configDir} (with / separators); add a rule that matches, or a last rule without path_regex as a catch-all`,
  });
}
