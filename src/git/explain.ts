/**
 * `tsops config explain FILE`: which `.sops.yaml` applies, which creation rule matches the file
 * (and why each earlier rule does not), who can decrypt, and which values the rule encrypts.
 */
import type { MatchExplanation, ResolvedRule } from '../config/index.js';
import { DataKeyError, isSopsError } from '../errors.js';
import type { KeyContext } from '../keys/types.js';
import { storeFor, type FormatName } from '../stores/index.js';
import { DEFAULT_RULE, type EncryptionRule } from '../tree/select.js';
import type { MapNode } from '../tree/types.js';
import { hasSopsMetadata, loadAny } from './load-any.js';
import type { ProjectRules } from './project.js';
import { isEncryptable, selectLeaves } from './selection.js';
import { formatKeyPath } from './tree-slots.js';
import { loadEncrypted } from '../engine.js';

/** Inputs of {@link explainFile}. */
export interface ExplainInputs {
  rules: ProjectRules;
  /** The working directory (for the "searched from" line). */
  cwd: string;
  /** Absolute path of the file. */
  absFile: string;
  /** The file's content; undefined when it does not exist (only the rule is explained). */
  data?: Uint8Array;
  format: FormatName;
  keyContext: KeyContext;
  decryptionOrder?: string;
}

/** The report, and whether a rule matched. */
export interface Explanation {
  text: string;
  matched: boolean;
}

const describeRule = (r: EncryptionRule | undefined) => (r ? `${r.field} ${JSON.stringify(r.value)}` : 'the default: every value except keys ending in _unencrypted (unencrypted_suffix "_unencrypted")');

function keyLines(rule: ResolvedRule): string[] {
  const groups = rule.keyGroups;
  if (groups.length === 0 || groups.every((g) => g.length === 0)) return ['recipients: none: `tsops encrypt` needs --age/--pgp/--kms for this file'];
  const lines = [
    groups.length === 1
      ? 'recipients: 1 key group: any one of its keys can decrypt'
      : `recipients: ${groups.length} key groups: ${rule.shamirThreshold && rule.shamirThreshold > 0 ? rule.shamirThreshold : groups.length} of them are needed (Shamir)`,
  ];
  groups.forEach((g, i) => {
    lines.push(`  group ${i + 1}:`);
    const width = Math.max(...g.map((k) => k.type.length));
    for (const k of g) {
      const extra = [k.role ? `role ${k.role}` : '', k.context ? `context ${Object.entries(k.context).map(([a, b]) => `${a}:${b}`).join(',')}` : '', k.awsProfile ? `profile ${k.awsProfile}` : ''].filter(Boolean);
      lines.push(`    ${k.type.padEnd(width)}  ${k.recipient}${extra.length ? ` (${extra.join(', ')})` : ''}`);
    }
  });
  return lines;
}

function valueLines(documents: readonly MapNode[], rule: EncryptionRule | undefined, from: string): string[] {
  const leaves = selectLeaves(documents, rule);
  if (leaves.length === 0) return [`values (${from}): none`];
  const multi = documents.length > 1;
  const lines = [`values (${from}):`];
  for (const l of leaves) {
    const where = (multi ? `document ${l.document + 1}: ` : '') + formatKeyPath(l.path);
    if (!l.selected) lines.push(`  plaintext  ${where}`);
    else if (isEncryptable(l.leaf)) lines.push(`  encrypted  ${where}`);
    else lines.push(`  plaintext  ${where} (${l.leaf.kind === 'null' ? 'null' : 'empty'}: nothing to encrypt)`);
  }
  const enc = leaves.filter((l) => l.selected && isEncryptable(l.leaf)).length;
  lines.push(`${enc} of ${leaves.length} values would be encrypted`);
  return lines;
}

