/**
 * Finds the age identities a user has, the way sops v3.11+ does: every source is read and
 * all identities are combined (sops-format.md §7.2). Everything comes through the
 * {@link KeyContext}; static sources are loaded once per context, command sources once per
 * recipient (they receive `SOPS_AGE_RECIPIENT`).
 *
 * Nothing here ever puts key material in a message: problems name the source and line.
 */
import { join } from 'node:path';
import type { Identity } from 'age-encryption';
import { ageIdentityBytes } from './bech32.js';
import type { KeyContext } from './types.js';
import { DEFAULT_KEY_CMD_TIMEOUT_MS, envTimeoutMs, KEY_CMD_TIMEOUT_ENV } from './limits.js';
import { outsideText } from './sanitize.js';
import { parseSshPrivateKey, parseSshPublicKey, passphraseProtectedIdentity } from './age-ssh.js';

/** An identity string (`AGE-SECRET-KEY-1...`, `AGE-SECRET-KEY-PQ-1...`) or an Identity object. */
export type AgeIdentity = string | Identity;

/** The identities found for one recipient, plus what to tell the user if none fits. */
export interface AgeIdentitySet {
  /** Identities to try, in order. */
  identities: AgeIdentity[];
  /** Each source looked at, with what was found: `SOPS_AGE_KEY_FILE=/x (2 identities)`. */
  searched: string[];
  /** Sources that were set but not usable, skipped lines, ... (no key material). */
  problems: string[];
  /** The identity environment variables that are not set. */
  notSet: string[];
}

/** Parsed keys-file text. */
export interface ParsedAgeKeys {
  identities: string[];
  /** Lines that were skipped (plugin identities). */
  notices: string[];
}

/**
 * Parses a keys file: one identity per line (or several, separated by whitespace, with
 * `multiplePerLine` as for `SOPS_AGE_KEY`); blank lines and `#` lines are ignored.
 * `AGE-PLUGIN-` lines are skipped with a notice. Throws an Error naming `source` and the
 * line number (never the content) for anything else.
 */
export function parseAgeKeys(text: string, source: string, opts: { multiplePerLine?: boolean } = {}): ParsedAgeKeys {
  const out: ParsedAgeKeys = { identities: [], notices: [] };
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    for (const word of opts.multiplePerLine ? line.split(/\s+/) : [line]) {
      if (word.startsWith('AGE-PLUGIN-')) {
        out.notices.push(`${source} line ${i + 1}: age plugin identities (AGE-PLUGIN-...) are not supported, skipped`);
        continue;
      }
      if (!/^AGE-SECRET-KEY-(PQ-)?1\S+$/.test(word)) {
        throw new Error(`${source} line ${i + 1}: not an age identity (expected AGE-SECRET-KEY-1...)`);
      }
      // the checks age-encryption's Decrypter.addIdentity makes, without loading it
      if (!ageIdentityBytes(word, !word.startsWith('AGE-SECRET-KEY-1'))) {
        throw new Error(`${source} line ${i + 1}: malformed age identity (bad length or checksum)`);
      }
      out.identities.push(word);
    }
  });
  return out;
}

/**
 * Splits a command line like a POSIX shell would split words (and as sops does with
 * google/shlex): whitespace separates, `'...'` is literal, `"..."` allows `\"` `\\` `\$`
 * escapes, a backslash outside quotes escapes the next character, `#` starts a comment.
 * Throws on an unterminated quote.
 */
export function splitCommandLine(cmd: string): string[] {
  const words: string[] = [];
  let cur: string | undefined;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i]!;
    if (/\s/.test(c)) {
      if (cur !== undefined) words.push(cur);
      cur = undefined;
    } else if (c === '#' && cur === undefined) {
      break;
    } else if (c === '\\') {
      cur = (cur ?? '') + (cmd[++i] ?? '');
    } else if (c === "'") {
      const end = cmd.indexOf("'", i + 1);
      if (end < 0) throw new Error('unterminated single quote');
      cur = (cur ?? '') + cmd.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      cur = cur ?? '';
      for (i++; ; i++) {
        if (i >= cmd.length) throw new Error('unterminated double quote');
        const d = cmd[i]!;
        if (d === '"') break;
        if (d === '\\' && i + 1 < cmd.length && '"\\$`\n'.includes(cmd[i + 1]!)) cur += cmd[++i];
        else cur += d;
      }
    } else {
      cur = (cur ?? '') + c;
    }
  }
  if (cur !== undefined) words.push(cur);
  return words;
}

/** One source's contribution. `order` fixes where it goes in the combined list. */
interface SourceResult {
  order: number;
  label: string;
  status: string;
  identities: AgeIdentity[];
  /** Tried after every other identity (they throw when they match). */
  last: Identity[];
  problems: string[];
}

const count = (n: number): string => (n === 1 ? '1 identity' : `${n} identities`);
const errMsg = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const decoder = new TextDecoder();

function isEncryptedAgeFile(text: string): boolean {
  return text.startsWith('age-encryption.org/') || text.startsWith('-----BEGIN AGE');
}

