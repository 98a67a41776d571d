/**
 * Real temporary git repositories for the git-workflow tests: HOME in a temp dir, no system git
 * config, a `tsops` shell wrapper (running this checkout's bin/tsops.js) first on PATH so git's
 * drivers find it, a fresh age key, and helpers to run git and tsops there.
 */
import type { ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ageKeygen, baseEnv, runCli, tempDir, type AgeKeyPair, type CliResult } from '../helpers/cli.js';
import { repoRoot } from '../helpers/shared.js';

export interface GitResult {
  code: number | null;
  out: string;
  err: string;
}

export interface Repo {
  home: string;
  /** The repository's work tree. */
  dir: string;
  key: AgeKeyPair;
  env: Record<string, string>;
  /** Runs git in the repository (or `cwd`). */
  git(args: string[], opts?: { cwd?: string; env?: Record<string, string | undefined>; input?: string }): GitResult;
  /** Runs git and fails the test unless it exits 0; returns stdout. */
  gitOk(args: string[], opts?: { cwd?: string; env?: Record<string, string | undefined> }): string;
  /** Runs tsops (the CLI of this checkout) in the repository. */
  tsops(args: string[], opts?: { cwd?: string; extraEnv?: Record<string, string | undefined>; input?: string }): Promise<CliResult>;
  write(name: string, content: string): string;
  read(name: string): string;
  /** Writes `.sops.yaml` with one rule per path_regex, all for the repository's age key. */
  sopsConfig(...pathRegexes: string[]): void;
  /** Writes plaintext and encrypts it in place through `.sops.yaml`. */
  encryptNew(name: string, plain: string): Promise<void>;
  /** Stages everything and commits. */
  commit(message: string): void;
}

/** A new repository with one commit-ready age setup, removed after the test. */
export function gitRepo(t: ExecutionContext): Repo {
  const home = tempDir(t, 'tsops-git-');
  const dir = join(home, 'repo');
  const bin = join(home, 'bin');
  mkdirSync(dir);
  mkdirSync(bin);
  const wrapper = join(bin, 'tsops');
  writeFileSync(wrapper, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(join(repoRoot, 'bin', 'tsops.js'))} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const key = ageKeygen(home);
  const base = baseEnv(home);
  const env: Record<string, string> = {
    ...base,
    PATH: `${bin}:${base.PATH}`,
    SOPS_AGE_KEY_FILE: key.keyFile,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_PAGER: 'cat',
    PAGER: 'cat',
    GIT_TERMINAL_PROMPT: '0',
    GIT_MERGE_AUTOEDIT: 'no',
  };
  const merged = (extra?: Record<string, string | undefined>) => {
    const e: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...env, ...extra })) if (v !== undefined) e[k] = v;
    return e;
  };
  const repo: Repo = {
    home,
    dir,
    key,
    env,
    git(args, opts = {}) {
      const r = spawnSync('git', args, { cwd: opts.cwd ?? dir, env: merged(opts.env), encoding: 'utf8', ...(opts.input !== undefined ? { input: opts.input } : {}) });
      if (r.error) throw r.error;
      return { code: r.status, out: r.stdout, err: r.stderr };
    },
    gitOk(args, opts = {}) {
      const r = repo.git(args, opts);
      if (r.code !== 0) t.fail(`git ${args.join(' ')} failed (${r.code}):\n${r.out}\n${r.err}`);
      return r.out;
    },
    tsops: (args, opts = {}) => runCli(args, { cwd: opts.cwd ?? dir, env: merged(opts.extraEnv), ...(opts.input !== undefined ? { input: opts.input } : {}) }),
    write(name, content) {
      const p = join(dir, name);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, content);
      return p;
    },
    read: (name) => readFileSync(join(dir, name), 'utf8'),
    sopsConfig(...regexes) {
      repo.write('.sops.yaml', `creation_rules:\n${regexes.map((r) => `  - path_regex: '${r}'\n    age: ${key.recipient}\n`).join('')}`);
    },
    async encryptNew(name, plain) {
      repo.write(name, plain);
      const r = await repo.tsops(['encrypt', '-i', name]);
      if (r.code !== 0) t.fail(`encrypt ${name} failed (${r.code}): ${r.stderr}`);
    },
    commit(message) {
      repo.gitOk(['add', '-A']);
      repo.gitOk(['commit', '-q', '-m', message]);
    },
  };
  repo.gitOk(['init', '-q', '-b', 'main']);
  repo.gitOk(['config', 'user.name', 'Test User']);
  repo.gitOk(['config', 'user.email', 'test@example.com']);
  repo.gitOk(['config', 'commit.gpgsign', 'false']);
  return repo;
}

/** A typical secrets file. */
export const APP_YAML = `# application secrets
db:
    user: app
    password: hunter2-initial
api_token: tok-initial-0001
tls:
    cert: |
        -----BEGIN CERTIFICATE-----
        MIIBaseline0001
        MIIBaseline0002
        -----END CERTIFICATE-----
`;

/** Lines of `git diff --numstat` as [added, removed, path]. */
export function numstat(out: string): Array<[number, number, string]> {
  return out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [a, r, p] = l.split('\t');
      return [Number(a), Number(r), p!];
    });
}
