/**
 * `.sops.yaml` types and pure validation.
 *
 * {@link parseConfig} turns the file's text into a {@link SopsConfig} plus a list of
 * {@link ConfigProblem}s, each with a field path (`creation_rules[2].path_regex`) and a line.
 * Unlike sops, which ignores unknown fields, an unknown or misspelled field is an error that
 * names the closest known field. Key fields are normalized here into {@link KeySpec}s, in the
 * order sops adds them, so rule matching (`match.ts`) has nothing left to check.
 */
import type { Document, LineCounter, Node as YamlNode } from 'yaml';
import { yamlLib } from '../stores/yaml/lib.js';
import { RULE_FIELDS, type EncryptionRule, type RuleField } from '../tree/select.js';
import { Re2SyntaxError, translateRe2 } from './regex.js';

/** Master key types, named as in a file's metadata. */
export type KeyType = 'age' | 'pgp' | 'kms' | 'gcp_kms' | 'azure_kv' | 'hc_vault' | 'hckms';

/**
 * One master key a rule asks for. `recipient` is what the key kind's `fromRecipient` takes:
 * age recipient, PGP fingerprint, KMS ARN, GCP resource ID, Azure Key Vault key URL
 * (`https://vault/keys/name[/version]`), Vault transit URI, HuaweiCloud `region:key-id`.
 */
export interface KeySpec {
  type: KeyType;
  recipient: string;
  /** KMS: IAM role to assume. */
  role?: string;
  /** KMS: encryption context. */
  context?: Record<string, string>;
  /** KMS: AWS profile. */
  awsProfile?: string;
}

/** The six mutually exclusive fields that choose which values get encrypted (from `tree/select.ts`). */
export const ENCRYPTION_RULE_FIELDS = RULE_FIELDS;
/** One of {@link ENCRYPTION_RULE_FIELDS}. */
export type EncryptionRuleField = RuleField;
export type { EncryptionRule };

/** A validated creation rule. */
export interface CreationRule {
  /** Position in `creation_rules` (-1 for a destination rule's `recreation_rule`). */
  index: number;
  /** Absent (or empty in the file): the rule matches every file. */
  pathRegex?: string;
  /**
   * From `key_groups`, or one group built from the flat key fields. That one group may be
   * empty: keys must then come from the command line.
   */
  keyGroups: KeySpec[][];
  /** The rule uses `key_groups` (the flat key fields are then ignored, as in sops). */
  usesKeyGroups: boolean;
  shamirThreshold?: number;
  encryptionRule?: EncryptionRule;
  macOnlyEncrypted: boolean;
}

/** Where `sops publish` sends a file. */
export type Destination =
  | { kind: 's3'; bucket: string; prefix?: string }
  | { kind: 'gcs'; bucket: string; prefix?: string }
  | { kind: 'vault'; path: string; address?: string; kvMountName?: string; kvVersion?: number };

/** A validated destination rule (`sops publish`). */
export interface DestinationRule {
  index: number;
  pathRegex?: string;
  destination?: Destination;
  recreationRule?: CreationRule;
  omitExtensions: boolean;
}

/** Raw `stores:` values; see {@link storeSettings} for what the stores should use. */
export interface StoresConfig {
  yamlIndent?: number;
  jsonIndent?: number;
  jsonBinaryIndent?: number;
}

/** A validated `.sops.yaml`. */
export interface SopsConfig {
  /** Undefined when the file has no `creation_rules` (the config then counts as absent). */
  creationRules?: CreationRule[];
  destinationRules?: DestinationRule[];
  stores: StoresConfig;
}

/** One thing wrong with a config file. */
export interface ConfigProblem {
  /** Field path, e.g. `creation_rules[2].path_regex` ('' for the file itself). */
  path: string;
  /** The same path as segments. */
  segments: Segment[];
  message: string;
  severity: 'error' | 'warning';
  /** 1-based line in the file, when known. */
  line?: number;
}

/** A config (partial when there are errors) and everything found wrong with it. */
export interface ValidationResult {
  config: SopsConfig;
  /** Errors and warnings, in file order of discovery. */
  problems: ConfigProblem[];
}

