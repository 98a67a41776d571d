/**
 * Shared pieces of the edit/set/exec/reuse CLI tests: an age workspace with its own plaintext
 * temp dir (TSOPS_TMPDIR), executable editor scripts, a detached tsops process for signal tests,
 * and line-level diffs (git and plain) of encrypted files.
 */
import type { ExecutionContext } from 'ava';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { diffLines } from 'diff';
import { decrypt, encrypt, formatFromPath } from '../../src/index.js';
import { ageWorkspace, BIN, listDir, type AgeWorkspace, type CliResult } from '../helpers/cli.js';
import { ageContext } from '../helpers/interop.js';

export interface Workspace extends AgeWorkspace {
  /** TSOPS_TMPDIR of every run: where plaintext temp dirs go (must be empty afterwards). */
  shm: string;
  /** Where editor and helper scripts live (outside `dir`). */
  bin: string;
  /** Writes an executable `#!/bin/sh` script into `bin` and returns its path. */
  script(name: string, body: string): string;
  /**
   * Encrypts `plain` for the workspace key into `dir/name` (library call, format from the name;
   * the CLI runs are kept for the commands under test); returns the encrypted text.
   */
  encryptTo(name: string, plain: string): Promise<string>;
  /** Decrypts `dir/name` with the workspace key (library call; throws on any error). */
  decrypt(name: string): Promise<string>;
}

/** An {@link ageWorkspace} whose runs all get a private, initially empty TSOPS_TMPDIR. */
export function workspace(t: ExecutionContext): Workspace {
  const base = ageWorkspace(t);
  const shm = join(base.home, 'shm');
  const bin = join(base.home, 'bin');
  mkdirSync(shm);
  mkdirSync(bin);
  base.env.TSOPS_TMPDIR = shm;
  const ws: Workspace = Object.assign(base, {
    shm,
    bin,
    script(name: string, body: string) {
      const p = join(bin, name);
      writeFileSync(p, `#!/bin/sh\n${body}\n`);
      chmodSync(p, 0o755);
      return p;
    },
    async encryptTo(name: string, plain: string) {
      const enc = await encrypt(plain, { inputType: formatFromPath(name), filename: name, age: [base.key.recipient], keyContext: ageContext(base.key.identity) });
      base.write(name, enc);
      return enc;
    },
    decrypt: (name: string) => decrypt(readFileSync(join(base.dir, name)), { inputType: formatFromPath(name), filename: name, keyContext: ageContext(base.key.identity) }),
  });
  return ws;
}

/** Asserts that no plaintext temp dir or file was left behind in TSOPS_TMPDIR. */
export function assertNoTemp(t: ExecutionContext, ws: Workspace, when = 'afterwards'): void {
  t.deepEqual(listDir(ws.shm), [], `plaintext temp left in TSOPS_TMPDIR ${when}`);
}

/** Whether a program is on PATH. */
export function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** A tsops process in its own process group, for tests that send it signals. */
export interface Detached {
  child: ChildProcess;
  /** Resolves when tsops exits, with its code or signal and its output. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

/**
 * Starts tsops detached (its own process group) so that anything it leaves running (an editor
 * that sleeps) can be killed in teardown by group id; resolves on tsops's own exit, without
 * waiting for inherited pipes to close.
 */
export function spawnDetached(t: ExecutionContext, ws: Workspace, args: string[], extraEnv: Record<string, string> = {}): Detached {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ws.dir, env: { ...ws.env, ...extraEnv }, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const err: Buffer[] = [];
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  t.teardown(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* the group is gone */
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal, stderr: Buffer.concat(err).toString('utf8') }));
  });
  return { child, exited };
}

