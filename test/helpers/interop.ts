/**
 * Shared pieces of the oracle interop tests (test/interop/oracle-*.test.ts): age keys and key
 * contexts that never see the user's own keys, data normalization for comparing what the sops
 * 3.9.2 oracle prints with what tsops decrypts, and tampering of encrypted files.
 */
import type { ExecutionContext } from 'ava';
import { parse as parseYaml } from 'yaml';
import { decryptTree, encrypt, generateAgeIdentity, isSopsError, makeKeyContext, toJS, type EncryptOptions, type KeyContext } from '../../src/index.js';
import type { FormatName } from '../../src/stores/types.js';
import { runOracle, type OracleResult } from './oracle.js';

export interface AgeKey {
  identity: string;
  recipient: string;
}

/** A key context that knows only the given age identities (no home dir, no ssh keys). */
export function ageContext(...identities: string[]): KeyContext {
  return makeKeyContext({ env: { SOPS_AGE_KEY: identities.join('\n') }, homeDir: '/nonexistent-tsops-home', userConfigDir: '/nonexistent-tsops-home/.config' });
}

let shared: Promise<AgeKey> | undefined;
/** One fresh age identity per test process. */
export function sharedAgeKey(): Promise<AgeKey> {
  shared ??= generateAgeIdentity();
  return shared;
}

/**
 * A value in comparable form: every integral number (int or float, `-0` included) becomes a
 * BigInt, mappings get sorted keys. sops's and go-yaml's own output collapse integral floats
 * (`1.0` -> `1`) and the oracle sorts keys, so this is the level at which data can be compared.
 */
export function norm(v: unknown): unknown {
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map(norm);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('hex');
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = norm((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/** {@link norm} after JSON's float64 numbers: BigInts above 2^53 lose precision as in Go's float64. */
export function normJson(v: unknown): unknown {
  if (typeof v === 'bigint') return norm(Number(v));
  if (Array.isArray(v)) return v.map(normJson);
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = normJson((v as Record<string, unknown>)[k]);
    return out;
  }
  return norm(v);
}

/** The oracle's YAML output (yaml.v3 re-serialized) as normalized data; `!!binary` -> bytes. */
export function oracleYamlData(stdout: string): unknown {
  return norm(parseYaml(stdout, { intAsBigInt: true, customTags: ['binary'], merge: false }));
}

/** What tsops itself decrypts an encrypted text to, as normalized data (first document). */
export async function tsopsData(enc: string | Uint8Array, format: FormatName, ctx: KeyContext): Promise<unknown> {
  const res = await decryptTree(enc, { inputType: format, keyContext: ctx });
  return norm(toJS(res.documents[0]!));
}

/** Encrypts for one age key (no oracle run). */
export async function encryptFor(
  plain: string | Uint8Array,
  format: FormatName,
  key: AgeKey,
  opts: Omit<EncryptOptions, 'inputType' | 'keyContext'> = {},
): Promise<{ enc: string; ctx: KeyContext }> {
  const ctx = ageContext(key.identity);
  return { enc: await encrypt(plain, { inputType: format, age: [key.recipient], keyContext: ctx, ...opts }), ctx };
}

/** Encrypts for one age key and runs the oracle on the result with that key. */
export async function encryptAndOracle(
  plain: string | Uint8Array,
  format: FormatName,
  key: AgeKey,
  opts: Omit<EncryptOptions, 'inputType' | 'keyContext'> = {},
): Promise<{ enc: string; oracle: OracleResult; ctx: KeyContext }> {
  const { enc, ctx } = await encryptFor(plain, format, key, opts);
  const oracle = await runOracle(enc, { format, ageKey: key.identity });
  return { enc, oracle, ctx };
}

/** Asserts that the oracle decrypted and verified the MAC (exit 0), showing its error otherwise. */
export function assertOracleOk(t: ExecutionContext, r: OracleResult, what = 'the file'): void {
  t.is(r.code, 0, `sops 3.9.2 rejected ${what}:\n${r.stderr}`);
}

/** The exit code tsops gives when decrypting (0 when it succeeds). */
export async function tsopsDecryptCode(enc: string, format: FormatName, ctx: KeyContext): Promise<{ code: number; message: string }> {
  try {
    await decryptTree(enc, { inputType: format, keyContext: ctx });
    return { code: 0, message: '' };
  } catch (e) {
    if (isSopsError(e)) return { code: e.exitCode, message: e.message };
    throw e;
  }
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * Changes the first base64 character of the `data:` of the `n`-th `ENC[...]` value (0-based,
 * in file order, so the data values come before the metadata's MAC). The first character
 * carries six real bits, so the ciphertext really changes.
 */
export function flipData(enc: string, n = 0): string {
  const re = /ENC\[AES256_GCM,data:/g;
  let m: RegExpExecArray | null = null;
  for (let i = 0; i <= n; i++) {
    m = re.exec(enc);
    if (!m) throw new Error(`no ENC value #${n} in the file`);
  }
  const pos = m!.index + m![0].length;
  const c = enc[pos]!;
  const other = B64[(B64.indexOf(c) + 1) % 64]!;
  return enc.slice(0, pos) + other + enc.slice(pos + 1);
}

/** Replaces exactly one occurrence of `from` (throws unless it occurs once). */
export function replaceOnce(text: string, from: string | RegExp, to: string): string {
  const re = typeof from === 'string' ? new RegExp(from.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g') : new RegExp(from.source, from.flags.includes('g') ? from.flags : from.flags + 'g');
  const hits = text.match(re)?.length ?? 0;
  if (hits !== 1) throw new Error(`expected one occurrence of ${String(from)}, found ${hits}`);
  return text.replace(re, to);
}