const TOP_FIELDS = ['creation_rules', 'destination_rules', 'stores'] as const;
const KEY_FIELDS = ['age', 'pgp', 'kms', 'gcp_kms', 'azure_keyvault', 'hc_vault_transit_uri', 'hckms'] as const;
const CREATION_RULE_FIELDS = [
  'path_regex',
  ...KEY_FIELDS,
  'aws_profile',
  'key_groups',
  'shamir_threshold',
  ...ENCRYPTION_RULE_FIELDS,
  'mac_only_encrypted',
] as const;
const CREATION_RULE_ALIASES: Record<string, string> = {
  azure_kv: 'azure_keyvault',
  hc_vault: 'hc_vault_transit_uri',
  vault: 'hc_vault_transit_uri',
  shamir_secret_sharing_threshold: 'shamir_threshold',
  keygroups: 'key_groups',
};
const DESTINATION_FIELDS = [
  'path_regex', 's3_bucket', 's3_prefix', 'gcs_bucket', 'gcs_prefix', 'vault_path', 'vault_address',
  'vault_kv_mount_name', 'vault_kv_version', 'recreation_rule', 'omit_extensions',
] as const;
const STORE_FIELDS: Record<string, readonly string[]> = { yaml: ['indent'], json: ['indent'], json_binary: ['indent'], dotenv: [], ini: [] };

/** Validates an already parsed `.sops.yaml` (plain JS values). Pure. */
export function validateConfig(raw: unknown): ValidationResult {
  const c = new Checker();
  const config: SopsConfig = { stores: {} };
  if (raw === null || raw === undefined) return { config, problems: c.problems };
  if (!isObject(raw)) {
    c.error([], `the config must be a mapping, got ${describe(raw)}`);
    return { config, problems: c.problems };
  }
  c.fields(raw, [], TOP_FIELDS);
  const rules = c.list(raw, 'creation_rules', []);
  if (rules) {
    config.creationRules = [];
    if (rules.length === 0) c.warn(['creation_rules'], 'creation_rules is empty: sops then fails every encrypt with "no matching creation rules found"');
    rules.forEach((r, i) => {
      const rule = checkCreationRule(c, r, ['creation_rules', i], i);
      if (rule) config.creationRules!.push(rule);
    });
  }
  const dests = c.list(raw, 'destination_rules', []);
  if (dests) config.destinationRules = dests.flatMap((d, i) => checkDestinationRule(c, d, ['destination_rules', i], i) ?? []);
  config.stores = checkStores(c, raw.stores);
  return { config, problems: c.problems };
}

function checkRegex(c: Checker, seg: Segment[], value: string): void {
  try {
    translateRe2(value);
  } catch (e) {
    if (!(e instanceof Re2SyntaxError)) throw e;
    const glob = /^\*|[^.\\)\]]\*\./.test(value) ? '; regexes are not globs: write `.*\\.yaml$`, not `*.yaml`' : '';
    c.error(seg, `${e.reason} in \`${value}\` (at offset ${e.offset})${glob}`);
  }
}

