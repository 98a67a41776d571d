/** Runs the real CLI (`bin/tsops.js`, built code) as a separate process. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import type { ExecutionContext } from 'ava';
import { repoRoot } from './shared.js';

export const BIN = join(repoRoot, 'bin', 'tsops.js');

export interface CliResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  out: string;
}

export interface CliOptions {
  cwd?: string;
  env?: Record<string, string | undefined>;
  input?: string | Uint8Array;
  /** Run as this uid/gid (through `setpriv`; the caller must be root, see {@link canDropRoot}). */
  asUser?: number;
}

/** Whether the tests run as root and can run the CLI as another user (`setpriv`). */
export function canDropRoot(): boolean {
  return process.getuid?.() === 0 && spawnSync('setpriv', ['--version']).status === 0;
}

/**
 * With TSOPS_TRANSCRIPT_DIR set (npm test does, see scripts/hygiene-run.mjs), every tsops process
 * the tests start records what it printed (scripts/hygiene-preload.mjs, loaded via NODE_OPTIONS)
 * and {@link runCli} records what it gave the process and what was left behind, for the secret
 * hygiene check that runs after the suite (scripts/hygiene-check.mjs).
 */
export const TRANSCRIPT_DIR = process.env.TSOPS_TRANSCRIPT_DIR || undefined;

/** The variables that switch recording on in a CLI process (empty when not recording). */
export function transcriptEnv(): Record<string, string> {
  if (!TRANSCRIPT_DIR) return {};
  return { TSOPS_TRANSCRIPT_DIR: TRANSCRIPT_DIR, NODE_OPTIONS: `--import=${join(repoRoot, 'scripts', 'hygiene-preload.mjs')}` };
}

/** A clean environment: no user keys or config leak into tests. */
export function baseEnv(home: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    GNUPGHOME: join(home, '.gnupg'),
    LANG: 'C.UTF-8',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...transcriptEnv(),
  };
}

function cliEnv(opts: CliOptions): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(opts.env ?? { PATH: process.env.PATH ?? '' })) if (v !== undefined) env[k] = v;
  if (TRANSCRIPT_DIR && env.NODE_OPTIONS === undefined) Object.assign(env, transcriptEnv());
  return env;
}

const RECORD_CAP = 1 << 20;

function readCapped(p: string, cap = RECORD_CAP): string | undefined {
  try {
    const st = statSync(p);
    if (!st.isFile() || st.size > cap) return undefined;
    return readFileSync(p, 'utf8');
  } catch {
    return undefined;
  }
}

/** What the files named on the command line held before the run (plaintext inputs of encrypt). */
function argFiles(args: string[], cwd: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const a of args) {
    if (a.startsWith('-') || a.length > 500) continue;
    const c = readCapped(resolvePath(cwd, a));
    if (c !== undefined) out[a] = c;
  }
  return out;
}

/**
 * Files a finished process left behind: its own temp files (`.NAME.tsops-PID-*.tmp`) and lock
 * files next to the files it was given, and its private plaintext directories
 * (`tsops-edit-PID-*`, `tsops-exec-PID-*`) in /dev/shm, TSOPS_TMPDIR and the temp dir.
 */
export function leftovers(pid: number, args: string[], cwd: string, env: Record<string, string>): Record<string, string> {
  const found: Record<string, string> = {};
  const dirs = new Set([cwd, ...args.filter((a) => !a.startsWith('-') && a.length < 500).map((a) => dirname(resolvePath(cwd, a)))]);
  for (const d of dirs) {
    let names: string[] = [];
    try {
      names = readdirSync(d);
    } catch {
      continue;
    }
    for (const n of names) if (n.includes(`.tsops-${pid}-`)) found[join(d, n)] = readCapped(join(d, n)) ?? '';
  }
  for (const base of new Set(['/dev/shm', tmpdir(), ...(env.TSOPS_TMPDIR ? [env.TSOPS_TMPDIR] : [])])) {
    let names: string[] = [];
    try {
      names = readdirSync(base);
    } catch {
      continue;
    }
    for (const n of names) {
      if (!new RegExp(`^tsops-[a-z]+-${pid}-`).test(n)) continue;
      const d = join(base, n);
      found[d] = '(directory)';
      try {
        for (const f of readdirSync(d)) found[join(d, f)] = readCapped(join(d, f)) ?? '';
      } catch {
        /* unreadable */
      }
    }
  }
  return found;
}

