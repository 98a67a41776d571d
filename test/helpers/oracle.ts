/**
 * The real sops 3.9.2 decryption engine (../shared/tools/sops-oracle) on files tsops wrote.
 * The binary is fetched once with the tool's own script (npm pack) into a cache directory.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { oracleDir, repoRoot } from './shared.js';

let bootstrapPath: string | undefined;

/** Blocks the (test) thread for `ms`. */
const sleepSync = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Path of the oracle's `bootstrap` binary, fetching it on first use. Test files run in parallel
 * processes: one takes a lock directory and fetches into a private directory, then renames the
 * checked binary into place (so nobody runs a half-written file); the others wait for it.
 */
export function oracleBootstrap(): string {
  if (bootstrapPath) return bootstrapPath;
  const fromEnv = process.env.SOPS_ORACLE_BOOTSTRAP;
  if (fromEnv && existsSync(fromEnv)) return (bootstrapPath = fromEnv);
  const dir = join(repoRoot, 'node_modules', '.cache', 'sops-oracle');
  const bin = join(dir, 'bootstrap');
  const lock = join(dir, 'fetching.lock');
  mkdirSync(dir, { recursive: true });
  const deadline = Date.now() + 10 * 60_000;
  while (!existsSync(bin)) {
    let mine = false;
    try {
      mkdirSync(lock);
      mine = true;
    } catch {
      // another test process is fetching; a lock older than the deadline is taken over below
    }
    if (mine || Date.now() > deadline) {
      const work = mkdtempSync(join(dir, 'fetch-'));
      try {
        execFileSync('bash', [join(oracleDir, 'fetch-bootstrap.sh'), work], { stdio: ['ignore', 'ignore', 'inherit'] });
        renameSync(join(work, 'bootstrap'), bin);
      } finally {
        rmSync(work, { recursive: true, force: true });
        if (mine) rmSync(lock, { recursive: true, force: true });
      }
    } else {
      sleepSync(250);
    }
  }
  return (bootstrapPath = bin);
}

export interface OracleResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface OracleOptions {
  format: 'yaml' | 'json' | 'dotenv' | 'ini' | 'binary';
  ageKey?: string;
  pgpKeyFiles?: string[];
  gnupghome?: string;
  asJson?: boolean;
}

/** Runs real sops 3.9.2 on `content`; code 0 = decrypted and MAC verified. */
export function runOracle(content: string | Uint8Array, opts: OracleOptions): Promise<OracleResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tsops-oracle-'));
  const file = join(dir, 'input');
  writeFileSync(file, content);
  const args = [join(oracleDir, 'oracle.mjs'), '--bootstrap', oracleBootstrap(), '--format', opts.format, '--timeout', '60'];
  if (opts.ageKey) {
    const kf = join(dir, 'age.key');
    writeFileSync(kf, opts.ageKey + '\n');
    args.push('--age-key-file', kf);
  }
  for (const f of opts.pgpKeyFiles ?? []) args.push('--pgp-key-file', f);
  if (opts.gnupghome) args.push('--gnupghome', opts.gnupghome);
  if (opts.asJson) args.push('--as-json');
  args.push(file);
  return new Promise((resolve) => {
    execFile(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true });
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 3) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