/** Validates one creation rule (also used for `recreation_rule`). */
function checkCreationRule(c: Checker, raw: unknown, seg: Segment[], index: number): CreationRule | undefined {
  if (!isObject(raw)) {
    c.error(seg, `a creation rule must be a mapping, got ${describe(raw)}`);
    return undefined;
  }
  c.fields(raw, seg, CREATION_RULE_FIELDS, CREATION_RULE_ALIASES);
  const rule: CreationRule = { index, keyGroups: [], usesKeyGroups: false, macOnlyEncrypted: false };

  const pathRegex = c.str(raw, 'path_regex', seg);
  if (pathRegex === '') c.warn([...seg, 'path_regex'], 'an empty path_regex matches every file; remove it to say so');
  else if (pathRegex !== undefined) {
    checkRegex(c, [...seg, 'path_regex'], pathRegex);
    rule.pathRegex = pathRegex;
  }

  for (const field of ENCRYPTION_RULE_FIELDS) {
    const value = c.str(raw, field, seg);
    if (value === '') c.warn([...seg, field], `an empty ${field} is ignored`);
    if (!value) continue;
    if (field.endsWith('_regex')) checkRegex(c, [...seg, field], value);
    if (rule.encryptionRule) {
      c.error([...seg, field], `cannot use more than one of ${ENCRYPTION_RULE_FIELDS.join(', ')} in the same rule (\`${rule.encryptionRule.field}\` is already set)`);
    } else rule.encryptionRule = { field, value };
  }
  rule.macOnlyEncrypted = c.bool(raw, 'mac_only_encrypted', seg) ?? false;

  const threshold = c.int(raw, 'shamir_threshold', seg);
  if (threshold !== undefined) {
    if (threshold < 1) c.error([...seg, 'shamir_threshold'], `shamir_threshold must be a positive integer, got ${threshold}`);
    else rule.shamirThreshold = threshold;
  }

  const awsProfile = c.str(raw, 'aws_profile', seg);
  const flat = checkFlatKeys(c, raw, seg, awsProfile || undefined);
  const groups = c.list(raw, 'key_groups', seg);
  // As in sops, `key_groups: []` counts as absent (the flat key fields apply), and an empty group
  // is not a config error: encrypting with it fails with sops's own message
  // ("Could not generate data key: [empty key group provided]"), which scripts compare.
  if (groups && groups.length > 0) {
    rule.usesKeyGroups = true;
    groups.forEach((g, i) => {
      const keys = checkKeyGroup(c, g, [...seg, 'key_groups', i], 0);
      if (keys) rule.keyGroups.push(dedupeKeys(keys));
    });
    for (const field of [...KEY_FIELDS, 'aws_profile'] as const) {
      if (raw[field] !== undefined && raw[field] !== null) {
        c.warn([...seg, field], `\`${field}\` is ignored because the rule has key_groups (list these keys in a group instead)`);
      }
    }
  } else {
    rule.keyGroups = [dedupeKeys(flat)];
  }

  if (rule.shamirThreshold !== undefined) {
    const n = rule.keyGroups.length;
    if (n <= 1) c.warn([...seg, 'shamir_threshold'], 'shamir_threshold is ignored with a single key group');
    else if (rule.shamirThreshold > n) {
      c.error([...seg, 'shamir_threshold'], `shamir_threshold ${rule.shamirThreshold} is greater than the number of key groups (${n})`);
    }
  }
  return rule;
}

function checkDestinationRule(c: Checker, raw: unknown, seg: Segment[], index: number): DestinationRule | undefined {
  if (!isObject(raw)) {
    c.error(seg, `a destination rule must be a mapping, got ${describe(raw)}`);
    return undefined;
  }
  c.fields(raw, seg, DESTINATION_FIELDS);
  const rule: DestinationRule = { index, omitExtensions: c.bool(raw, 'omit_extensions', seg) ?? false };
  const pathRegex = c.str(raw, 'path_regex', seg);
  if (pathRegex) {
    checkRegex(c, [...seg, 'path_regex'], pathRegex);
    rule.pathRegex = pathRegex;
  }
  const s3 = c.str(raw, 's3_bucket', seg);
  const s3Prefix = c.str(raw, 's3_prefix', seg);
  const gcs = c.str(raw, 'gcs_bucket', seg);
  const gcsPrefix = c.str(raw, 'gcs_prefix', seg);
  const vault = c.str(raw, 'vault_path', seg);
  const vaultAddress = c.str(raw, 'vault_address', seg);
  const vaultMount = c.str(raw, 'vault_kv_mount_name', seg);
  const vaultVersion = c.int(raw, 'vault_kv_version', seg);
  const set = [s3 && 's3_bucket', gcs && 'gcs_bucket', vault && 'vault_path'].filter((x): x is string => !!x);
  if (set.length > 1) c.error(seg, `a destination rule can have only one destination, found ${set.join(', ')}`);
  else if (set.length === 0) c.warn(seg, 'the destination rule has no destination (s3_bucket, gcs_bucket or vault_path)');
  if (s3) rule.destination = { kind: 's3', bucket: s3, ...(s3Prefix ? { prefix: s3Prefix } : {}) };
  else if (gcs) rule.destination = { kind: 'gcs', bucket: gcs, ...(gcsPrefix ? { prefix: gcsPrefix } : {}) };
  else if (vault) {
    rule.destination = {
      kind: 'vault', path: vault,
      ...(vaultAddress ? { address: vaultAddress } : {}),
      ...(vaultMount ? { kvMountName: vaultMount } : {}),
      ...(vaultVersion !== undefined ? { kvVersion: vaultVersion } : {}),
    };
  }
  if (raw.recreation_rule !== undefined && raw.recreation_rule !== null) {
    const rec = checkCreationRule(c, raw.recreation_rule, [...seg, 'recreation_rule'], -1);
    if (rec) rule.recreationRule = rec;
  }
  return rule;
}

