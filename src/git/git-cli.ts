/**
 * Running `git` for the git-native commands: the repository root, local config values, staged
 * blobs, and `git merge-file` for files that are not sops files. The only module of `src/git`
 * that starts processes.
 */
import { spawnSync } from 'node:child_process';
import { ExitCode, SopsError } from '../errors.js';

/** What a git run returned. */
export interface GitResult {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs git with arguments in `cwd`; never throws for a failing git (a missing git does). */
export function git(args: readonly string[], cwd: string, input?: Uint8Array): GitResult {
  const r = spawnSync('git', args, { cwd, maxBuffer: 512 * 1024 * 1024, ...(input ? { input } : {}) });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new SopsError(code === 'ENOENT' ? 'git is not installed (or not on PATH)' : `could not run git: ${r.error.message}`, ExitCode.Generic, { hint: 'install git' });
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString('utf8') };
}

/** The work tree's top directory, or undefined outside a git work tree. */
export function repositoryRoot(cwd: string): string | undefined {
  const r = git(['rev-parse', '--show-toplevel'], cwd);
  if (r.status !== 0) return undefined;
  const top = r.stdout.toString('utf8').trim();
  return top || undefined;
}

/** Like {@link repositoryRoot}, but an error (exit 1) outside a repository. */
export function requireRepositoryRoot(cwd: string, what: string): string {
  const top = repositoryRoot(cwd);
  if (!top) throw new SopsError(`${what} must run inside a git work tree (${cwd} is not in one)`, ExitCode.Generic, { hint: 'cd into the repository first' });
  return top;
}

/** A value of the repository's own config (`--local`), or undefined. */
export function localConfigGet(cwd: string, key: string): string | undefined {
  const r = git(['config', '--local', '--get', key], cwd);
  return r.status === 0 ? r.stdout.toString('utf8').replace(/\n$/, '') : undefined;
}

/** Every `key value` of the local config whose key matches the regex. */
export function localConfigList(cwd: string, keyRegex: string): Array<[string, string]> {
  const r = git(['config', '--local', '--get-regexp', keyRegex], cwd);
  if (r.status !== 0) return [];
  return r.stdout
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const i = l.indexOf(' ');
      return i < 0 ? [l, ''] : [l.slice(0, i), l.slice(i + 1)];
    });
}

function mustSucceed(r: GitResult, what: string): void {
  if (r.status !== 0) throw new SopsError(`git config failed to ${what}: ${r.stderr.trim()}`, ExitCode.Generic);
}

/** Sets a local config value. */
export function localConfigSet(cwd: string, key: string, value: string): void {
  mustSucceed(git(['config', '--local', key, value], cwd), `set ${key}`);
}

/** Removes a local config value. */
export function localConfigUnset(cwd: string, key: string): void {
  mustSucceed(git(['config', '--local', '--unset', key], cwd), `unset ${key}`);
}

/** Removes a whole local config section (`diff.tsops`); false when there was none. */
export function localConfigRemoveSection(cwd: string, section: string): boolean {
  return git(['config', '--local', '--remove-section', section], cwd).status === 0;
}

/** The staged content of a path relative to the repository root, or undefined when it is not in the index. */
export function stagedBlob(root: string, relPath: string): Uint8Array | undefined {
  const r = git(['cat-file', 'blob', `:${relPath}`], root);
  return r.status === 0 ? new Uint8Array(r.stdout) : undefined;
}

/**
 * `git merge-file` on three files: the merged text (with conflict markers) goes into `ours`.
 * Returns the number of conflicts (0 = clean); throws when git fails.
 */
export function mergeFile(cwd: string, ours: string, base: string, theirs: string, labels: [string, string, string]): number {
  const r = git(['merge-file', '-L', labels[0], '-L', labels[1], '-L', labels[2], ours, base, theirs], cwd);
  if (r.status === null || r.status < 0 || r.status > 127) throw new SopsError(`git merge-file failed: ${r.stderr.trim()}`, ExitCode.Generic);
  return r.status;
}
