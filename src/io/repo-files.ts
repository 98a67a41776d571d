/**
 * The files of a repository, for `tsops updatekeys --all`: the files git tracks when the
 * directory is inside a git work tree (`git ls-files`), otherwise every regular file below it
 * (without `.git` and `node_modules`, symbolic links not followed).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** How the list was made. */
export interface RepositoryFiles {
  /** Absolute paths, sorted. */
  files: string[];
  source: 'git' | 'walk';
}

function gitFiles(dir: string): string[] | undefined {
  const inside = spawnSync('git', ['rev-parse', '--is-inside-work-tree'], { cwd: dir, encoding: 'utf8' });
  if (inside.error || inside.status !== 0 || inside.stdout.trim() !== 'true') return undefined;
  const r = spawnSync('git', ['ls-files', '-z', '--cached', '--', '.'], { cwd: dir, maxBuffer: 256 * 1024 * 1024 });
  if (r.error || r.status !== 0) return undefined;
  return r.stdout
    .toString('utf8')
    .split('\0')
    .filter(Boolean)
    .map((p) => join(dir, p));
}

const SKIP = new Set(['.git', 'node_modules']);

function walk(dir: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) {
      if (!SKIP.has(e.name)) walk(join(dir, e.name), out);
    } else if (e.isFile()) out.push(join(dir, e.name));
  }
}

/** Lists the files under `dir` (absolute), tracked by git when `dir` is in a git work tree. */
export function listRepositoryFiles(dir: string): RepositoryFiles {
  const tracked = gitFiles(dir);
  if (tracked) return { files: tracked.sort(), source: 'git' };
  const files: string[] = [];
  walk(dir, files);
  return { files: files.sort(), source: 'walk' };
}
