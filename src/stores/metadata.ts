/**
 * The `sops` metadata block: read from the generic tree every store hands over (any sops
 * version, 1.x through 3.13, typed or all-strings), written as sops 3.13 writes it (every
 * mapping sorted by key, empty lists omitted). See sops-format.md §8.6.
 */
import { SopsError } from '../errors.js';
import { canonicalTime } from '../crypto/scalar.js';
import { keyFromMetadata, KEY_TYPES } from '../keys/registry.js';
import type { MasterKey } from '../keys/types.js';
import { RULE_FIELDS, type EncryptionRule, type RuleField } from '../tree/select.js';
import { entry, map, type MapNode, type Node } from '../tree/types.js';
import { formatGoFloat } from '../crypto/scalar.js';

/** The version tsops writes: the sops release whose layout it reproduces. */
export const SOPS_FORMAT_VERSION = '3.13.2';

export interface Metadata {
  /** Key groups; one group = every key wraps the whole data key. */
  keyGroups: MasterKey[][];
  /** Groups needed to recover the data key (several groups only). */
  shamirThreshold?: number;
  /** RFC 3339 as stored. */
  lastModified: string;
  /** The encrypted MAC, `ENC[...]`; undefined only in ancient or hand-made files. */
  mac?: string;
  /** The selection rule; undefined for the binary store (and for files that have none). */
  rule?: EncryptionRule;
  macOnlyEncrypted: boolean;
  version: string;
}

function bad(field: string, why: string): SopsError {
  return new SopsError(`invalid sops metadata: ${field} ${why}`, 1, {
    hint: 'the metadata block was edited by hand or is corrupt; restore the file from version control',
  });
}

/** Text of a scalar metadata value, accepting the typed forms older versions wrote. */
function scalarText(n: Node | undefined, field: string): string | undefined {
  if (!n || n.kind === 'null') return undefined;
  switch (n.kind) {
    case 'str':
    case 'time':
      return n.value;
    case 'int':
      return n.value.toString();
    case 'float':
      return formatGoFloat(n.value);
    case 'bool':
      return n.value ? 'true' : 'false';
    default:
      throw bad(field, `must be a single value, not a ${n.kind === 'map' ? 'mapping' : n.kind === 'seq' ? 'list' : n.kind}`);
  }
}

function field(m: MapNode, key: string): Node | undefined {
  for (const it of m.items) if (it.kind === 'entry' && it.key === key) return it.value;
  return undefined;
}

function keyList(n: Node | undefined, where: string, type: string): MasterKey[] {
  if (!n || n.kind === 'null') return [];
  if (n.kind !== 'seq') throw bad(where, 'must be a list of key entries');
  return n.items.flatMap((it, i) => {
    if (it.kind === 'comment') return [];
    if (it.kind !== 'map') throw bad(`${where}[${i}]`, 'must be a mapping');
    try {
      return [keyFromMetadata(type, it)];
    } catch (e) {
      if (e instanceof SopsError) throw bad(`${where}[${i}]`, e.message);
      throw e;
    }
  });
}

function groupFrom(m: MapNode, prefix: string): MasterKey[] {
  return KEY_TYPES.flatMap((t) => keyList(field(m, t), `${prefix}${t}`, t));
}

