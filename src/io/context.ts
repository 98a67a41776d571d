/**
 * The real outside world for key kinds: process environment, files, child processes, clock.
 */
import { readFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import type { KeyContext, RunOptions, RunResult } from '../keys/types.js';

export interface ContextOptions {
  env?: Record<string, string | undefined>;
  homeDir?: string;
  userConfigDir?: string;
  now?: () => Date;
  /** Host name (default: the kernel's, `os.hostname()`). */
  hostname?: () => string;
}

/** The user config dir as Go's os.UserConfigDir computes it. */
export function userConfigDir(env: Record<string, string | undefined>, home: string): string {
  if (process.platform === 'win32') return env.AppData ?? env.APPDATA ?? join(home, 'AppData', 'Roaming');
  if (env.XDG_CONFIG_HOME) return env.XDG_CONFIG_HOME;
  if (process.platform === 'darwin') return join(home, 'Library', 'Application Support');
  return join(home, '.config');
}

/** How long the pipes of a program that exited are still read (output a child left behind). */
const EXIT_GRACE_MS = 1_000;

/** Runs a program with optional stdin; never throws for a failing program. */
export async function runProgram(cmd: string, args: string[], baseEnv: Record<string, string | undefined>, opts: RunOptions = {}): Promise<RunResult> {
  // loaded on first use: most runs start no program
  const { spawn } = await import('node:child_process');
  return new Promise((resolve) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...baseEnv, ...(opts.env ?? {}) })) if (v !== undefined) env[k] = v;
    let child;
    try {
      child = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    } catch (e) {
      resolve({ code: null, stdout: new Uint8Array(0), stderr: '', spawnError: (e as Error).message });
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let spawnError: string | undefined;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs) {
      timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL');
      }, opts.timeoutMs);
    }
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      spawnError = e.code === 'ENOENT' ? `${cmd}: not found` : e.message;
    });
    // A program that exits (or is killed) may leave a child behind that holds stdout or stderr
    // open (`sh -c 'sleep 1000 & ...'`): stop waiting for the pipes a moment after the exit.
    child.on('exit', () => {
      const grace = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, timedOut ? 0 : EXIT_GRACE_MS);
      grace.unref();
    });
    child.stdin.on('error', () => {});
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({
        code: spawnError || timedOut ? null : code,
        stdout: new Uint8Array(Buffer.concat(out)),
        stderr: Buffer.concat(err).toString('utf8') + (timedOut ? `\n${cmd}: timed out after ${opts.timeoutMs} ms` : ''),
        ...(spawnError ? { spawnError } : {}),
      });
    });
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
  });
}

/** A key context over the real process environment (or the given one). */
export function makeKeyContext(opts: ContextOptions = {}): KeyContext {
  const env = opts.env ?? (process.env as Record<string, string | undefined>);
  const home = opts.homeDir ?? env.HOME ?? homedir();
  return {
    env,
    homeDir: home,
    userConfigDir: opts.userConfigDir ?? userConfigDir(env, home),
    now: opts.now ?? (() => new Date()),
    hostname: opts.hostname ?? (() => hostname()),
    cache: new Map(),
    run: (cmd, args, o) => runProgram(cmd, args, env, o),
    async readFile(path: string) {
      // Key files are small: read at once, without the round trips of asynchronous reads (or
      // loading node:fs/promises), which cost more than a small command's whole work.
      try {
        const data = readFileSync(path);
        return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    },
  };
}
