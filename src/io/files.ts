/**
 * Reading inputs and writing outputs. In-place writes are atomic: a 0600 temp file in the same
 * directory, given the original's mode, flushed, then renamed over the target, so a crash
 * leaves the old file or the new one, never a torn one. Read-modify-write commands lock the
 * file for the whole update (lock.ts), so two writers never lose an update silently.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, close, closeSync, existsSync, fchmodSync, fchownSync, fsyncSync, open, openSync, readdirSync, readFileSync, realpathSync, renameSync, stat, statSync, unlinkSync, write, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ExitCode, SopsError } from '../errors.js';
import { acquireLock, checkUnchanged, holdsLock, pidAlive, releaseLock, rememberSnapshot } from './lock.js';

/** Reads a whole file; a missing file is exit 100 ("no file given, or the file doesn't exist"). */
export function readInputFile(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new SopsError(`${path}: no such file`, ExitCode.NoFileSpecified, { hint: 'check the path' });
    if (code === 'EISDIR') throw new SopsError(`${path}: is a directory, not a file`, ExitCode.CouldNotReadInputFile);
    throw new SopsError(`${path}: cannot read the file (${code ?? (e as Error).message})`, ExitCode.CouldNotReadInputFile);
  }
}

/** Reads all of standard input. */
export async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

/**
 * The file an in-place write really changes: a symlink is followed (the link stays a link), a
 * new file is its absolute path.
 */
export function updateTarget(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/** Temp files are `.NAME.tsops-PID-RANDOM.tmp`: the pid lets a later run remove a killed run's leftovers. */
const tempName = (target: string): string => join(dirname(target), `.${basename(target)}.tsops-${process.pid}-${randomBytes(6).toString('hex')}.tmp`);

/**
 * Removes temp files of `target` left by processes that no longer exist (a run killed between
 * creating its temp file and the rename), and stale locks such a run had moved aside. They hold the new encrypted version, or for
 * `decrypt -i` the plaintext the user asked for; either way nobody will rename them any more.
 */
export function sweepStaleTemps(target: string): number {
  const prefix = `.${basename(target)}.tsops-`;
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dirname(target));
  } catch {
    return 0;
  }
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    // our temp files, and lock files a killed run was creating or had moved aside (lock.ts)
    const pid = Number(/^(?:(\d+)-[0-9a-f]+\.tmp|lock\.(?:stale|new)-(\d+)-[0-9a-f]+)$/.exec(n.slice(prefix.length))?.slice(1).find(Boolean));
    if (!pid || pid === process.pid || pidAlive(pid)) continue;
    try {
      unlinkSync(join(dirname(target), n));
      removed++;
    } catch {
      /* someone else removed it */
    }
  }
  return removed;
}

