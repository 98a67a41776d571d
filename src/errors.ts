/**
 * Typed errors. Every failure a user can act on is a {@link SopsError} that carries the exit
 * code sops uses for it and a hint that says what to do. Messages name the file and the key
 * path; they never contain a secret value or a data key.
 */

/** Exit codes as getsops/sops sets them (`cmd/sops/codes/codes.go`). */
export const ExitCode = {
  Ok: 0,
  Generic: 1,
  CouldNotReadInputFile: 2,
  CouldNotWriteOutputFile: 3,
  ErrorDumpingTree: 4,
  InvalidEncryptionContext: 6,
  InvalidSetFormat: 7,
  ConflictingParameters: 8,
  ErrorEncryptingMac: 21,
  ErrorEncryptingTree: 23,
  ErrorDecryptingMac: 24,
  ErrorDecryptingTree: 25,
  CannotChangeKeysFromNonExistentFile: 49,
  MacMismatch: 51,
  MacNotFound: 52,
  ConfigFileNotFound: 61,
  KeyboardInterrupt: 85,
  InvalidTreePathFormat: 91,
  NeedAtLeastOneDocument: 92,
  NoFileSpecified: 100,
  CouldNotRetrieveKey: 128,
  NoEncryptionKeyFound: 111,
  DuplicateDecryptionKeyType: 112,
  FileHasNotBeenModified: 200,
  NoEditorFound: 201,
  FailedToCompareVersions: 202,
  FileAlreadyEncrypted: 203,
} as const;

export interface SopsErrorOptions {
  /** What the user can do about it (printed as `tsops: hint: ...`). */
  hint?: string;
  cause?: unknown;
}

export class SopsError extends Error {
  readonly exitCode: number;
  readonly hint?: string;
  constructor(message: string, exitCode: number = ExitCode.Generic, opts: SopsErrorOptions = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'SopsError';
    this.exitCode = exitCode;
    if (opts.hint) this.hint = opts.hint;
  }
}

/** The input could not be parsed (exit 2 on encrypt, as sops). */
export class ParseError extends SopsError {
  constructor(message: string, opts: SopsErrorOptions = {}) {
    super(message, ExitCode.CouldNotReadInputFile, opts);
    this.name = 'ParseError';
  }
}

/** A value could not be decrypted (exit 25). */
export class DecryptValueError extends SopsError {
  constructor(message: string, opts: SopsErrorOptions = {}) {
    super(message, ExitCode.ErrorDecryptingTree, opts);
    this.name = 'DecryptValueError';
  }
}

/** The MAC is missing, undecryptable or does not match (exit 51). */
export class MacError extends SopsError {
  constructor(message: string, opts: SopsErrorOptions = {}) {
    super(message, ExitCode.MacMismatch, {
      hint: opts.hint ?? 'the file was changed outside sops/tsops or is corrupt; restore it from version control, or pass --ignore-mac if you trust its content',
      cause: opts.cause,
    });
    this.name = 'MacError';
  }
}

/** One master key that was tried and failed. */
export interface KeyFailure {
  /** Key type (`age`, `pgp`, ...). */
  type: string;
  /** Recipient, fingerprint, ARN, ... */
  id: string;
  /** Why it failed (no secrets). */
  reason: string;
  /** Key group index when the file has several groups. */
  group?: number;
}

/** No master key could unwrap the data key (exit 128). */
export class DataKeyError extends SopsError {
  readonly failures: KeyFailure[];
  constructor(message: string, failures: KeyFailure[], opts: SopsErrorOptions = {}) {
    super(message, ExitCode.CouldNotRetrieveKey, opts);
    this.name = 'DataKeyError';
    this.failures = failures;
  }
}

/** `.sops.yaml` problems (exit 1 like sops; each problem has a field path). */
export class ConfigError extends SopsError {
  readonly problems: string[];
  constructor(message: string, problems: string[] = [], opts: SopsErrorOptions = {}) {
    super(message, ExitCode.Generic, opts);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

export function isSopsError(e: unknown): e is SopsError {
  return e instanceof SopsError;
}

/**
 * The data key could not be wrapped because of the key groups themselves: none, or an empty
 * one (sops: `Could not generate data key: [empty key group provided]`, exit 1). The CLI prints
 * the message exactly as sops does, without the `tsops: error:` prefix, because scripts and
 * sops's own functional tests compare it byte for byte.
 */
export class KeyGroupsError extends SopsError {
  readonly verbatim = true;
  constructor(readonly reasons: readonly string[]) {
    super(`Could not generate data key: [${reasons.join(' ')}]`, ExitCode.Generic);
    this.name = 'KeyGroupsError';
  }
}

/** sops's reason for a key group without keys. */
export const EMPTY_KEY_GROUP = 'empty key group provided';
/** sops's reason for a file or rule without key groups. */
export const NO_KEY_GROUPS = 'no key groups provided';