/** Turns keys-file bytes into a SourceResult. */
function fromKeysText(order: number, label: string, data: Uint8Array, multiplePerLine: boolean): SourceResult {
  const r: SourceResult = { order, label, status: '', identities: [], last: [], problems: [] };
  const text = decoder.decode(data);
  if (isEncryptedAgeFile(text.trimStart())) {
    r.status = 'encrypted, not supported';
    r.problems.push(`${label} is an age-encrypted (passphrase-protected) keys file, which tsops cannot read; ` +
      `decrypt it on the fly instead, e.g. SOPS_AGE_KEY_CMD='age -d <file>'`);
    return r;
  }
  try {
    const parsed = parseAgeKeys(text, label, { multiplePerLine });
    r.identities.push(...parsed.identities);
    r.problems.push(...parsed.notices);
    r.status = parsed.identities.length ? count(parsed.identities.length) : 'empty';
  } catch (e) {
    r.status = 'unusable';
    r.problems.push(errMsg(e));
  }
  return r;
}

async function readSource(ctx: KeyContext, order: number, label: string, path: string, required: boolean): Promise<SourceResult> {
  try {
    const data = await ctx.readFile(path);
    if (data === undefined) {
      const r: SourceResult = { order, label, status: 'missing', identities: [], last: [], problems: [] };
      if (required) r.problems.push(`${label} does not exist`);
      return r;
    }
    return fromKeysText(order, label, data, false);
  } catch (e) {
    return { order, label, status: 'unreadable', identities: [], last: [], problems: [`could not read ${label}: ${errMsg(e)}`] };
  }
}

/** Runs a key command; returns its stdout or a failed SourceResult. */
async function runCommand(ctx: KeyContext, order: number, name: string, cmd: string, recipient: string): Promise<Uint8Array | SourceResult> {
  const shown = outsideText(cmd, [], 200);
  const label = `${name}=${shown}`;
  const fail = (why: string): SourceResult => ({ order, label, status: 'failed', identities: [], last: [], problems: [`${name} \`${shown}\` ${why}`] });
  let argv: string[];
  try {
    argv = splitCommandLine(cmd);
  } catch (e) {
    return fail(`could not be parsed: ${errMsg(e)}`);
  }
  if (argv.length === 0) return fail('is empty');
  let timeoutMs: number;
  try {
    timeoutMs = envTimeoutMs(ctx.env, KEY_CMD_TIMEOUT_ENV, DEFAULT_KEY_CMD_TIMEOUT_MS);
  } catch (e) {
    return fail(`was not run: ${errMsg(e)}`);
  }
  const started = Date.now();
  const res = await ctx.run(argv[0]!, argv.slice(1), { env: { SOPS_AGE_RECIPIENT: recipient }, timeoutMs });
  if (res.spawnError) return fail(`could not be started: ${outsideText(res.spawnError)}`);
  if (res.code !== 0) {
    // the command's own words, without anything that looks like key material
    const err = outsideText(res.stderr.replace(/\n[^\n]*timed out after \d+ ms$/, '').trim().split('\n').slice(-3).join(' '));
    const how = res.code !== null ? `exited with code ${res.code}`
      : Date.now() - started >= timeoutMs ? `did not finish within ${timeoutMs} ms and was stopped (${KEY_CMD_TIMEOUT_ENV} sets the time allowed)`
        : 'was killed';
    return fail(`${how}${err ? `: ${err}` : ''}`);
  }
  return res.stdout;
}

function fromSshKey(order: number, label: string, data: Uint8Array, pubLine?: string): SourceResult {
  const r: SourceResult = { order, label, status: '', identities: [], last: [], problems: [] };
  try {
    const key = parseSshPrivateKey(data);
    if (key.kind === 'encrypted' && !key.publicKey && pubLine) {
      try {
        key.publicKey = parseSshPublicKey(pubLine);
      } catch {
        // no usable .pub file: the key is only reported as a problem
      }
    }
    if (key.kind === 'plain') {
      r.identities.push(key.identity);
      r.status = key.publicKey.type;
    } else {
      r.status = 'passphrase-protected, not supported';
      if (key.publicKey) r.last.push(passphraseProtectedIdentity(key.publicKey, label));
      r.problems.push(`${label} is a passphrase-protected SSH key, which tsops does not support`);
    }
  } catch (e) {
    r.status = 'unusable';
    r.problems.push(`${label}: ${errMsg(e)}`);
  }
  return r;
}

async function readSshSource(ctx: KeyContext, order: number, label: string, path: string, required: boolean): Promise<SourceResult> {
  try {
    const data = await ctx.readFile(path);
    if (data === undefined) {
      return { order, label, status: 'missing', identities: [], last: [], problems: required ? [`${label} does not exist`] : [] };
    }
    if (!isPemKey(data)) return fromSshKey(order, label, data);
    const pub = await ctx.readFile(`${path}.pub`).catch(() => undefined);
    return fromSshKey(order, label, data, pub && decoder.decode(pub));
  } catch (e) {
    return { order, label, status: 'unreadable', identities: [], last: [], problems: [`could not read ${label}: ${errMsg(e)}`] };
  }
}