/** The mode (and, for root, the owner) the new version gets: the original's, or `defaultMode`. */
function originalAttrs(target: string, defaultMode: number): { mode: number; uid?: number; gid?: number } {
  const st = statSync(target, { throwIfNoEntry: false });
  if (!st) return { mode: defaultMode };
  return { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

/** Flushes a directory so that a rename in it survives a power loss (where the OS allows it). */
function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    /* not supported here: the rename itself is still atomic */
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Takes the update lock of `path` (see lock.ts) and reads it. The matching
 * {@link writeFileAtomic} checks that nobody changed the file in between and drops the lock.
 */
export function readForUpdate(path: string, command?: string): Uint8Array {
  const target = updateTarget(path);
  acquireLock(target, command ?? commandName());
  try {
    const bytes = readInputFile(path);
    rememberSnapshot(target, bytes);
    return bytes;
  } catch (e) {
    releaseLock(target);
    throw e;
  }
}

/** Takes the update lock of a file that may not exist yet (edit of a new file). */
export function lockForUpdate(path: string, command?: string): void {
  const target = updateTarget(path);
  acquireLock(target, command ?? commandName());
  rememberSnapshot(target, existsSync(target) ? new Uint8Array(readFileSync(target)) : undefined);
}

/** Drops the update lock of `path` without writing (the command decided not to write). */
export function endUpdate(path: string): void {
  releaseLock(updateTarget(path));
}

const commandName = (): string => process.argv.slice(2).find((a) => !a.startsWith('-')) ?? 'tsops';

/**
 * Writes `data` to `path` atomically: a 0600 temp file in the same directory, written,
 * flushed, renamed over the target, then given the original's mode (and owner, as root), the
 * directory flushed. A kill between the rename and the chmod leaves the new version at 0600. If {@link readForUpdate} locked the file, the rename happens only if the file is
 * still what was read, and the lock is dropped afterwards.
 */
export function writeFileAtomic(path: string, data: Uint8Array, defaultMode = 0o600): void {
  const target = updateTarget(path);
  const tmp = tempName(target);
  let fd: number | undefined;
  try {
    const attrs = originalAttrs(target, defaultMode);
    fd = openSync(tmp, 'wx', 0o600);
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
    if (holdsLock(target)) checkUnchanged(target);
    renameSync(tmp, target);
    // Only now the original's owner and mode: while it has its temp name (and if we are killed
    // before this point) the new version stays 0600, whatever it holds.
    try {
      if (attrs.uid !== undefined && process.getuid?.() === 0) fchownSync(fd, attrs.uid, attrs.gid!);
      if (attrs.mode !== 0o600) fchmodSync(fd, attrs.mode);
      fsyncSync(fd);
    } catch {
      /* written; only the mode or owner could not be kept */
    }
    closeSync(fd);
    fd = undefined;
    fsyncDir(dirname(target));
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    if (e instanceof SopsError) throw e;
    throw new SopsError(`${path}: could not write the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, ExitCode.CouldNotWriteOutputFile, {
      hint: 'the file was left as it was',
    });
  } finally {
    releaseLock(target);
  }
  sweepStaleTemps(target);
}

/** A file written under a temporary name, waiting to be renamed into place. */
export interface StagedFile {
  /** Renames it into place (throws as {@link writeFileAtomic} does). */
  commit(): void;
  /** Removes the temporary file. */
  discard(): void;
}

/** node:fs callbacks as promises (node:fs/promises costs more to load than a small command's work). */
const call = <T>(fn: (cb: (e: NodeJS.ErrnoException | null, v: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => fn((e, v) => (e ? reject(e) : resolve(v))));

/** Temp names of {@link stageFileAtomic}: one random part per process, then a counter. */
let stageTag: string | undefined;
let stageSeq = 0;

/**
 * A derived plaintext copy (`decrypt --output-dir`) written in two steps: the temporary file
 * (0600, same directory) is written asynchronously, so that the file system work of many files
 * overlaps their decryption, and renamed over `path` (then given the mode `path` had, or
 * `defaultMode`) only when {@link StagedFile.commit} is called. The rename means a reader never
 * sees a half-written file. `mayExist: false` (the caller listed the directory) skips looking
 * for an existing file's mode. Unlike {@link writeFileAtomic} the file is not flushed to disk (no
 * fsync): sops does not flush its outputs either, the file can be made again from its
 * encrypted source, and a flush costs more than decrypting a small file. Failures are the same
 * {@link SopsError}s.
 */
export async function stageFileAtomic(path: string, data: Uint8Array, defaultMode = 0o600, mayExist = true): Promise<StagedFile> {
  // On the thread pool: a stat in a directory where files are being created can wait for them.
  const mode = mayExist ? await new Promise<number>((resolve) => stat(path, (e, st) => resolve((e ? defaultMode : st.mode) & 0o7777))) : defaultMode;
  stageTag ??= randomBytes(6).toString('hex');
  const tmp = join(dirname(path), `.${basename(path)}.tsops-${process.pid}-${stageTag}${(stageSeq++).toString(16)}.tmp`);
  const fail = (e: unknown): SopsError =>
    new SopsError(`${path}: could not write the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, ExitCode.CouldNotWriteOutputFile);
  const discard = (): void => {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
  };
  try {
    const fd = await call<number>((cb) => open(tmp, 'wx', 0o600, cb));
    try {
      let off = 0;
      while (off < data.length) off += await call<number>((cb) => write(fd, data, off, data.length - off, null, cb));
    } finally {
      await call<void>((cb) => close(fd, (e) => cb(e ?? null, undefined)));
    }
  } catch (e) {
    discard();
    throw fail(e);
  }
  return {
    commit() {
      try {
        renameSync(tmp, path);
        if (mode !== 0o600) chmodSync(path, mode);
      } catch (e) {
        discard();
        throw fail(e);
      }
    },
    discard,
  };
}

let stdoutStream = false;

/**
 * Writes to stdout and waits until it is flushed. The bytes go straight to file descriptor 1:
 * setting up `process.stdout` (a stream over the pipe or terminal) costs more than a small
 * command's whole work. Should the descriptor refuse (non-blocking and full, closed, ...),
 * the rest, and every later write, goes through `process.stdout` as before.
 */
export function writeStdout(data: Uint8Array | string): Promise<void> {
  let rest = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (!stdoutStream) {
    try {
      while (rest.length > 0) rest = rest.subarray(writeSync(1, rest, 0, rest.length));
      return Promise.resolve();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EPIPE') readerGone();
      stdoutStream = true;
      process.stdout.on('error', (err: NodeJS.ErrnoException) => {
        if (err.code === 'EPIPE') readerGone();
      });
    }
  }
  return new Promise((resolve, reject) => {
    process.stdout.write(rest, (err) => (err ? ((err as NodeJS.ErrnoException).code === 'EPIPE' ? readerGone() : reject(err)) : resolve()));
  });
}

/**
 * The reader of standard output went away (`tsops decrypt f | head`): stop quietly, as sops
 * (a Go program, ended by SIGPIPE) does, with the shell's code for that signal (128 + 13).
 */
function readerGone(): never {
  process.exit(141);
}
