// The key-group scenarios of getsops/sops functional-tests/src/lib.rs (roundtrip_shamir,
// roundtrip_shamir_missing_decryption_key, test_decrypt_file_multiple_keys, test_no_keygroups,
// test_zero_keygroups, test_empty_keygroup) with the same inputs and checks, against the built
// CLI. sops runs them in functional-tests/ with its .sops.yaml and a GnuPG home holding the
// functional-test keys (FBC7... and D722... secret, B611... public only); so do we. The
// creation rules are sops's own, verbatim; the destination_rules of that file are left out
// because one of them misspells `recreation_rule` as `reencryption_rule`, which sops ignores and
// tsops's .sops.yaml validation reports as an error.
import test, { type ExecutionContext } from 'ava';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { baseEnv, runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { hasGpg, makeGnupgHome, VECTOR_KEY_FILE } from '../helpers/gpg.js';
import { runOracle } from '../helpers/oracle.js';
import { sharedTest, vectorsDir } from '../helpers/shared.js';
import { P1, P2, P3_PUBLIC_ONLY, sopsMeta } from './_support.js';

/** functional-tests/.sops.yaml, creation_rules section, byte for byte. */
const SOPS_YAML = `creation_rules:
    - path_regex: test_roundtrip_keygroups.yaml
      key_groups:
      - pgp:
        - ${P1}
      - pgp:
        - ${P2}
    - path_regex: test_roundtrip_keygroups_missing_decryption_key.yaml
      key_groups:
      - pgp:
        - ${P1}
      - pgp:
        - ${P3_PUBLIC_ONLY}
    - path_regex: test_no_keygroups.yaml
    - path_regex: test_zero_keygroups.yaml
      key_groups: []
    - path_regex: test_empty_keygroup.yaml
      key_groups:
        - {}
    - pgp: ${P1}
`;

interface Ctx {
  dir: string;
  tmp: string;
  env: Record<string, string>;
}

function setup(t: ExecutionContext): Ctx {
  if (!hasGpg()) throw new Error('gpg is required for the functional key-group scenarios');
  const home = tempDir(t);
  const dir = join(home, 'functional-tests');
  mkdirSync(dir);
  writeFileSync(join(dir, '.sops.yaml'), SOPS_YAML);
  const tmp = tempDir(t, 'sops-functional-tests');
  return { dir, tmp, env: { ...baseEnv(home), GNUPGHOME: makeGnupgHome(t, { importVectorKey: true }) } };
}

function prepareTempFile(ctx: Ctx, name: string, contents: string): string {
  const p = join(ctx.tmp, name);
  writeFileSync(p, contents);
  return p;
}

const sops = (ctx: Ctx, args: string[]): Promise<CliResult> => runCli(args, { cwd: ctx.dir, env: ctx.env });

test('roundtrip_shamir', async (t) => {
  // The .sops.yaml file ensures this file is encrypted with two key groups, each with one GPG key
  const ctx = setup(t);
  const filePath = prepareTempFile(ctx, 'test_roundtrip_keygroups.yaml', 'a: secret');
  let output = await sops(ctx, ['encrypt', '-i', filePath]);
  t.is(output.code, 0, `SOPS failed to encrypt a file with Shamir Secret Sharing: ${output.stderr}`);
  output = await sops(ctx, ['decrypt', filePath]);
  t.is(output.code, 0, `SOPS failed to decrypt a file with Shamir Secret Sharing: ${output.stderr}`);
  t.true(output.out.includes('secret'));
  // and what sops writes for it: two groups, threshold = all groups
  const md = sopsMeta(readFileSync(filePath, 'utf8'));
  t.is(md.key_groups.length, 2);
  t.is(md.shamir_threshold, 2);
  t.deepEqual(md.key_groups.map((g: any) => g.pgp.map((k: any) => k.fp)), [[P1], [P2]]);
});

sharedTest('roundtrip_shamir: real sops 3.9.2 decrypts the file tsops wrote', async (t) => {
  const ctx = setup(t);
  const filePath = prepareTempFile(ctx, 'test_roundtrip_keygroups.yaml', 'a: secret');
  t.is((await sops(ctx, ['encrypt', '-i', filePath])).code, 0);
  const r = await runOracle(readFileSync(filePath), { format: 'yaml', pgpKeyFiles: [VECTOR_KEY_FILE] });
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, 'a: secret\n');
});