let recorded = 0;

/** Writes the test side of one run to the transcript (see {@link TRANSCRIPT_DIR}). */
function record(args: string[], opts: CliOptions, r: { code: number | null; signal?: NodeJS.Signals | null }, pid?: number, before?: Record<string, string>): void {
  if (!TRANSCRIPT_DIR) return;
  const cwd = opts.cwd ?? process.cwd();
  const env = cliEnv(opts);
  const input = opts.input === undefined ? undefined : Buffer.from(opts.input).subarray(0, RECORD_CAP).toString('utf8');
  const rec = {
    kind: 'run',
    pid,
    argv: args,
    cwd,
    code: r.code,
    signal: r.signal ?? null,
    input,
    argFiles: before ?? {},
    after: args.includes('-i') || args.includes('--in-place') ? argFiles(args, cwd) : {},
    leftovers: pid !== undefined && !r.signal ? leftovers(pid, args, cwd, env) : {},
  };
  try {
    writeFileSync(join(TRANSCRIPT_DIR, `run-${process.pid}-${++recorded}-${pid ?? 0}.json`), JSON.stringify(rec), { mode: 0o600 });
  } catch {
    /* transcript dir removed: not recording */
  }
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const env = cliEnv(opts);
    const before = TRANSCRIPT_DIR ? argFiles(args, opts.cwd ?? process.cwd()) : undefined;
    const [cmd, argv] = opts.asUser === undefined
      ? [process.execPath, [BIN, ...args]]
      : ['setpriv', [`--reuid=${opts.asUser}`, `--regid=${opts.asUser}`, '--clear-groups', process.execPath, BIN, ...args]];
    const child = spawn(cmd, argv, { cwd: opts.cwd ?? process.cwd(), env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.stdin.on('error', () => {});
    if (opts.input !== undefined) child.stdin.end(opts.input);
    else child.stdin.end();
    child.on('close', (code) => {
      const stdout = Buffer.concat(out);
      record(args, opts, { code }, opts.asUser === undefined ? child.pid : undefined, before);
      resolve({ code, stdout, stderr: Buffer.concat(err).toString('utf8'), out: stdout.toString('utf8') });
    });
  });
}

/** A CLI process the test controls (to kill it at a chosen moment). */
export interface CliProcess {
  child: ChildProcess;
  /** Settles when the process has ended (code null and `signal` set when killed). */
  done: Promise<CliResult & { signal: NodeJS.Signals | null }>;
}

/** Starts the CLI like {@link runCli} but returns at once with the child process. */
export function spawnCli(args: string[], opts: CliOptions = {}): CliProcess {
  const env = cliEnv(opts);
  const before = TRANSCRIPT_DIR ? argFiles(args, opts.cwd ?? process.cwd()) : undefined;
  const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? process.cwd(), env, stdio: ['pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  child.stdin!.on('error', () => {});
  if (opts.input !== undefined) child.stdin!.end(opts.input);
  else child.stdin!.end();
  const done = new Promise<CliResult & { signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out);
      const r = { code, signal, stdout, stderr: Buffer.concat(err).toString('utf8'), out: stdout.toString('utf8') };
      record(args, opts, r, child.pid, before);
      resolve(r);
    });
  });
  return { child, done };
}

