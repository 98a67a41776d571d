/**
 * Access to ../shared (interop vectors and the sops oracle). When it is absent, tests that
 * need it are skipped with a loud message; in CI it is always present.
 */
import test, { type ImplementationFn } from 'ava';
import { existsSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function findShared(): string | undefined {
  const candidates = [process.env.TSOPS_SHARED_DIR, join(repoRoot, '..', 'shared')].filter((x): x is string => !!x);
  const found = candidates.find((c) => existsSync(join(c, 'vectors')));
  // The real path: the oracle only runs as a CLI when argv[1] is its real path (no symlinks).
  return found ? realpathSync(found) : undefined;
}

/** The shared directory, or undefined when it is absent. */
export const sharedDir = findShared();
export const vectorsDir = sharedDir ? join(sharedDir, 'vectors', 'sops-repo') : '';
export const oracleDir = sharedDir ? join(sharedDir, 'tools', 'sops-oracle') : '';

let warned = false;
/** `test` when ../shared is present, otherwise a skipped test plus one loud warning. */
export function sharedTest(title: string, fn: ImplementationFn<[]>): void {
  if (sharedDir) {
    test(title, fn);
    return;
  }
  if (!warned) {
    warned = true;
    process.stderr.write('\n!!! ../shared is ABSENT: interop tests against real sops files and the sops oracle are SKIPPED !!!\n\n');
  }
  test.skip(title, fn);
}

export { test };
