/**
 * One interface for every kind of master key (age, pgp, kms, ...). Adding a kind means one
 * file that exports a {@link KeyKind} plus one line in `registry.ts`.
 *
 * Key kinds never touch files, processes or the environment directly: they use the
 * {@link KeyContext} that `io/` builds and hands in, so tests can swap any part of it.
 */
import type { MapNode } from '../tree/types.js';

export interface RunResult {
  /** Exit code, or null when killed by a signal / timed out. */
  code: number | null;
  stdout: Uint8Array;
  stderr: string;
  /** Set when the program could not be started at all (ENOENT, EACCES). */
  spawnError?: string;
}

export interface RunOptions {
  input?: Uint8Array | string;
  /** Extra variables on top of the context's env. */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** The outside world as seen by key kinds. Built by `io/context.ts`. */
export interface KeyContext {
  /** The process environment (or a test's replacement). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Run a program (gpg, `SOPS_AGE_KEY_CMD`). `cmd` is looked up on PATH. */
  run(cmd: string, args: string[], opts?: RunOptions): Promise<RunResult>;
  /** Read a file; `undefined` when it does not exist. Other errors throw. */
  readFile(path: string): Promise<Uint8Array | undefined>;
  /** The user's home directory. */
  readonly homeDir: string;
  /** The user's config directory (`$XDG_CONFIG_HOME` or `~/.config` on Linux). */
  readonly userConfigDir: string;
  /** Clock, injectable for golden tests. */
  now(): Date;
  /** Per-context memo (identities loaded once per run). */
  readonly cache: Map<string, unknown>;
  /**
   * The machine's host name as the kernel reports it (AWS KMS role session names). Optional:
   * without it, kinds fall back to `env.HOSTNAME`.
   */
  hostname?(): string;
}

/** A master key: one entry of a file's metadata, e.g. one `sops.age[i]`. */
export interface MasterKey {
  /** The metadata list this entry lives in: `age`, `pgp`, `kms`, `gcp_kms`, ... */
  readonly type: string;
  /** What identifies it to a person: recipient, fingerprint, ARN. */
  readonly id: string;
  /** The wrapped data key as stored in `enc` ('' before {@link encrypt}). */
  enc: string;
  /** Wraps `dataKey` (32 bytes, or a 33-byte Shamir share) and stores the result in `enc`. */
  encrypt(dataKey: Uint8Array, ctx: KeyContext): Promise<void>;
  /**
   * Unwraps `enc`. Throws {@link KeyUnavailableError} with a reason a person can act on
   * ("no age identity matches", "gpg: decryption failed: No secret key") and no secret.
   */
  decrypt(ctx: KeyContext): Promise<Uint8Array>;
  /** This entry's metadata fields. Order does not matter: writers sort them. */
  toMetadata(): MapNode;
}

/** Per-recipient settings some kinds take (AWS KMS: role, encryption context, profile). */
export interface RecipientOptions {
  role?: string;
  context?: Record<string, string>;
  awsProfile?: string;
}

/** A kind of master key. */
export interface KeyKind {
  /** The metadata list name (`age`, `pgp`, ...). */
  readonly type: string;
  /** Parses one metadata entry. Throws {@link SopsError} naming the field when it is unusable. */
  fromMetadata(entry: MapNode): MasterKey;
  /** A new key for a recipient string given on the CLI, in env or in `.sops.yaml`. */
  fromRecipient(recipient: string, ctx: KeyContext, options?: RecipientOptions): MasterKey;
}

/** A key could not unwrap the data key. `reason` is shown to the user. */
export class KeyUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'KeyUnavailableError';
  }
}
