/**
 * Time bounds for key services that a user (or a test) can change through the environment.
 * sops has no such bounds; tsops stops a key service that does not answer, so that no command
 * hangs forever.
 */
import { KeyUnavailableError, type KeyContext } from './types.js';

/** Time for one gpg call (it may wait for a passphrase prompt). */
export const GPG_TIMEOUT_ENV = 'TSOPS_GPG_TIMEOUT_MS';
/** Time for one run of `SOPS_AGE_KEY_CMD` / `SOPS_AGE_SSH_PRIVATE_KEY_CMD`. */
export const KEY_CMD_TIMEOUT_ENV = 'TSOPS_KEY_CMD_TIMEOUT_MS';
/** Time for one HTTP request to AWS KMS / STS (and at most that to connect). */
export const KMS_TIMEOUT_ENV = 'TSOPS_KMS_TIMEOUT_MS';
/** Attempts per AWS call, the first included. */
export const KMS_ATTEMPTS_ENV = 'TSOPS_KMS_MAX_ATTEMPTS';

/** Default bound for a key command: long enough for an interactive unlock. */
export const DEFAULT_KEY_CMD_TIMEOUT_MS = 120_000;

/**
 * A whole number from 1 to `max` read from `env[name]`, or undefined when it is unset or
 * empty. Anything else is a {@link KeyUnavailableError} naming the variable.
 */
export function envBound(env: KeyContext['env'], name: string, max: number): number | undefined {
  const v = env[name]?.trim();
  if (!v) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > max) {
    throw new KeyUnavailableError(`${name}=${JSON.stringify(v.slice(0, 40))} is not a whole number from 1 to ${max}; fix or unset it`);
  }
  return Number(v);
}

/** An upper bound in milliseconds (at most one hour) from `env[name]`, else `fallback`. */
export function envTimeoutMs(env: KeyContext['env'], name: string, fallback: number): number {
  return envBound(env, name, 3_600_000) ?? fallback;
}
