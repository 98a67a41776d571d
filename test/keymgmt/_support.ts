/**
 * Shared pieces of the key-management CLI tests: a workspace with three age keys (age-keygen)
 * and the getsops/sops functional-test PGP keys (FBC7... and D722... with secret keys,
 * B611... public only) in a private GNUPGHOME, switches to make some of them unavailable, the
 * real sops 3.9.2 oracle, and readers for the `sops` metadata of a YAML file.
 */
import type { ExecutionContext } from 'ava';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ageKeygen, baseEnv, runCli, tempDir, type AgeKeyPair, type CliResult } from '../helpers/cli.js';
import { hasGpg, makeGnupgHome, VECTOR_FP, VECTOR_KEY_FILE, VECTOR_PUBLIC_ONLY_FP } from '../helpers/gpg.js';
import { runOracle, type OracleResult } from '../helpers/oracle.js';

/** The functional-test key with a secret key (rsa2048). */
export const P1 = VECTOR_FP;
/** The second functional-test key with a secret key (rsa1024). */
export const P2 = 'D7229043384BCC60326C6FB9D8720D957C3D3074';
/** The functional-test key whose secret part is not in the key file. */
export const P3_PUBLIC_ONLY = VECTOR_PUBLIC_ONLY_FP;
/** A fingerprint no keyring knows. */
export const UNKNOWN_FP = '0123456789ABCDEF0123456789ABCDEF01234567';

export interface Workspace {
  home: string;
  dir: string;
  age: AgeKeyPair[];
  gnupg: string;
  /** A GNUPGHOME without any key: PGP decryption fails there. */
  emptyGnupg: string;
  env: Record<string, string>;
  /** Runs the CLI in `dir`. `ages`: which age identities are available (default all); `pgp: false`: no PGP secret key. */
  run(args: string[], opts?: { ages?: number[]; pgp?: boolean; input?: string; extraEnv?: Record<string, string | undefined> }): Promise<CliResult>;
  write(name: string, content: string): string;
  read(name: string): string;
  /** Real sops 3.9.2 on a file of `dir` with the given age identities and (default) the PGP keys. */
  oracle(name: string, opts?: { ages?: number[]; pgp?: boolean }): Promise<OracleResult>;
}

/** Makes a workspace (removed in teardown); throws when gpg is missing. */
export function workspace(t: ExecutionContext, ageCount = 3): Workspace {
  if (!hasGpg()) throw new Error('gpg and gpgconf are required for the key-management tests (apt-get install gnupg)');
  const home = tempDir(t, 'tsops-keymgmt-');
  const dir = join(home, 'repo');
  mkdirSync(dir);
  const age = Array.from({ length: ageCount }, (_, i) => ageKeygen(home, `age${i}.txt`));
  const gnupg = makeGnupgHome(t, { importVectorKey: true });
  const emptyGnupg = mkdtempSync(join(home, 'gnupg-empty-'));
  chmodSync(emptyGnupg, 0o700);
  const env = { ...baseEnv(home), GNUPGHOME: gnupg };
  const identities = (which: number[]) => which.map((i) => age[i]!.identity).join('\n');
  const ws: Workspace = {
    home,
    dir,
    age,
    gnupg,
    emptyGnupg,
    env,
    run(args, o = {}) {
      const ages = o.ages ?? age.map((_, i) => i);
      return runCli(args, {
        cwd: dir,
        env: { ...env, SOPS_AGE_KEY: identities(ages), GNUPGHOME: o.pgp === false ? emptyGnupg : gnupg, ...o.extraEnv },
        ...(o.input !== undefined ? { input: o.input } : {}),
      });
    },
    write(name, content) {
      const p = join(dir, name);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, content);
      return p;
    },
    read: (name) => readFileSync(join(dir, name), 'utf8'),
    oracle(name, o = {}) {
      const ages = o.ages ?? age.map((_, i) => i);
      return runOracle(readFileSync(join(dir, name)), {
        format: name.endsWith('.json') ? 'json' : 'yaml',
        ...(ages.length ? { ageKey: identities(ages) } : {}),
        ...(o.pgp === false ? {} : { pgpKeyFiles: [VECTOR_KEY_FILE] }),
      });
    },
  };
  return ws;
}