/** A temp dir removed when the test ends. */
export function tempDir(t: ExecutionContext, prefix = 'tsops-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Whether `age-keygen` is on PATH (the CLI tests make their age keys with it). */
export function hasAgeKeygen(): boolean {
  return spawnSync('age-keygen', ['--help']).error === undefined;
}

/** An age key pair written by the real `age-keygen` into `dir`. */
export interface AgeKeyPair {
  recipient: string;
  identity: string;
  keyFile: string;
}

/** Makes a fresh age key with `age-keygen -o DIR/NAME`; throws when age-keygen is missing. */
export function ageKeygen(dir: string, name = 'keys.txt'): AgeKeyPair {
  const keyFile = join(dir, name);
  const r = spawnSync('age-keygen', ['-o', keyFile], { encoding: 'utf8' });
  if (r.error || r.status !== 0) throw new Error(`age-keygen failed: ${r.error?.message ?? r.stderr}`);
  const text = readFileSync(keyFile, 'utf8');
  const recipient = /^# public key: (age1[0-9a-z]+)$/m.exec(text)?.[1];
  const identity = /^(AGE-SECRET-KEY-1[0-9A-Z]+)$/m.exec(text)?.[1];
  if (!recipient || !identity) throw new Error(`age-keygen wrote an unexpected file:\n${text}`);
  return { recipient, identity, keyFile };
}

/** The entries of a directory, sorted, dotfiles included (to spot stray temp files). */
export function listDir(dir: string): string[] {
  return readdirSync(dir).sort();
}

/** A stack-trace line as Node prints it (`    at fn (file:1:2)`). */
export const STACK_LINE = /^\s+at /m;

export interface FailureExpectation {
  /** The exit code sops uses. */
  code: number;
  /** What the message must say. */
  message?: RegExp;
  /** Plaintext values that must not appear on stderr (nor stdout). */
  secrets?: readonly string[];
}

/**
 * Asserts a clean failure: the exit code, exactly one `tsops: error:` line, no stack trace,
 * nothing on stdout, and none of the secret values anywhere in the output.
 */
export function assertCleanFailure(t: ExecutionContext, r: CliResult, exp: FailureExpectation): void {
  t.is(r.code, exp.code, `exit code (stderr: ${r.stderr})`);
  t.is(r.out, '', 'nothing on stdout');
  t.is(r.stderr.match(/^tsops: error: /gm)?.length ?? 0, 1, `exactly one error message:\n${r.stderr}`);
  t.notRegex(r.stderr, STACK_LINE, 'no stack trace');
  if (exp.message) t.regex(r.stderr, exp.message);
  for (const s of exp.secrets ?? []) t.false(r.stderr.includes(s), `secret ${JSON.stringify(s)} leaked on stderr:\n${r.stderr}`);
}

/** A working directory with its own HOME and a fresh age key (SOPS_AGE_KEY_FILE set). */
export interface AgeWorkspace {
  /** HOME (holds the key file; never inside `dir`). */
  home: string;
  /** The working directory the CLI runs in. */
  dir: string;
  key: AgeKeyPair;
  env: Record<string, string>;
  /** Runs the CLI in `dir` with `env` (plus `extraEnv`; an undefined value removes a variable). */
  run(args: string[], opts?: { input?: string | Uint8Array; extraEnv?: Record<string, string | undefined>; cwd?: string; asUser?: number }): Promise<CliResult>;
  /** Writes `content` to `dir/name` (creating parent directories) and returns the full path. */
  write(name: string, content: string | Uint8Array): string;
  /** Reads `dir/name` as UTF-8. */
  read(name: string): string;
  /** Encrypts `name` (in `dir`) for the workspace key to stdout; fails the test on error. */
  encrypted(name: string, extraArgs?: string[]): Promise<string>;
}

/** Makes an {@link AgeWorkspace} removed in teardown. */
export function ageWorkspace(t: ExecutionContext): AgeWorkspace {
  const home = tempDir(t);
  const dir = join(home, 'work');
  mkdirSync(dir);
  const key = ageKeygen(home);
  const env = { ...baseEnv(home), SOPS_AGE_KEY_FILE: key.keyFile };
  const ws: AgeWorkspace = {
    home,
    dir,
    key,
    env,
    run: (args, opts = {}) =>
      runCli(args, {
        cwd: opts.cwd ?? dir,
        env: { ...env, ...opts.extraEnv },
        ...(opts.input !== undefined ? { input: opts.input } : {}),
        ...(opts.asUser !== undefined ? { asUser: opts.asUser } : {}),
      }),
    write(name, content) {
      const p = join(dir, name);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, content);
      return p;
    },
    read: (name) => readFileSync(join(dir, name), 'utf8'),
    async encrypted(name, extraArgs = []) {
      const r = await ws.run(['encrypt', '--age', key.recipient, ...extraArgs, name]);
      if (r.code !== 0) throw new Error(`encrypting ${name} failed (${r.code}): ${r.stderr}`);
      return r.out;
    },
  };
  return ws;
}
