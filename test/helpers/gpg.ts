/**
 * Real GnuPG for tests: a temporary GNUPGHOME per test (its gpg-agent is killed and the
 * directory removed in `t.teardown`), key import, generation and export.
 */
import type { ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** getsops/sops test files (`../shared/vectors/sops-repo` beside the repository). */
export const VECTOR_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../shared/vectors/sops-repo');
/** Two secret keys (1: FBC7..., 2: D722...) and a third key's public part, all unprotected. */
export const VECTOR_KEY_FILE = join(VECTOR_DIR, 'sops_functional_tests_key.asc');
export const VECTOR_FP = 'FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4';
/** Encryption subkey of {@link VECTOR_FP}. */
export const VECTOR_SUBKEY_FP = '71D962851765394F76DB9CFC25294A17CD90507F';
/** The vector file's third key: public only, so nothing it wraps can be unwrapped here. */
export const VECTOR_PUBLIC_ONLY_FP = 'B611A2F9F11D0FF82568805119F9B5DAEA91FF86';

let available: boolean | undefined;

/** Whether a working `gpg` (and `gpgconf`) is on PATH. */
export function hasGpg(): boolean {
  if (available === undefined) {
    available = spawnSync('gpg', ['--version']).status === 0 && spawnSync('gpgconf', ['--version']).status === 0;
  }
  return available;
}

/** A temporary directory removed in teardown. */
export function tempDir(t: ExecutionContext, prefix = 'tsops-pgp-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface GpgResult {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs `gpg --homedir H --batch ...args`; throws unless it exits 0 (or `allowFail`). */
export function gpg(home: string, args: string[], input?: string | Uint8Array, allowFail = false): GpgResult {
  const r = spawnSync('gpg', ['--homedir', home, '--batch', ...args], {
    input,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GNUPGHOME: home },
    timeout: 60_000,
  });
  const res = { status: r.status, stdout: r.stdout ?? Buffer.alloc(0), stderr: r.stderr?.toString('utf8') ?? '' };
  if (!allowFail && res.status !== 0) throw new Error(`gpg ${args.join(' ')} failed (${res.status}): ${res.stderr}`);
  return res;
}

/** Stops the gpg-agent of a home (forgets cached passphrases). */
export function killAgent(home: string): void {
  spawnSync('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, timeout: 30_000 });
}

/**
 * A fresh GNUPGHOME (mode 0700) whose gpg-agent is killed and which is removed in teardown.
 * With `importVectorKey`, the getsops/sops functional-test keys are imported.
 */
export function makeGnupgHome(t: ExecutionContext, opts: { importVectorKey?: boolean } = {}): string {
  const home = mkdtempSync(join(tmpdir(), 'tsops-gnupg-'));
  chmodSync(home, 0o700);
  t.teardown(() => {
    killAgent(home);
    rmSync(home, { recursive: true, force: true });
  });
  // a cheap S2K for passphrase-protected test keys: generating or exporting one drops from ~3 s to ~20 ms
  writeFileSync(join(home, 'gpg-agent.conf'), 's2k-count 65536\n');
  if (opts.importVectorKey) {
    gpg(home, ['--import', VECTOR_KEY_FILE]);
    // create the trustdb now: gpg processes that create it at the same moment (tests running
    // concurrently in one home) can leave it corrupted ("read expected rec type 13, got 12")
    gpg(home, ['--check-trustdb']);
  }
  return home;
}

/** Primary fingerprint first, then subkey fingerprints, of the keys matching `who`. */
export function fingerprints(home: string, who: string, secret = false): string[] {
  const out = gpg(home, ['--with-colons', '--with-subkey-fingerprints', secret ? '-K' : '-k', who]).stdout.toString();
  return out
    .split('\n')
    .filter((l) => l.startsWith('fpr:'))
    .map((l) => l.split(':')[9]!);
}

export interface GenKeyOptions {
  /** Protect the secret key with this passphrase (the agent is restarted afterwards, so it is not cached). */
  passphrase?: string;
  /** `--faked-system-time` for generation (e.g. `20200101T000000`), with `expire` for expired keys. */
  fakedTime?: string;
  /** Expiry as `--quick-gen-key` takes it (`never`, `1d`, ...). */
  expire?: string;
  algo?: string;
}

/** Generates a key with an encryption subkey; returns the primary fingerprint. */
export function generateKey(home: string, uid: string, opts: GenKeyOptions = {}): string {
  const args = [
    '--pinentry-mode', 'loopback', '--passphrase', opts.passphrase ?? '',
    ...(opts.fakedTime ? ['--faked-system-time', opts.fakedTime] : []),
    '--quick-gen-key', uid, opts.algo ?? 'future-default', 'default', opts.expire ?? 'never',
  ];
  gpg(home, args);
  if (opts.passphrase) killAgent(home);
  return fingerprints(home, uid)[0]!;
}

/** Imports an armored or binary key. */
export function importKey(home: string, key: string | Uint8Array): void {
  gpg(home, ['--import'], key);
}

/** `gpg --export` (binary unless `armor`), all keys or those matching `who`. */
export function exportPublic(home: string, who?: string, armor = false): Buffer {
  return gpg(home, [...(armor ? ['-a'] : []), '--export', ...(who ? [who] : [])]).stdout;
}

/** `gpg --export-secret-keys` (binary unless `armor`); protected keys stay protected. */
export function exportSecret(home: string, who?: string, armor = false, passphrase = ''): Buffer {
  return gpg(home, ['--pinentry-mode', 'loopback', '--passphrase', passphrase, ...(armor ? ['-a'] : []), '--export-secret-keys', ...(who ? [who] : [])]).stdout;
}

/** `gpg --list-packets` of a message: with the secret key in `home` the inner packets too. */
export function listPackets(home: string, message: string | Uint8Array, decrypt = true): string {
  return gpg(home, [...(decrypt ? [] : ['--list-only']), '--list-packets'], message, true).stdout.toString();
}

/** The armored `enc` of the first pgp entry of a sops YAML file (indented block scalar). */
export function firstPgpEnc(yamlText: string): string {
  const m = /^( *)-----BEGIN PGP MESSAGE-----\n[\s\S]*?-----END PGP MESSAGE-----/m.exec(yamlText);
  if (!m) throw new Error('no PGP message in file');
  const indent = m[1]!.length;
  return m[0]
    .split('\n')
    .map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length)))
    .join('\n');
}

/** Warns once, loudly, that gpg tests are skipped. */
export function warnNoGpg(file: string): void {
  console.error(`\n*** ${file}: gpg/gpgconf not found on PATH: SKIPPING the tests that need GnuPG ***\n`);
}