/** Asserts exit 0, with stderr in the message otherwise. */
export function ok(t: ExecutionContext, r: CliResult, what: string): void {
  t.is(r.code, 0, `${what} failed (${r.code}): ${r.stderr}`);
}

/** The `sops` block of an encrypted YAML text. */
export function sopsMeta(text: string): Record<string, any> {
  return (parseYaml(text) as { sops: Record<string, any> }).sops;
}

/** Every key of the file as `type:identity`, per group (single group = top-level lists). */
export function recipients(text: string): string[][] {
  const md = sopsMeta(text);
  const groupOf = (g: Record<string, any>) => [
    ...(g.age ?? []).map((k: any) => `age:${k.recipient}`),
    ...(g.pgp ?? []).map((k: any) => `pgp:${k.fp}`),
    ...(g.kms ?? []).map((k: any) => `kms:${k.arn}`),
    ...(g.gcp_kms ?? []).map((k: any) => `gcp_kms:${k.resource_id}`),
  ].sort();
  if (md.key_groups) return md.key_groups.map(groupOf);
  return [groupOf(md)];
}

/** The `enc` of every key, by `type:identity` (to check which were wrapped again). */
export function encs(text: string): Map<string, string> {
  const md = sopsMeta(text);
  const out = new Map<string, string>();
  const groups: Array<Record<string, any>> = md.key_groups ?? [md];
  groups.forEach((g, i) => {
    for (const k of g.age ?? []) out.set(`${i}:age:${k.recipient}`, k.enc);
    for (const k of g.pgp ?? []) out.set(`${i}:pgp:${k.fp}`, k.enc);
    for (const k of g.kms ?? []) out.set(`${i}:kms:${k.arn}`, k.enc);
    for (const k of g.gcp_kms ?? []) out.set(`${i}:gcp_kms:${k.resource_id}`, k.enc);
  });
  return out;
}

/** The `ENC[...]` values of a file, in order. */
export function encValues(text: string): string[] {
  return text.match(/ENC\[AES256_GCM,[^\]]*\]/g) ?? [];
}

/** A hand-added gcp_kms entry (as a sops user with GCP would have): tsops cannot use it. */
export const GCP_ID = 'projects/p/locations/global/keyRings/r/cryptoKeys/sops';
export const GCP_ENTRY = `- resource_id: ${GCP_ID}\n  created_at: "2024-01-02T03:04:05Z"\n  enc: CiQAbcdefGCPciphertextThatTsopsCannotUnwrap==\n`;

/** Adds {@link GCP_ENTRY} to the top-level group (single-group file) of an encrypted YAML text. */
export function withGcpEntry(text: string): string {
  const entry = GCP_ENTRY.split('\n').filter(Boolean).map((l) => `        ${l}`).join('\n');
  if (!text.includes('\nsops:\n')) throw new Error('not a YAML sops file');
  return text.replace('\nsops:\n', `\nsops:\n    gcp_kms:\n${entry}\n`);
}

/** The files of a directory (to spot stray temp files). */
export function listing(dir: string): string[] {
  return readdirSync(dir).sort();
}

/** Bytes and mtime of a file. */
export function snapshot(path: string): { bytes: Buffer; mtimeMs: number } {
  return { bytes: readFileSync(path), mtimeMs: statSync(path).mtimeMs };
}

export const PLAIN = 'db:\n    user: admin\n    password: hunter2\nlist:\n    - 1\n    - two\n# a comment\napi_key: s3cr3t\nport_unencrypted: 8080\n';
export const PLAIN_JSON_DATA = { db: { user: 'admin', password: 'hunter2' }, list: [1, 'two'], api_key: 's3cr3t', port_unencrypted: 8080 };
