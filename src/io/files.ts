/**
 * Reading inputs and writing outputs. In-place writes are atomic: a temp file in the same
 * directory (mode of the original, or 0600), flushed, then renamed over the target, so a crash
 * leaves the old file or the new one, never a torn one.
 */
import { randomBytes } from 'node:crypto';
import { close, closeSync, fsync, fsyncSync, open, openSync, renameSync, statSync, unlinkSync, write, writeSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ExitCode, SopsError } from '../errors.js';

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

/** Writes `data` to `path` atomically (same-directory temp file + fsync + rename). */
export function writeFileAtomic(path: string, data: Uint8Array, defaultMode = 0o600): void {
  let mode = defaultMode;
  try {
    mode = (statSync(path, { throwIfNoEntry: false })?.mode ?? mode) & 0o7777;
  } catch {
    /* new file */
  }
  const tmp = join(dirname(path), `.${basename(path)}.tsops-${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', mode);
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw new SopsError(`${path}: could not write the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, ExitCode.CouldNotWriteOutputFile);
  }
}

/** A file written and flushed under a temporary name, waiting to be renamed into place. */
export interface StagedFile {
  /** Renames it into place (throws as {@link writeFileAtomic} does). */
  commit(): void;
  /** Removes the temporary file. */
  discard(): void;
}

/** node:fs callbacks as promises (node:fs/promises costs more to load than a small command's work). */
const call = <T>(fn: (cb: (e: NodeJS.ErrnoException | null, v: T) => void) => void): Promise<T> =>
  new Promise((resolve, reject) => fn((e, v) => (e ? reject(e) : resolve(v))));

/**
 * {@link writeFileAtomic} in two steps: the temporary file is written and flushed
 * asynchronously (so that many files can be flushed at once), and renamed over `path` only
 * when {@link StagedFile.commit} is called. Failures are the same {@link SopsError}s.
 */
export async function stageFileAtomic(path: string, data: Uint8Array, defaultMode = 0o600): Promise<StagedFile> {
  let mode = defaultMode;
  try {
    mode = (statSync(path, { throwIfNoEntry: false })?.mode ?? mode) & 0o7777;
  } catch {
    /* new file */
  }
  const tmp = join(dirname(path), `.${basename(path)}.tsops-${randomBytes(6).toString('hex')}.tmp`);
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
    const fd = await call<number>((cb) => open(tmp, 'wx', mode, cb));
    try {
      let off = 0;
      while (off < data.length) off += await call<number>((cb) => write(fd, data, off, data.length - off, null, cb));
      await call<void>((cb) => fsync(fd, (e) => cb(e, undefined)));
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
    } catch {
      stdoutStream = true;
    }
  }
  return new Promise((resolve, reject) => {
    process.stdout.write(rest, (err) => (err ? reject(err) : resolve()));
  });
}
