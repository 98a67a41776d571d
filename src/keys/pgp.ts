/**
 * PGP master keys: the `sops.pgp[]` metadata entries (spec §7.1).
 *
 * Like sops (`pgp/keysource.go`), the data key is wrapped and unwrapped by the `gpg` binary
 * (`SOPS_GPG_EXEC`, default `gpg`), so keys in a GnuPG 2.x keybox, smartcards and gpg-agent
 * passphrase caching all work. When no gpg binary can be started at all, a built-in OpenPGP
 * implementation takes over (see `pgp-openpgp.ts`): it reads the legacy keyrings
 * `$GNUPGHOME/pubring.gpg` / `secring.gpg` as sops's Go code does, plus the armored or binary
 * key files listed in `TSOPS_PGP_PUBLIC_KEY_FILE` / `TSOPS_PGP_PRIVATE_KEY_FILE`
 * (`:`-separated paths; tsops-only variables, sops does not know them). When one of those two
 * variables is set, the built-in implementation is also tried after gpg ran and failed.
 *
 * Metadata fields: `fp` (fingerprint as configured), `created_at` (RFC 3339, UTC, seconds;
 * required) and `enc` (ASCII-armored OpenPGP message). Unknown extra fields are kept.
 */
import { ExitCode, SopsError } from '../errors.js';
import { clone, entry, getEntry, map, str, type Entry, type MapNode, type Node } from '../tree/types.js';
import { dataKeySpellings, outsideText } from './sanitize.js';
import { envTimeoutMs, GPG_TIMEOUT_ENV } from './limits.js';
import { KeyUnavailableError, type KeyContext, type KeyKind, type MasterKey, type RunResult } from './types.js';

/** The metadata list name. */
export const PGP_TYPE = 'pgp';
/** How long one gpg call may take (it may wait for a passphrase prompt) before it is killed. */
export const DEFAULT_GPG_TIMEOUT_MS = 120_000;
/** Environment variable naming the gpg binary (as in sops). */
export const GPG_EXEC_ENV = 'SOPS_GPG_EXEC';

const KNOWN_FIELDS = new Set(['fp', 'created_at', 'enc']);
const ARMOR_BEGIN = '-----BEGIN PGP MESSAGE-----';

/** Options of {@link createPgpKind}. */
export interface PgpKindOptions {
  /** Upper bound for one gpg call, in milliseconds. Default {@link DEFAULT_GPG_TIMEOUT_MS}. */
  gpgTimeoutMs?: number;
}

/** The gpg program to run: `SOPS_GPG_EXEC` when set and non-empty, else `gpg`. */
export function gpgBinary(env: KeyContext['env']): string {
  return env[GPG_EXEC_ENV] || 'gpg';
}

/** The GnuPG home: `$GNUPGHOME`, falling back to `~/.gnupg`. */
export function gnupgHome(ctx: Pick<KeyContext, 'env' | 'homeDir'>): string {
  const h = ctx.env.GNUPGHOME;
  if (h) return h;
  return ctx.homeDir.replace(/\/+$/, '') + '/.gnupg';
}

/**
 * The `--trusted-key` argument sops passes: the last 16 characters of the fingerprint, or the
 * last 17 (16 hex digits plus the `!`) when it ends with `!`. Shorter input is returned as is.
 */
export function shortenFingerprint(fp: string): string {
  const n = fp.endsWith('!') ? 17 : 16;
  return fp.length > n ? fp.slice(fp.length - n) : fp;
}