/** Parses the metadata tree. Throws {@link SopsError} (exit 1) naming the bad field. */
export function readMetadata(m: MapNode): Metadata {
  const topGroup = groupFrom(m, '');
  let keyGroups: MasterKey[][];
  if (topGroup.length > 0) keyGroups = [topGroup];
  else {
    const kg = field(m, 'key_groups');
    if (!kg || kg.kind === 'null') keyGroups = [];
    else if (kg.kind !== 'seq') throw bad('key_groups', 'must be a list');
    else
      keyGroups = kg.items.flatMap((g, i) => {
        if (g.kind === 'comment') return [];
        if (g.kind !== 'map') throw bad(`key_groups[${i}]`, 'must be a mapping');
        return [groupFrom(g, `key_groups[${i}].`)];
      });
  }

  const lastModified = scalarText(field(m, 'lastmodified'), 'lastmodified');
  if (lastModified === undefined) throw bad('lastmodified', 'is missing');
  if (canonicalTime(lastModified) === undefined) throw bad('lastmodified', `is not an RFC 3339 timestamp`);

  const version = scalarText(field(m, 'version'), 'version');
  if (version === undefined || version === '') throw bad('version', 'is missing');
  if (!/^v?\d+\.\d+\.\d+/.test(version) && !version.startsWith('1.')) throw bad('version', `"${version}" is not a semantic version`);

  let rule: EncryptionRule | undefined;
  for (const f of RULE_FIELDS) {
    const v = scalarText(field(m, f), f);
    if (v === undefined || v === '') continue;
    if (rule) throw bad(f, `cannot be used together with ${rule.field}; only one encryption rule is allowed`);
    rule = { field: f as RuleField, value: v };
  }

  let shamirThreshold: number | undefined;
  const st = scalarText(field(m, 'shamir_threshold'), 'shamir_threshold');
  if (st !== undefined && st !== '') {
    const n = Number(st);
    if (!Number.isInteger(n) || n < 0) throw bad('shamir_threshold', `"${st}" is not a non-negative integer`);
    if (n > 0) shamirThreshold = n;
  }

  const moe = scalarText(field(m, 'mac_only_encrypted'), 'mac_only_encrypted');
  const macOnlyEncrypted = moe !== undefined && ['1', 't', 'T', 'TRUE', 'true', 'True'].includes(moe);

  const mac = scalarText(field(m, 'mac'), 'mac');
  return {
    keyGroups,
    ...(shamirThreshold !== undefined ? { shamirThreshold } : {}),
    lastModified,
    ...(mac ? { mac } : {}),
    ...(rule ? { rule } : {}),
    macOnlyEncrypted,
    version,
  };
}

/** Sorts every mapping by key, recursively (sops 3.13 writes metadata that way). */
function sorted(n: Node): Node {
  if (n.kind === 'map') {
    const items = n.items
      .filter((i) => i.kind === 'entry')
      .map((i) => entry(i.key, sorted(i.value)))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return map(items);
  }
  if (n.kind === 'seq') return { kind: 'seq', items: n.items.map((i) => (i.kind === 'comment' ? i : sorted(i))) };
  return n;
}

function groupEntries(group: MasterKey[]): Array<ReturnType<typeof entry>> {
  const byType = new Map<string, Node[]>();
  for (const k of group) {
    const list = byType.get(k.type) ?? [];
    list.push(k.toMetadata());
    byType.set(k.type, list);
  }
  return [...byType].map(([t, list]) => entry(t, { kind: 'seq', items: list }));
}

export interface WriteMetadataOptions {
  /** The binary store writes no encryption rule and no `mac_only_encrypted` (v3.11+). */
  singleValueStore?: boolean;
}

/** The metadata tree as sops 3.13 writes it. */
export function writeMetadata(md: Metadata, opts: WriteMetadataOptions = {}): MapNode {
  const out = map();
  if (md.keyGroups.length === 1) out.items.push(...groupEntries(md.keyGroups[0]!));
  else if (md.keyGroups.length > 1) {
    out.items.push(entry('key_groups', { kind: 'seq', items: md.keyGroups.map((g) => map(groupEntries(g))) }));
  }
  out.items.push(entry('lastmodified', { kind: 'str', value: md.lastModified }));
  if (md.mac) out.items.push(entry('mac', { kind: 'str', value: md.mac }));
  if (!opts.singleValueStore) {
    if (md.macOnlyEncrypted) out.items.push(entry('mac_only_encrypted', { kind: 'bool', value: true }));
    if (md.rule) out.items.push(entry(md.rule.field, { kind: 'str', value: md.rule.value }));
  }
  if (md.shamirThreshold && md.keyGroups.length > 1) {
    out.items.push(entry('shamir_threshold', { kind: 'int', value: BigInt(md.shamirThreshold) }));
  }
  out.items.push(entry('version', { kind: 'str', value: md.version }));
  return sorted(out) as MapNode;
}
