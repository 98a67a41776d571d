/**
 * Exclusive update locks for in-place writes. A command that reads a file to write it back
 * (set, unset, edit, encrypt/decrypt -i, rotate -i, updatekeys, groups -i) first creates
 * `.NAME.tsops-lock` next to it (O_EXCL), then reads it; {@link writeFileAtomic} checks that the
 * file is still what was read before renaming the new version over it, and drops the lock.
 *
 * - A second process waits up to TSOPS_LOCK_TIMEOUT seconds (default 10; 0 = do not wait) and
 *   then fails with exit 3, naming the file and the holder (command, pid, host, since when).
 * - A lock left by a killed process (same host, pid gone) is broken at once; a lock whose
 *   holder cannot be checked (other host) is reported with a hint to remove it.
 * - Programs that do not take the lock (an editor, git, sops) are caught by the final check:
 *   the update fails with exit 3 and nothing is written, instead of overwriting their change.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { ExitCode, SopsError } from '../errors.js';

/** What the lock file holds (JSON). */
export interface LockInfo {
  pid: number;
  host: string;
  command: string;
  started: string;
  nonce: string;
}

/** A file as it was read under the lock: checked again just before the new version replaces it. */
export interface Snapshot {
  bytes: Uint8Array | undefined;
  ino: number;
  size: number;
  mtimeNs: bigint;
}

interface Held {
  lockPath: string;
  nonce: string;
  snapshot?: Snapshot;
}

const held = new Map<string, Held>();
let hooked = false;

/** The lock file that guards `path`. */
export const lockPathFor = (path: string): string => join(dirname(path), `.${basename(path)}.tsops-lock`);

/** Whether a process with this pid exists on this host (EPERM: it exists, owned by someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function releaseAll(): void {
  for (const path of [...held.keys()]) releaseLock(path);
}

function hook(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', releaseAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      releaseAll();
      // Alone, re-raise so the default action ends us; else the next listener (the plaintext
      // cleanup of private-temp.ts) does that.
      if (process.listenerCount(sig) === 1) {
        process.removeListener(sig, onSignal);
        process.kill(process.pid, sig);
      }
    };
    process.prependListener(sig, onSignal);
  }
}

function readLock(lockPath: string): { info?: LockInfo; raw: string; mtimeMs: number } | undefined {
  try {
    const st = statSync(lockPath);
    const raw = readFileSync(lockPath, 'utf8');
    try {
      const info = JSON.parse(raw) as LockInfo;
      return { info, raw, mtimeMs: st.mtimeMs };
    } catch {
      return { raw, mtimeMs: st.mtimeMs };
    }
  } catch {
    return undefined;
  }
}

/** A lock is stale when its holder is a dead process of this host, or it stayed unreadable for 10 s. */
function isStale(l: { info?: LockInfo; mtimeMs: number }): boolean {
  if (!l.info || typeof l.info.pid !== 'number') return Date.now() - l.mtimeMs > 10_000;
  return l.info.host === hostname() && !pidAlive(l.info.pid);
}

/** Removes a stale lock without removing a fresh one another process took in the meantime. */
function breakStale(lockPath: string, seen: string): void {
  const aside = `${lockPath}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(lockPath, aside);
  } catch {
    return; // gone already: someone else broke it
  }
  let raw = '';
  try {
    raw = readFileSync(aside, 'utf8');
  } catch {
    /* treat as not ours */
  }
  if (raw !== seen) {
    // We moved a lock someone took after our look: put it back (if no third one exists).
    try {
      linkSync(aside, lockPath);
    } catch {
      /* a newer lock exists; the snapshot check still guards the write */
    }
  }
  try {
    unlinkSync(aside);
  } catch {
    /* ignore */
  }
}

const sleep = (ms: number): void => {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
};

function describeHolder(info: LockInfo | undefined): string {
  if (!info) return 'another process (the lock file is unreadable)';
  return `tsops ${info.command} (pid ${info.pid} on ${info.host}, since ${info.started})`;
}

/** Seconds to wait for a lock: TSOPS_LOCK_TIMEOUT, default 10. */
export function lockTimeoutSeconds(env: Record<string, string | undefined> = process.env): number {
  const v = Number(env.TSOPS_LOCK_TIMEOUT);
  return env.TSOPS_LOCK_TIMEOUT !== undefined && env.TSOPS_LOCK_TIMEOUT !== '' && Number.isFinite(v) && v >= 0 ? v : 10;
}

/**
 * Takes the update lock of `path` for this process (waiting as described above). Taking a lock
 * this process already holds is a no-op. Throws SopsError exit 3 on timeout.
 */
export function acquireLock(path: string, command: string, timeoutSeconds = lockTimeoutSeconds()): void {
  if (held.has(path)) return;
  hook();
  const lockPath = lockPathFor(path);
  const nonce = randomBytes(8).toString('hex');
  const body = JSON.stringify({ pid: process.pid, host: hostname(), command, started: new Date().toISOString(), nonce } satisfies LockInfo);
  const deadline = Date.now() + timeoutSeconds * 1000;
  // The lock is written under a temporary name and linked into place (atomic, fails if taken),
  // so that a lock file never exists without its holder in it, even if we are killed.
  const pending = `${lockPath}.new-${process.pid}-${nonce}`;
  try {
    writeFileSync(pending, body, { flag: 'wx', mode: 0o644 });
  } catch (e) {
    throw new SopsError(`${path}: cannot create the lock file ${lockPath} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, ExitCode.CouldNotWriteOutputFile, {
      hint: 'the directory must be writable to change the file in place; nothing was written',
    });
  }
  try {
    for (let delay = 10; ; delay = Math.min(delay * 2, 200)) {
      if (takeLock(path, pending, lockPath, body)) {
        held.set(path, { lockPath, nonce });
        return;
      }
      waitTurn(path, lockPath, deadline, timeoutSeconds, delay);
    }
  } finally {
    try {
      unlinkSync(pending);
    } catch {
      /* gone */
    }
  }
}