/** Formats a date as sops writes `created_at`: RFC 3339, UTC, whole seconds (`...T22:45:53Z`). */
export function formatCreatedAt(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$/;

/**
 * Parses an RFC 3339 timestamp the way Go's `time.Parse(time.RFC3339, s)` accepts it
 * (fractional seconds and numeric offsets allowed). Returns undefined when it does not parse.
 */
export function parseCreatedAt(s: string): Date | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const [y, mo, d, h, mi, se] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const daysInMonth = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth || h > 23 || mi > 59 || se > 59) return undefined;
  let offsetMin = 0;
  if (m[8] !== 'Z') {
    const oh = Number(m[9]);
    const om = Number(m[10]);
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (oh * 60 + om) * (m[8]!.startsWith('-') ? -1 : 1);
  }
  const ms = m[7] ? Math.floor(Number('0' + m[7]) * 1000) : 0;
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, se, ms);
  return new Date(t.getTime() - offsetMin * 60_000);
}

/**
 * The text of a metadata scalar of a `kind` key entry, decoded leniently as sops's weakly typed
 * decoder (mapstructure) does: numbers as text, booleans as 1/0, null as absent.
 */
export function scalarText(n: Node, field: string, kind = 'pgp'): string | undefined {
  switch (n.kind) {
    case 'str':
    case 'time':
      return n.value;
    case 'int':
      return n.value.toString();
    case 'float':
      return String(n.value);
    case 'bool':
      return n.value ? '1' : '0';
    case 'null':
      return undefined;
    default:
      throw new SopsError(`${kind} key metadata: field '${field}' must be a string, got a ${n.kind}`, ExitCode.Generic, {
        hint: 'the sops metadata of this file is damaged; restore it from version control',
      });
  }
}

/** Picks gpg's stderr lines that say what went wrong (drops progress and trust-db chatter). */
export function gpgProblem(stderr: string): string {
  const noise = /^gpg: (encrypted with |checking the trustdb|marginals needed|depth: |key [0-9A-F]+ marked as ultimately trusted|keybox .* created|.*trustdb created|next trustdb check|using pgp trust model)/;
  const lines = stderr
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '' && !/^\s/.test(l) && !noise.test(l))
    .map((l) => l.trim());
  return lines.join('; ');
}

function passphraseTrouble(stderr: string): boolean {
  return /Inappropriate ioctl for device|No pinentry|Operation cancelled|Timeout|cannot open '\/dev\/tty'/i.test(stderr);
}