function checkStores(c: Checker, raw: unknown): StoresConfig {
  const out: StoresConfig = {};
  if (raw === undefined || raw === null) return out;
  if (!isObject(raw)) {
    c.error(['stores'], `stores must be a mapping, got ${describe(raw)}`);
    return out;
  }
  c.fields(raw, ['stores'], Object.keys(STORE_FIELDS));
  for (const [name, fields] of Object.entries(STORE_FIELDS)) {
    const store = raw[name];
    if (store === undefined || store === null) continue;
    if (!isObject(store)) {
      c.error(['stores', name], `stores.${name} must be a mapping, got ${describe(store)}`);
      continue;
    }
    c.fields(store, ['stores', name], fields);
    const indent = fields.includes('indent') ? c.int(store, 'indent', ['stores', name]) : undefined;
    if (indent === undefined) continue;
    const at = ['stores', name, 'indent'];
    if (name === 'yaml') {
      if (indent < 0) c.error(at, `the YAML indent cannot be negative, got ${indent} (0 means the default, 4)`);
      else {
        if (indent === 1 || indent > 9) c.warn(at, `sops (go-yaml) writes an indent of ${indent} as 2; use 2 to 9`);
        out.yamlIndent = indent;
      }
    } else if (indent < -1) {
      c.error(at, `the JSON indent must be -1 (a tab, the default) or more, got ${indent}`);
    } else if (name === 'json') out.jsonIndent = indent;
    else out.jsonBinaryIndent = indent;
  }
  return out;
}

/** Indentation the stores should use, `undefined` meaning the format's default. */
export interface StoreSettings {
  yaml: { indent?: number };
  json: { indent?: number };
  json_binary: { indent?: number };
}

/**
 * What the stores take from `stores:` (decrypt uses only this part of the config). YAML 0 and
 * JSON -1 are sops's defaults (4 spaces, a tab) and come back as `undefined`.
 */
export function storeSettings(config?: SopsConfig): StoreSettings {
  const s = config?.stores ?? {};
  const pick = (v: number | undefined, dflt: number) => (v === undefined || v === dflt ? {} : { indent: v });
  return { yaml: pick(s.yamlIndent, 0), json: pick(s.jsonIndent, -1), json_binary: pick(s.jsonBinaryIndent, -1) };
}

/**
 * Parses `.sops.yaml` text with the `yaml` package and validates it. YAML syntax errors and
 * duplicate keys are problems too (path ''), with their line. Only the first document counts,
 * as in sops; further documents give a warning. Merge keys (`<<`) work, as in go-yaml.
 */
export function parseConfig(text: string): ValidationResult {
  const { LineCounter, parseAllDocuments } = yamlLib();
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, merge: true, uniqueKeys: true, prettyErrors: false, logLevel: 'error' });
  const list = Array.isArray(docs) ? docs : [];
  const doc = list[0];
  const problems: ConfigProblem[] = [];
  const parseErrors = list.flatMap((d) => d.errors);
  for (const e of parseErrors) {
    const line = lc.linePos(e.pos[0]).line;
    problems.push({ path: '', segments: [], message: yamlMessage(e.message.split('\n')[0]!.replace(/:$/, '')), severity: 'error', line });
  }
  if (parseErrors.length > 0 || !doc) {
    return { config: { stores: {} }, problems };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    // a YAML bomb (aliases expanding exponentially) or nesting too deep for the stack
    problems.push({ path: '', segments: [], message: yamlMessage(e instanceof Error ? e.message : String(e)), severity: 'error', line: 1 });
    return { config: { stores: {} }, problems };
  }
  const result = validateConfig(data);
  for (const p of result.problems) {
    const line = lineOf(doc, p.segments, lc);
    problems.push(line === undefined ? p : { ...p, line });
  }
  if (list.length > 1) {
    problems.push({ path: '', segments: [], severity: 'warning', line: lc.linePos(list[1]!.range[0]).line, message: 'only the first YAML document is used; the others are ignored (as in sops)' });
  }
  return { config: result.config, problems };
}

