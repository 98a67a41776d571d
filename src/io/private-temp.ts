/**
 * Private temporary directories for plaintext (edit, exec-file): mode 0700, on tmpfs
 * (`/dev/shm`) when there is one so plaintext never reaches a persistent disk, and removed on
 * every way out: normal exit, error, SIGINT, SIGTERM, SIGHUP.
 */
import { mkdtempSync, readdirSync, rmSync, statSync, accessSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from './lock.js';

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

/**
 * Removes private directories (`PREFIX-PID-XXXXXX`, ours by uid) left by killed tsops
 * processes: SIGKILL runs no cleanup, so a killed `edit` leaves its plaintext behind, readable
 * only by its owner, until the next run removes it here.
 */
export function sweepStalePrivateDirs(base: string, prefix: string): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return 0;
  }
  for (const n of names) {
    if (!n.startsWith(prefix)) continue;
    const pid = Number(/^(\d+)-[A-Za-z0-9]{6}$/.exec(n.slice(prefix.length))?.[1]);
    if (!pid || pid === process.pid || pidAlive(pid)) continue;
    const p = join(base, n);
    try {
      if (statSync(p).uid !== process.getuid?.()) continue;
      rmSync(p, { recursive: true, force: true });
      removed++;
    } catch {
      /* not ours to remove */
    }
  }
  return removed;
}

/** Creates a private (0700) directory that is removed on exit or on a terminating signal. */
export function makePrivateDir(prefix = 'tsops-'): { dir: string; remove: () => void } {
  hookSignals();
  const base = plaintextTempBase();
  sweepStalePrivateDirs(base, prefix);
  const dir = mkdtempSync(join(base, `${prefix}${process.pid}-`));
  live.add(dir);
  return {
    dir,
    remove: () => {
      live.delete(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