const duration = (ms: number): string => (ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`);

/** Why a gpg call failed, from its stderr: printable, bounded, without the given secrets or key material. */
function describeFailure(bin: string, r: RunResult, timeoutMs: number, secrets: readonly string[] = []): string {
  if (r.code === null || r.spawnError !== undefined) {
    return `${bin} did not finish within ${duration(timeoutMs)} and was stopped (was it waiting for a passphrase? ${GPG_TIMEOUT_ENV} sets the time allowed)`;
  }
  return outsideText(gpgProblem(r.stderr), secrets, 500) || `${bin} exited with code ${r.code}`;
}

/**
 * gpg could not be started at all. A `spawnError` that reports a timeout (as some run
 * implementations do) means gpg did start.
 */
function notStarted(r: RunResult): boolean {
  return r.spawnError !== undefined && !/timed? ?out/i.test(r.spawnError);
}

function fallbackConfigured(env: KeyContext['env']): boolean {
  return !!(env.TSOPS_PGP_PRIVATE_KEY_FILE || env.TSOPS_PGP_PUBLIC_KEY_FILE);
}

function loadFallback(): Promise<typeof import('./pgp-openpgp.js')> {
  return import('./pgp-openpgp.js');
}

/** One `sops.pgp[]` entry. Build it with {@link pgpKind} (`fromMetadata` / `fromRecipient`). */
export class PgpMasterKey implements MasterKey {
  readonly type = PGP_TYPE;

  /** @internal use {@link createPgpKind}'s `fromMetadata` / `fromRecipient`. */
  constructor(
    /** The fingerprint as configured (spaces removed, case kept, optional trailing `!`). */
    readonly fp: string,
    public enc: string,
    private readonly createdAt: Date,
    private readonly extra: Entry[],
    private readonly timeoutMs: number,
  ) {}

  get id(): string {
    return this.fp;
  }

  /** The bound for one gpg call: {@link GPG_TIMEOUT_ENV} when set, else the kind's. */
  private timeout(ctx: KeyContext): number {
    return envTimeoutMs(ctx.env, GPG_TIMEOUT_ENV, this.timeoutMs);
  }

  private homeArgs(ctx: KeyContext): string[] {
    return ctx.env.GNUPGHOME ? ['--homedir', ctx.env.GNUPGHOME] : [];
  }

  async encrypt(dataKey: Uint8Array, ctx: KeyContext): Promise<void> {
    const bin = gpgBinary(ctx.env);
    let timeoutMs: number;
    try {
      timeoutMs = this.timeout(ctx);
    } catch (e) {
      throw new SopsError(`could not encrypt the data key with PGP key ${this.fp}: ${(e as Error).message}`, ExitCode.Generic);
    }
    const args = [
      ...this.homeArgs(ctx),
      '--no-default-recipient', '--yes', '--encrypt', '-a',
      '-r', this.fp,
      '--trusted-key', shortenFingerprint(this.fp),
      '--no-encrypt-to',
    ];
    const r = await ctx.run(bin, args, { input: dataKey, timeoutMs });
    let reason: string;
    let hint: string;
    const missing = notStarted(r);
    if (r.spawnError === undefined && r.code === 0) {
      const out = new TextDecoder().decode(r.stdout).trim();
      if (out.startsWith(ARMOR_BEGIN)) {
        this.enc = out;
        return;
      }
      reason = `${bin} printed no armored OpenPGP message`;
      hint = `check that ${bin} is GnuPG (${GPG_EXEC_ENV})`;
    } else if (missing) {
      reason = `${bin} could not be started (${r.spawnError})`;
      hint = `install GnuPG or set ${GPG_EXEC_ENV} to its path; without gpg, tsops reads public keys from $GNUPGHOME/pubring.gpg and TSOPS_PGP_PUBLIC_KEY_FILE`;
    } else {
      // a broken gpg (or wrapper) may echo its input: never pass the data key on
      reason = describeFailure(bin, r, timeoutMs, [...dataKeySpellings(dataKey), new TextDecoder().decode(dataKey)]);
      hint = /No public key|not found/i.test(r.stderr)
        ? `import the public key with gpg --import, or check the fingerprint (gpg --list-keys ${this.fp})`
        : /Unusable|expired|revoked/i.test(r.stderr)
          ? `the key is expired, revoked or cannot encrypt; check gpg --list-keys ${this.fp}, or extend its expiry`
          : `check gpg --list-keys ${this.fp}`;
    }
    if (missing || fallbackConfigured(ctx.env)) {
      const fb = await (await loadFallback()).encryptWithOpenPgp(this.fp, dataKey, ctx, gnupgHome(ctx));
      if (fb.ok) {
        this.enc = fb.value;
        return;
      }
      reason += `; built-in OpenPGP: ${fb.reason}`;
    }
    throw new SopsError(`could not encrypt the data key with PGP key ${this.fp}: ${reason}`, ExitCode.Generic, { hint });
  }

  async decrypt(ctx: KeyContext): Promise<Uint8Array> {
    if (this.enc.trim() === '') throw new KeyUnavailableError('the pgp entry has no encrypted data key (enc is empty)');
    const bin = gpgBinary(ctx.env);
    const timeoutMs = this.timeout(ctx);
    const r = await ctx.run(bin, [...this.homeArgs(ctx), '-d'], { input: this.enc, timeoutMs });
    const missing = notStarted(r);
    let reason: string;
    if (missing) {
      reason = `${bin} could not be started (${r.spawnError})`;
    } else if (r.spawnError === undefined && r.code === 0 && r.stdout.length > 0) {
      return r.stdout;
    } else if (r.spawnError === undefined && r.code === 0) {
      reason = `${bin} returned zero bytes (an old gpg cannot read AEAD-encrypted data; upgrade GnuPG)`;
    } else {
      reason = describeFailure(bin, r, timeoutMs);
      if (r.code !== null && r.spawnError === undefined && passphraseTrouble(r.stderr)) {
        reason += ' (the secret key needs a passphrase and gpg-agent could not ask for it: run from a terminal with GPG_TTY=$(tty), or unlock the key in gpg-agent first)';
      }
    }
    if (missing || fallbackConfigured(ctx.env)) {
      const fb = await (await loadFallback()).decryptWithOpenPgp(this.enc, ctx, gnupgHome(ctx));
      if (fb.ok) return fb.value;
      reason += `; built-in OpenPGP: ${fb.reason}`;
    }
    throw new KeyUnavailableError(reason);
  }

  toMetadata(): MapNode {
    return map([
      entry('created_at', str(formatCreatedAt(this.createdAt))),
      entry('enc', str(this.enc)),
      entry('fp', str(this.fp)),
      ...this.extra.map((e) => entry(e.key, clone(e.value))),
    ]);
  }
}

/** A master key entry of the metadata, read the way every key kind needs it. */
export interface KeyEntryFields {
  /** A text field, undefined when absent. */
  field(name: string): string | undefined;
  /** `created_at` as written and as a time (checked: present and RFC 3339). */
  createdText: string;
  created: Date;
  /** Fields this tsops does not know, kept verbatim. */
  extra: Entry[];
}

/** Reads the fields of one `kind` entry of the metadata, with sops's errors for `created_at`. */
export function readKeyEntry(m: MapNode, kind: string, known: ReadonlySet<string>): KeyEntryFields {
  const field = (name: string): string | undefined => {
    const e = getEntry(m, name);
    return e ? scalarText(e.value, name, kind) : undefined;
  };
  const createdText = field('created_at');
  if (createdText === undefined) {
    throw new SopsError(`${kind} key metadata: field 'created_at' is missing`, ExitCode.Generic, {
      hint: `every ${kind} entry needs created_at (RFC 3339, e.g. 2019-12-10T22:45:53Z)`,
    });
  }
  const created = parseCreatedAt(createdText);
  if (!created) {
    throw new SopsError(`${kind} key metadata: field 'created_at' is not an RFC 3339 time: '${createdText}'`, ExitCode.Generic, {
      hint: 'use the form 2019-12-10T22:45:53Z',
    });
  }
  const extra = m.items.filter((it): it is Entry => it.kind === 'entry' && !known.has(it.key)).map((e) => entry(e.key, clone(e.value)));
  return { field, createdText, created, extra };
}

/** Builds the PGP key kind; {@link pgpKind} is the default instance. */
export function createPgpKind(opts: PgpKindOptions = {}): KeyKind {
  const timeoutMs = opts.gpgTimeoutMs ?? DEFAULT_GPG_TIMEOUT_MS;
  return {
    type: PGP_TYPE,
    fromMetadata(m: MapNode): MasterKey {
      const { field, created, extra } = readKeyEntry(m, 'pgp', KNOWN_FIELDS);
      return new PgpMasterKey(field('fp') ?? '', field('enc') ?? '', created, extra, timeoutMs);
    },
    fromRecipient(recipient: string, ctx: KeyContext): MasterKey {
      const fp = recipient.replace(/ /g, '');
      if (fp === '') throw new SopsError('empty PGP fingerprint', ExitCode.Generic, { hint: 'give a key fingerprint, e.g. --pgp FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4' });
      const now = new Date(Math.floor(ctx.now().getTime() / 1000) * 1000);
      return new PgpMasterKey(fp, '', now, [], timeoutMs);
    },
  };
}

/** The PGP key kind (`sops.pgp[]`), with the default gpg timeout. */
export const pgpKind: KeyKind = createPgpKind();