/** The yaml library's message for resource limits, in words a user can act on. */
function yamlMessage(msg: string): string {
  if (/excessive alias count/i.test(msg)) return 'its aliases expand to too much data (a YAML "bomb"?); write the values out instead';
  if (/maximum call stack/i.test(msg)) return 'the YAML is nested too deeply';
  return msg;
}

/** The line of the key (or item) a problem points at; the nearest existing parent otherwise. */
function lineOf(doc: Document, segments: Segment[], lc: LineCounter): number | undefined {
  const { isMap: isYamlMap, isSeq: isYamlSeq, isScalar } = yamlLib();
  let node: unknown = doc.contents;
  let line = node && (node as YamlNode).range ? lc.linePos((node as YamlNode).range![0]).line : undefined;
  for (const seg of segments) {
    let next: unknown;
    let at: YamlNode | undefined;
    if (isYamlMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : p.key) === seg);
      next = pair?.value;
      at = pair && isScalar(pair.key) ? pair.key : undefined;
    } else if (isYamlSeq(node) && typeof seg === 'number') {
      next = node.items[seg];
      at = next as YamlNode | undefined;
    }
    if (!at || !at.range) return line;
    line = lc.linePos(at.range[0]).line;
    node = next;
  }
  return line;
}

// ---------------------------------------------------------------------------------------------
// Field checking

/** One step of a field path: a mapping key or a list index. */
export type Segment = string | number;

/** `['creation_rules', 2, 'path_regex']` -> `creation_rules[2].path_regex`. */
export function formatPath(segments: readonly Segment[]): string {
  return segments.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/** Levenshtein distance (insertions, deletions, substitutions). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/** The known name closest to `name`, if it is close enough to be a likely misspelling. */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return best;
}

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number' || typeof v === 'bigint') return `a number (${v})`;
  if (typeof v === 'boolean') return `a boolean (${v})`;
  return `a string ("${String(v)}")`;
}

const YAML11_BOOLS: Record<string, boolean> = { y: true, yes: true, on: true, n: false, no: false, off: false };

class Checker {
  readonly problems: ConfigProblem[] = [];

  error(segments: Segment[], message: string): void {
    this.problems.push({ path: formatPath(segments), segments, message, severity: 'error' });
  }

  warn(segments: Segment[], message: string): void {
    this.problems.push({ path: formatPath(segments), segments, message, severity: 'warning' });
  }

  /** Reports every field of `obj` not in `known`, with the likeliest intended name. */
  fields(obj: Obj, seg: Segment[], known: readonly string[], aliases: Record<string, string> = {}, elsewhere: Record<string, string> = {}): void {
    const where = seg.length === 0 ? 'at the top level' : `in ${formatPath(seg)}`;
    for (const name of Object.keys(obj)) {
      if (known.includes(name)) continue;
      let msg = `unknown field \`${name}\` ${where}`;
      const guess = Object.hasOwn(aliases, name) ? aliases[name] : closest(name, known);
      if (Object.hasOwn(elsewhere, name)) msg += `; ${elsewhere[name]}`;
      else if (guess) msg += `; did you mean \`${guess}\`?`;
      else if (known.length === 0) msg += '; this section has no settings';
      else if (known.length <= 6) msg += `; known fields: ${known.join(', ')}`;
      this.error([...seg, name], msg);
    }
  }