/**
 * Links the prepared lock into place; false if the lock is taken. Where hard links are not
 * supported, falls back to an exclusive create and write (a kill between the two leaves an
 * empty lock, taken as stale after 10 s).
 */
function takeLock(path: string, pending: string, lockPath: string, body: string): boolean {
  try {
    linkSync(pending, lockPath);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    try {
      writeFileSync(lockPath, body, { flag: 'wx', mode: 0o644 });
      return true;
    } catch (e2) {
      const code2 = (e2 as NodeJS.ErrnoException).code;
      if (code2 === 'EEXIST') return false;
      throw new SopsError(`${path}: cannot create the lock file ${lockPath} (${code2 ?? (e2 as Error).message})`, ExitCode.CouldNotWriteOutputFile, {
        hint: 'the directory must be writable to change the file in place; nothing was written',
      });
    }
  }
}

/** One look at a taken lock: breaks it if stale, else sleeps; throws when the wait is over. */
function waitTurn(path: string, lockPath: string, deadline: number, timeoutSeconds: number, delay: number): void {
  const cur = readLock(lockPath);
  if (cur && isStale(cur)) {
    breakStale(lockPath, cur.raw);
    return;
  }
  if (Date.now() >= deadline) {
    const who = describeHolder(cur?.info);
    const otherHost = cur?.info && cur.info.host !== hostname();
    throw new SopsError(`${path}: the file is being changed by ${who}; waited ${timeoutSeconds}s, nothing was written`, ExitCode.CouldNotWriteOutputFile, {
      hint: otherHost
        ? `if no tsops runs on ${cur!.info!.host} any more, remove ${lockPath} and run the command again`
        : `run the command again when it has finished (or set TSOPS_LOCK_TIMEOUT to wait longer); if no tsops process runs, remove ${lockPath}`,
    });
  }
  sleep(Math.min(delay, Math.max(1, deadline - Date.now())));
}

/** Drops the lock of `path` if this process holds it (and only if the lock file is still ours). */
export function releaseLock(path: string): void {
  const h = held.get(path);
  if (!h) return;
  held.delete(path);
  const cur = readLock(h.lockPath);
  if (cur?.info?.nonce !== h.nonce) return;
  try {
    unlinkSync(h.lockPath);
  } catch {
    /* gone */
  }
}

/** Whether this process holds the lock of `path`. */
export const holdsLock = (path: string): boolean => held.has(path);

/** Remembers what `path` looked like when read under the lock. */
export function rememberSnapshot(path: string, bytes: Uint8Array | undefined): void {
  const h = held.get(path);
  if (!h) return;
  const st = statSync(path, { throwIfNoEntry: false, bigint: true });
  h.snapshot = st ? { bytes, ino: Number(st.ino), size: Number(st.size), mtimeNs: st.mtimeNs } : { bytes: undefined, ino: -1, size: -1, mtimeNs: -1n };
}

/**
 * Throws exit 3 when `path` changed since {@link rememberSnapshot} (written by a program that
 * does not take the lock). Same inode, size and mtime count as unchanged; otherwise the bytes
 * are compared, so a mere `touch` is not a conflict.
 */
export function checkUnchanged(path: string, what = 'your change was not written'): void {
  const snap = held.get(path)?.snapshot;
  if (!snap) return;
  const st = statSync(path, { throwIfNoEntry: false, bigint: true });
  if (!st) {
    if (snap.bytes === undefined) return;
    throw changed(path, 'was removed', what);
  }
  if (snap.bytes === undefined) throw changed(path, 'was created', what);
  if (Number(st.ino) === snap.ino && Number(st.size) === snap.size && st.mtimeNs === snap.mtimeNs) return;
  let now: Buffer;
  try {
    now = readFileSync(path);
  } catch {
    throw changed(path, 'became unreadable', what);
  }
  if (!now.equals(snap.bytes)) throw changed(path, 'was changed by another program', what);
}

function changed(path: string, how: string, what: string): SopsError {
  return new SopsError(`${path}: the file ${how} while tsops was working on it; ${what}`, ExitCode.CouldNotWriteOutputFile, {
    hint: 'look at the current file, then run the command again',
  });
}
