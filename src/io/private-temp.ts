/**
 * Private temporary directories for plaintext (edit, exec-file): mode 0700, on tmpfs
 * (`/dev/shm`) when there is one so plaintext never reaches a persistent disk, and removed on
 * every way out: normal exit, error, SIGINT, SIGTERM, SIGHUP.
 */
import { mkdtempSync, rmSync, statSync, accessSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const live = new Set<string>();
let hooked = false;

function cleanupAll(): void {
  for (const d of live) {
    try {
      rmSync(d, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
  live.clear();
}

function hookSignals(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', cleanupAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      cleanupAll();
      // Re-raise with the default action so the exit status says which signal ended us.
      process.removeAllListeners(sig);
      process.kill(process.pid, sig);
    });
  }
}

/** The base directory for plaintext temp files: /dev/shm when usable, else the OS temp dir. */
export function plaintextTempBase(env: Record<string, string | undefined> = process.env): string {
  if (env.TSOPS_TMPDIR) return env.TSOPS_TMPDIR;
  try {
    if (statSync('/dev/shm').isDirectory()) {
      accessSync('/dev/shm', constants.W_OK);
      return '/dev/shm';
    }
  } catch {
    /* no tmpfs */
  }
  return tmpdir();
}

/** Creates a private (0700) directory that is removed on exit or on a terminating signal. */
export function makePrivateDir(prefix = 'tsops-'): { dir: string; remove: () => void } {
  hookSignals();
  const dir = mkdtempSync(join(plaintextTempBase(), prefix));
  live.add(dir);
  return {
    dir,
    remove: () => {
      live.delete(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