  private typed<T>(obj: Obj, key: string, seg: Segment[], want: string, conv: (v: unknown) => T | undefined, advice = ''): T | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    const out = conv(v);
    if (out === undefined) this.error([...seg, key], `${key} must be ${want}, got ${describe(v)}${advice}`);
    return out;
  }

  str(obj: Obj, key: string, seg: Segment[]): string | undefined {
    const v = obj[key];
    // go-yaml would take the scalar's text; the `yaml` package has already turned it into a
    // number (1.10 -> 1.1), so ask for quotes instead of guessing the text.
    const quote = typeof v === 'number' || typeof v === 'boolean' ? '; quote it' : '';
    return this.typed(obj, key, seg, 'a string', (x) => (typeof x === 'string' ? x : undefined), quote);
  }

  int(obj: Obj, key: string, seg: Segment[]): number | undefined {
    return this.typed(obj, key, seg, 'an integer', (v) => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined));
  }

  /** true/false; go-yaml also takes the YAML 1.1 words (yes, on, ...) for bool fields. */
  bool(obj: Obj, key: string, seg: Segment[]): boolean | undefined {
    return this.typed(obj, key, seg, 'true or false', (v) => {
      if (typeof v === 'boolean') return v;
      const old = typeof v === 'string' && Object.hasOwn(YAML11_BOOLS, v.toLowerCase()) ? YAML11_BOOLS[v.toLowerCase()] : undefined;
      if (old !== undefined) this.warn([...seg, key], `write ${old} instead of "${String(v)}" (a YAML 1.1 boolean)`);
      return old;
    });
  }

  list(obj: Obj, key: string, seg: Segment[]): unknown[] | undefined {
    return this.typed(obj, key, seg, 'a list', (v) => (Array.isArray(v) ? v : undefined));
  }
}

// ---------------------------------------------------------------------------------------------
// Keys

interface Item {
  value: string;
  seg: Segment[];
}

/**
 * A flat key field: a comma-separated string or a list of strings (sops joins a list with
 * commas and splits again, so list items may hold several keys too). Trimmed, empties skipped.
 */
function keyItems(c: Checker, obj: Obj, key: string, seg: Segment[], listOnly = false): Item[] {
  const v = obj[key];
  const at = [...seg, key];
  const split = (s: string, where: Segment[]) => s.split(',').map((x) => x.trim()).filter((x) => x !== '').map((value) => ({ value, seg: where }));
  if (v === undefined || v === null) return [];
  if (typeof v === 'string' && !listOnly) return split(v, at);
  if (Array.isArray(v)) {
    return v.flatMap((item, i) => {
      if (typeof item === 'string') return split(item, [...at, i]);
      c.error([...at, i], `${key} entries must be strings, got ${describe(item)}`);
      return [];
    });
  }
  c.error(at, listOnly ? `${key} must be a list of strings (sops rejects a string here), got ${describe(v)}` : `${key} must be a comma-separated string or a list of strings, got ${describe(v)}`);
  return [];
}

const noSpaces = (s: string) => s.replace(/ /g, '');
const GCP_RESOURCE = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/;
const AZURE_URL = /^https:\/\/[^/]+\/keys\/[^/]+(\/[^/]*)?$/;

function ageKey(c: Checker, it: Item): KeySpec[] {
  if (!/^age1[0-9a-z]+$/i.test(it.value) && !/^ssh-(ed25519|rsa) \S/.test(it.value)) {
    c.error(it.seg, `\`${it.value}\` is not an age recipient (age1...) or an SSH public key`);
    return [];
  }
  return [{ type: 'age', recipient: it.value }];
}

function kmsKey(c: Checker, it: Item, arn: string, role: string | undefined, extra: Partial<KeySpec>): KeySpec[] {
  if (!arn.startsWith('arn:')) {
    c.error(it.seg, `\`${arn}\` is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)`);
    return [];
  }
  return [{ type: 'kms', recipient: arn, ...(role ? { role } : {}), ...extra }];
}

function gcpKey(c: Checker, it: Item): KeySpec[] {
  const id = noSpaces(it.value);
  if (GCP_RESOURCE.test(id)) return [{ type: 'gcp_kms', recipient: id }];
  c.error(it.seg, `\`${id}\` is not a GCP KMS resource ID (projects/P/locations/L/keyRings/R/cryptoKeys/K)`);
  return [];
}