async function fileValues(inp: ExplainInputs, rule: ResolvedRule): Promise<string[]> {
  if (!inp.data) return ['values: the file does not exist yet; the rule above would apply to it'];
  const r = rule.encryptionRule;
  if (inp.format === 'binary') return ['values: a binary file is one value, always encrypted'];
  if (!hasSopsMetadata(inp.data, inp.format)) {
    try {
      const plain = await loadAny(inp.data, { name: inp.absFile, format: inp.format });
      return valueLines(plain.documents, r, 'the file is plaintext');
    } catch (e) {
      return [`values: cannot be listed: ${isSopsError(e) ? e.message : String(e)}`];
    }
  }
  const lines: string[] = [];
  let documents: MapNode[] | undefined;
  let from = '';
  try {
    const dec = await loadAny(inp.data, { name: inp.absFile, format: inp.format, keyContext: inp.keyContext, ...(inp.decryptionOrder ? { decryptionOrder: inp.decryptionOrder } : {}) });
    documents = dec.documents;
    from = 'the file is encrypted; decrypted with a key at hand';
    const own = dec.decrypted!.metadata.rule;
    if (JSON.stringify(own ?? DEFAULT_RULE) !== JSON.stringify(r ?? DEFAULT_RULE)) lines.push(`note: the file itself was encrypted with ${describeRule(own)}; re-encrypting it would follow the rule above`);
  } catch (e) {
    if (!(e instanceof DataKeyError)) return [`values: cannot be listed: ${isSopsError(e) ? e.message : String(e)}`];
    if (r && r.field.includes('comment')) return ['values: cannot be listed: the rule depends on comments, which are encrypted, and no key at hand can decrypt the file'];
    // key names are in the clear: the selection can be computed without decrypting
    documents = loadEncrypted(inp.data, storeFor(inp.format), inp.absFile).documents;
    from = 'the file is encrypted and no key at hand decrypts it; from its key names';
  }
  return [...lines, ...valueLines(documents, r, from)];
}

function sourceLine(inp: ExplainInputs): string {
  const p = inp.rules.path!;
  switch (inp.rules.source) {
    case 'flag':
      return `config: ${p} (from --config)`;
    case 'env':
      return `config: ${p} (from SOPS_CONFIG)`;
    default:
      return `config: ${p} (found searching upward from ${inp.cwd})`;
  }
}

/** Explains which rule applies to a file and what it does. */
export async function explainFile(inp: ExplainInputs): Promise<Explanation> {
  const lines = [sourceLine(inp)];
  for (const w of inp.rules.loaded.warnings) lines.push(`warning: ${w}`);
  const ex: MatchExplanation | undefined = inp.rules.explain(inp.absFile);
  if (!ex) {
    lines.push('creation rules: none (the config has no creation_rules): `tsops encrypt` needs --age/--pgp/--kms');
    return { text: lines.join('\n') + '\n', matched: false };
  }
  lines.push(`file: ${inp.absFile}`, `  matched as \`${ex.relativePath}\` (relative to ${ex.configDir}, with / separators)`);
  lines.push('creation rules, in order:');
  for (const m of ex.misses) lines.push(`  creation_rules[${m.ruleIndex}]: no: ${m.reason}`);
  if (!ex.rule) {
    lines.push('no creation rule matches this file: `tsops encrypt` refuses it unless --age/--pgp/--kms are given');
    return { text: lines.join('\n') + '\n', matched: false };
  }
  const rule = ex.rule;
  lines.push(`  creation_rules[${rule.ruleIndex}]: MATCHES: ${rule.pathRegex === undefined ? 'it has no path_regex, so it matches every file' : `path_regex \`${rule.pathRegex}\` matches \`${ex.relativePath}\``}`);
  lines.push(...keyLines(rule));
  lines.push(`encryption rule: ${describeRule(rule.encryptionRule)}`);
  lines.push(`mac_only_encrypted: ${rule.macOnlyEncrypted}`);
  lines.push(...(await fileValues(inp, rule)));
  return { text: lines.join('\n') + '\n', matched: true };
}