test('roundtrip_shamir_missing_decryption_key', async (t) => {
  // two key groups, each with one GPG key, but we don't have one of the private keys
  const ctx = setup(t);
  const filePath = prepareTempFile(ctx, 'test_roundtrip_keygroups_missing_decryption_key.yaml', 'a: secret');
  let output = await sops(ctx, ['encrypt', '-i', filePath]);
  t.is(output.code, 0, `SOPS failed to encrypt a file with Shamir Secret Sharing: ${output.stderr}`);
  output = await sops(ctx, ['decrypt', filePath]);
  t.not(output.code, 0, 'SOPS succeeded decrypting a file with a missing decryption key');
  // sops's code for "could not retrieve the data key", and both groups are reported
  t.is(output.code, 128);
  t.is(output.out, '');
  t.regex(output.stderr, /2 key groups are required, only 1 could be decrypted/);
  t.regex(output.stderr, new RegExp(`group 1: pgp ${P3_PUBLIC_ONLY}`));
});

sharedTest('test_decrypt_file_multiple_keys', async (t) => {
  const ctx = setup(t);
  const filePath = join(ctx.tmp, 'test_decrypt_file_multiple_keys.yaml');
  copyFileSync(join(vectorsDir, 'multiple_keys.yaml'), filePath);
  const output = await sops(ctx, ['decrypt', filePath]);
  t.is(output.code, 0, `SOPS failed to decrypt a file that uses multiple keys: ${output.stderr}`);
});

for (const [name, file] of [
  ['test_no_keygroups', 'test_no_keygroups.yaml'],
  ['test_zero_keygroups', 'test_zero_keygroups.yaml'],
  ['test_empty_keygroup', 'test_empty_keygroup.yaml'],
] as const) {
  test(name, async (t) => {
    const ctx = setup(t);
    const filePath = prepareTempFile(ctx, file, 'a: secret');
    const output = await sops(ctx, ['encrypt', '-i', filePath]);
    t.not(output.code, 0, 'SOPS succeeded encrypting a file without a key group');
    t.is(output.stderr, 'Could not generate data key: [empty key group provided]\n');
    // sops's generic exit code, and the file is left as it was
    t.is(output.code, 1);
    t.is(readFileSync(filePath, 'utf8'), 'a: secret');
    // the legacy form and stdout output fail the same way
    const legacy = await sops(ctx, ['-e', filePath]);
    t.is(legacy.code, 1);
    t.is(legacy.stderr, 'Could not generate data key: [empty key group provided]\n');
    t.is(legacy.out, '');
  });
}

test('a rule whose key_groups is [] uses the flat keys, as in sops', async (t) => {
  const ctx = setup(t);
  writeFileSync(join(ctx.dir, '.sops.yaml'), `creation_rules:\n    - key_groups: []\n      pgp: ${P1}\n`);
  const filePath = prepareTempFile(ctx, 'flat.yaml', 'a: secret');
  t.is((await sops(ctx, ['encrypt', '-i', filePath])).code, 0);
  t.deepEqual(sopsMeta(readFileSync(filePath, 'utf8')).pgp.map((k: any) => k.fp), [P1]);
  const other = prepareTempFile(ctx, 'other.yaml', 'b: 1');
  // decrypting other files is not affected by an empty group elsewhere in the config
  writeFileSync(join(ctx.dir, '.sops.yaml'), `${SOPS_YAML}`);
  t.is((await sops(ctx, ['encrypt', '-i', other])).code, 0);
  t.is((await sops(ctx, ['decrypt', filePath])).code, 0);
});