function azureKey(c: Checker, it: Item): KeySpec[] {
  if (AZURE_URL.test(it.value)) return [{ type: 'azure_kv', recipient: it.value }];
  c.error(it.seg, `\`${it.value}\` is not an Azure Key Vault key URL (https://VAULT/keys/NAME[/VERSION])`);
  return [];
}

function vaultKey(c: Checker, it: Item): KeySpec[] {
  let path = '';
  try {
    const u = new URL(it.value);
    path = u.pathname + u.search;
  } catch {
    path = '';
  }
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(it.value) || !/\/v\d+\/[^/]+\/[^/]+\/[^/]+/.test(path)) {
    c.error(it.seg, `\`${it.value}\` is not a Vault transit key URI (https://vault.example.com:8200/v1/transit/keys/NAME)`);
    return [];
  }
  if (/\/[^/]+\/v\d+\/[^/]+\/[^/]+\/[^/]+/.test(path)) {
    c.error(it.seg, `\`${it.value}\`: sops does not support Vault behind a path prefix (use https://HOST/v1/ENGINE/keys/NAME)`);
    return [];
  }
  return [{ type: 'hc_vault', recipient: it.value }];
}

function hckmsKey(c: Checker, it: Item): KeySpec[] {
  if (/^[^:]+:.+$/.test(it.value)) return [{ type: 'hckms', recipient: it.value }];
  c.error(it.seg, `\`${it.value}\` is not a HuaweiCloud KMS key ID (REGION:KEY-UUID)`);
  return [];
}

/** The flat key fields of a rule as one group, in sops's order. */
function checkFlatKeys(c: Checker, rule: Obj, seg: Segment[], awsProfile: string | undefined): KeySpec[] {
  const profile = awsProfile ? { awsProfile } : {};
  return [
    ...keyItems(c, rule, 'age', seg).flatMap((it) => ageKey(c, it)),
    ...keyItems(c, rule, 'pgp', seg).map((it): KeySpec => ({ type: 'pgp', recipient: noSpaces(it.value) })),
    ...keyItems(c, rule, 'kms', seg).flatMap((it) => {
      const v = noSpaces(it.value);
      const plus = v.indexOf('+arn:');
      return plus > 0 ? kmsKey(c, it, v.slice(0, plus), v.slice(plus + 1), profile) : kmsKey(c, it, v, undefined, profile);
    }),
    ...keyItems(c, rule, 'gcp_kms', seg).flatMap((it) => gcpKey(c, it)),
    ...keyItems(c, rule, 'hckms', seg, true).flatMap((it) => hckmsKey(c, it)),
    ...keyItems(c, rule, 'azure_keyvault', seg).flatMap((it) => azureKey(c, it)),
    ...keyItems(c, rule, 'hc_vault_transit_uri', seg).flatMap((it) => vaultKey(c, it)),
  ];
}

const GROUP_FIELDS = ['merge', 'age', 'pgp', 'kms', 'gcp_kms', 'hckms', 'azure_keyvault', 'hc_vault'] as const;
const MAX_MERGE_DEPTH = 32;

/** Entries of a group list field that must be mappings (`kms: [{arn: ...}]`). */
function entries(c: Checker, group: Obj, key: string, seg: Segment[], known: readonly string[], aliases: Record<string, string> = {}): { e: Obj; seg: Segment[] }[] {
  const list = c.list(group, key, seg) ?? [];
  return list.flatMap((e, i) => {
    const at = [...seg, key, i];
    if (!isObject(e)) {
      c.error(at, `${key} entries must be mappings (${known.join(', ')}), got ${describe(e)}`);
      return [];
    }
    c.fields(e, at, known, aliases);
    return [{ e, seg: at }];
  });
}

function required(c: Checker, e: Obj, key: string, seg: Segment[]): string | undefined {
  const v = c.str(e, key, seg);
  if (!v) {
    if (v === '' || e[key] === undefined || e[key] === null) c.error([...seg, key], `${key} is required`);
    return undefined;
  }
  return v;
}