/** Polls until `path` exists (or throws after `ms`). */
export async function waitForFile(path: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!existsSync(path)) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${path}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A git repository in `dir` with everything in it committed. */
export function gitInit(ws: Workspace): void {
  const env = { ...ws.env, GIT_CONFIG_NOSYSTEM: '1', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.org', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.org' };
  for (const args of [['init', '-q'], ['add', '-A'], ['commit', '-q', '-m', 'initial']]) {
    const r = spawnSync('git', args, { cwd: ws.dir, env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
  }
}

/** `git diff --numstat` of the working tree: file -> [added, deleted]. */
export function numstat(ws: Workspace): Record<string, [number, number]> {
  const r = spawnSync('git', ['diff', '--numstat'], { cwd: ws.dir, env: { ...ws.env, GIT_CONFIG_NOSYSTEM: '1' }, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git diff failed: ${r.stderr}`);
  const out: Record<string, [number, number]> = {};
  for (const line of r.stdout.split('\n').filter(Boolean)) {
    const [a, d, f] = line.split('\t');
    out[f!] = [Number(a), Number(d)];
  }
  return out;
}

/** Asserts at most `max` lines added and deleted in `file` and nothing else changed. */
export function assertSmallGitDiff(t: ExecutionContext, ws: Workspace, file: string, max = 3): void {
  const ns = numstat(ws);
  t.deepEqual(Object.keys(ns), [file], `only ${file} changed: ${JSON.stringify(ns)}`);
  const [added, deleted] = ns[file] ?? [0, 0];
  t.true(added >= 1 && added <= max && deleted >= 1 && deleted <= max, `git diff --numstat: +${added} -${deleted} (at most ${max})`);
}

/**
 * Same-length texts compared line by line: the lines that differ, as `before` lines. Fails the
 * test if the line counts differ.
 */
export function changedLines(t: ExecutionContext, before: string, after: string): string[] {
  const a = before.split('\n');
  const b = after.split('\n');
  t.is(b.length, a.length, 'same number of lines');
  return a.filter((l, i) => l !== b[i]);
}

/** Asserts only the given value lines (by prefix), `lastmodified` and `mac` changed. */
export function assertOnlyChanged(t: ExecutionContext, before: string, after: string, valuePrefixes: string[]): void {
  const changed = changedLines(t, before, after);
  for (const p of valuePrefixes) t.true(changed.some((l) => l.startsWith(p)), `the ${p} line changed`);
  const allowed = (l: string) => valuePrefixes.some((p) => l.startsWith(p)) || /^\s*"?(lastmodified|mac)"?:/.test(l);
  t.deepEqual(changed.filter((l) => !allowed(l)), [], 'no other line changed');
}

/** The lines a line diff removes from `before` and adds in `after`. */
export function lineChanges(before: string, after: string): { removed: string[]; added: string[] } {
  const removed: string[] = [];
  const added: string[] = [];
  for (const part of diffLines(before, after)) {
    const lines = part.value.replace(/\n$/, '').split('\n');
    if (part.removed) removed.push(...lines);
    if (part.added) added.push(...lines);
  }
  return { removed, added };
}

/** A file's bytes, inode and mtime (to prove it was not rewritten). */
export function fileState(path: string): { bytes: Buffer; ino: number; mtimeMs: number } {
  const s = statSync(path);
  return { bytes: readFileSync(path), ino: s.ino, mtimeMs: s.mtimeMs };
}

/** Moves a file's mtime an hour back and returns its state, so any rewrite shows in the mtime. */
export function freeze(path: string): ReturnType<typeof fileState> {
  const past = new Date(Date.now() - 3_600_000);
  utimesSync(path, past, past);
  return fileState(path);
}

/** Asserts a file is exactly as `before` says: same bytes, same inode, same mtime. */
export function assertUntouched(t: ExecutionContext, path: string, before: ReturnType<typeof fileState>): void {
  const now = fileState(path);
  t.true(now.bytes.equals(before.bytes), `${path} was changed`);
  t.is(now.ino, before.ino, `${path} was replaced`);
  t.is(now.mtimeMs, before.mtimeMs, `${path} was rewritten`);
}

/** Re-exported for the test files. */
export type { CliResult };