/** PEM keys carry no public key when encrypted; sops then reads `<path>.pub`. */
function isPemKey(data: Uint8Array): boolean {
  return /-----BEGIN (RSA |ENCRYPTED )?PRIVATE KEY-----/.test(decoder.decode(data.subarray(0, 64)));
}

const set = (v: string | undefined): v is string => v !== undefined && v !== '';

/** Sources that do not depend on the recipient. */
async function loadStatic(ctx: KeyContext): Promise<SourceResult[]> {
  const env = ctx.env;
  const jobs: Array<Promise<SourceResult> | SourceResult> = [];
  if (set(env.SOPS_AGE_KEY)) jobs.push(fromKeysText(0, 'SOPS_AGE_KEY', new TextEncoder().encode(env.SOPS_AGE_KEY), true));
  if (set(env.SOPS_AGE_KEY_FILE)) {
    jobs.push(readSource(ctx, 1, `SOPS_AGE_KEY_FILE=${env.SOPS_AGE_KEY_FILE}`, env.SOPS_AGE_KEY_FILE, true));
  }
  jobs.push(readSource(ctx, 3, join(ctx.userConfigDir, 'sops', 'age', 'keys.txt'), join(ctx.userConfigDir, 'sops', 'age', 'keys.txt'), false));
  if (set(env.SOPS_AGE_SSH_PRIVATE_KEY_FILE)) {
    const p = env.SOPS_AGE_SSH_PRIVATE_KEY_FILE;
    jobs.push(readSshSource(ctx, 4, `SOPS_AGE_SSH_PRIVATE_KEY_FILE=${p}`, p, true));
  }
  for (const [i, name] of ['id_ed25519', 'id_rsa'].entries()) {
    const p = join(ctx.homeDir, '.ssh', name);
    jobs.push(readSshSource(ctx, 6 + i, p, p, false));
  }
  return Promise.all(jobs);
}

/** Sources that run a command with `SOPS_AGE_RECIPIENT=<recipient>`. */
async function loadForRecipient(ctx: KeyContext, recipient: string): Promise<SourceResult[]> {
  const env = ctx.env;
  const out: SourceResult[] = [];
  if (set(env.SOPS_AGE_KEY_CMD)) {
    const r = await runCommand(ctx, 2, 'SOPS_AGE_KEY_CMD', env.SOPS_AGE_KEY_CMD, recipient);
    out.push(r instanceof Uint8Array ? fromKeysText(2, `SOPS_AGE_KEY_CMD=${outsideText(env.SOPS_AGE_KEY_CMD, [], 200)}`, r, false) : r);
  }
  if (set(env.SOPS_AGE_SSH_PRIVATE_KEY_CMD)) {
    const r = await runCommand(ctx, 5, 'SOPS_AGE_SSH_PRIVATE_KEY_CMD', env.SOPS_AGE_SSH_PRIVATE_KEY_CMD, recipient);
    out.push(r instanceof Uint8Array ? fromSshKey(5, `SOPS_AGE_SSH_PRIVATE_KEY_CMD=${outsideText(env.SOPS_AGE_SSH_PRIVATE_KEY_CMD, [], 200)}`, r) : r);
  }
  return out;
}

function memo<T>(ctx: KeyContext, key: string, make: () => Promise<T>): Promise<T> {
  let p = ctx.cache.get(key) as Promise<T> | undefined;
  if (!p) {
    p = make();
    ctx.cache.set(key, p);
  }
  return p;
}

/** The environment variables {@link loadAgeIdentities} reads. */
export const AGE_IDENTITY_ENV = [
  'SOPS_AGE_KEY', 'SOPS_AGE_KEY_FILE', 'SOPS_AGE_KEY_CMD', 'SOPS_AGE_SSH_PRIVATE_KEY_FILE', 'SOPS_AGE_SSH_PRIVATE_KEY_CMD',
] as const;

/**
 * Loads and combines every age identity source for decrypting `recipient`'s entry:
 * `SOPS_AGE_KEY`, `SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY_CMD`, `<userConfigDir>/sops/age/keys.txt`,
 * `SOPS_AGE_SSH_PRIVATE_KEY_FILE`, `SOPS_AGE_SSH_PRIVATE_KEY_CMD`, `~/.ssh/id_ed25519`,
 * `~/.ssh/id_rsa`. Never throws for a bad source: it is listed in `problems`.
 */
export async function loadAgeIdentities(ctx: KeyContext, recipient: string): Promise<AgeIdentitySet> {
  const [fixed, dynamic] = await Promise.all([
    memo(ctx, 'age:identities', () => loadStatic(ctx)),
    memo(ctx, `age:identities:${recipient}`, () => loadForRecipient(ctx, recipient)),
  ]);
  const all = [...fixed, ...dynamic].sort((a, b) => a.order - b.order);
  return {
    identities: [...all.flatMap((s) => s.identities), ...all.flatMap((s) => s.last)],
    searched: all.map((s) => `${s.label} (${s.status})`),
    problems: all.flatMap((s) => s.problems),
    notSet: AGE_IDENTITY_ENV.filter((v) => !set(ctx.env[v])),
  };
}
