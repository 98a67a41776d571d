/** Runs the real CLI (`bin/tsops.js`, built code) as a separate process. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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

/** A clean environment: no user keys or config leak into tests. */
export function baseEnv(home: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    GNUPGHOME: join(home, '.gnupg'),
    LANG: 'C.UTF-8',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.env ?? { PATH: process.env.PATH ?? '' })) if (v !== undefined) env[k] = v;
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
      resolve({ code, stdout, stderr: Buffer.concat(err).toString('utf8'), out: stdout.toString('utf8') });
    });
  });
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