/** One `key_groups` entry, `merge` flattened first (as sops does); undefined when malformed. */
function checkKeyGroup(c: Checker, raw: unknown, seg: Segment[], depth: number): KeySpec[] | undefined {
  if (!isObject(raw)) {
    c.error(seg, `a key group must be a mapping (${GROUP_FIELDS.join(', ')}), got ${describe(raw)}`);
    return undefined;
  }
  const elsewhere = Object.fromEntries(
    CREATION_RULE_FIELDS.filter((f) => !(GROUP_FIELDS as readonly string[]).includes(f)).map((f) => [f, `\`${f}\` belongs to the creation rule, not to a key group`]),
  );
  c.fields(raw, seg, GROUP_FIELDS, { azure_kv: 'azure_keyvault' }, { ...elsewhere, hc_vault_transit_uri: 'in a key group this list is called `hc_vault`' });
  const keys: KeySpec[] = [];
  (c.list(raw, 'merge', seg) ?? []).forEach((g, i) => {
    if (depth >= MAX_MERGE_DEPTH) c.error([...seg, 'merge', i], `merge is nested more than ${MAX_MERGE_DEPTH} levels deep`);
    else keys.push(...(checkKeyGroup(c, g, [...seg, 'merge', i], depth + 1) ?? []));
  });
  keys.push(...keyItems(c, raw, 'age', seg, true).flatMap((it) => ageKey(c, it)));
  keys.push(...keyItems(c, raw, 'pgp', seg, true).map((it): KeySpec => ({ type: 'pgp', recipient: noSpaces(it.value) })));
  for (const { e, seg: at } of entries(c, raw, 'kms', seg, ['arn', 'role', 'context', 'aws_profile'])) {
    const arn = required(c, e, 'arn', at);
    const role = c.str(e, 'role', at);
    const profile = c.str(e, 'aws_profile', at);
    const context = kmsContext(c, e.context, [...at, 'context']);
    if (arn) keys.push(...kmsKey(c, { value: arn, seg: [...at, 'arn'] }, arn, role, { ...(context ? { context } : {}), ...(profile ? { awsProfile: profile } : {}) }));
  }
  for (const { e, seg: at } of entries(c, raw, 'gcp_kms', seg, ['resource_id'])) {
    const id = required(c, e, 'resource_id', at);
    if (id) keys.push(...gcpKey(c, { value: id, seg: [...at, 'resource_id'] }));
  }
  for (const { e, seg: at } of entries(c, raw, 'hckms', seg, ['key_id'])) {
    const id = required(c, e, 'key_id', at);
    if (id) keys.push(...hckmsKey(c, { value: id.trim(), seg: [...at, 'key_id'] }));
  }
  for (const { e, seg: at } of entries(c, raw, 'azure_keyvault', seg, ['vaultUrl', 'key', 'version'], { vault_url: 'vaultUrl', name: 'key' })) {
    const url = required(c, e, 'vaultUrl', at);
    const name = required(c, e, 'key', at);
    const version = c.str(e, 'version', at);
    if (url && name) keys.push({ type: 'azure_kv', recipient: `${url.replace(/\/+$/, '')}/keys/${name}${version ? `/${version}` : ''}` });
  }
  keys.push(...keyItems(c, raw, 'hc_vault', seg, true).flatMap((it) => vaultKey(c, it)));
  return keys;
}

function kmsContext(c: Checker, raw: unknown, seg: Segment[]): Record<string, string> | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) {
    c.error(seg, `context must be a mapping of strings, got ${describe(raw)}`);
    return undefined;
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v === 'string') out[k] = v;
    else c.error([...seg, k], `KMS context values must be strings, got ${describe(v)}; quote it`);
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

function keyIdentity(k: KeySpec): string {
  const ctx = k.context ? Object.keys(k.context).sort().map((n) => `${n}:${k.context![n]}`).join(',') : '';
  return [k.type, k.recipient, k.role ?? '', ctx, k.awsProfile ?? ''].join('\u0000');
}

/** Drops repeated keys (same type and identity), keeping the first (sops >= 3.9). */
export function dedupeKeys(keys: KeySpec[]): KeySpec[] {
  const seen = new Set<string>();
  return keys.filter((k) => {
    const id = keyIdentity(k);
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
