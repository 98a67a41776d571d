/**
 * The command line fast path (cli/fast.ts) against yargs with the commands' real option
 * definitions: whatever argument shape the fast path takes, it must hand the command exactly
 * what yargs would.
 */
import test from 'ava';
import yargs from 'yargs';
import { fastArgs } from '../../src/cli/fast.js';
import { decryptOptions } from '../../src/cli/commands/decrypt.js';
import { encryptOptions } from '../../src/cli/commands/encrypt.js';

/** What yargs hands the command (kebab-case keys only, no undefined values), or undefined on a usage error. */
function viaYargs(argv: string[]): Record<string, unknown> | undefined {
  let got: Record<string, unknown> | undefined;
  try {
    yargs(argv)
      .parserConfiguration({ 'boolean-negation': false })
      .command('decrypt [file] [more..]', '', (y) => decryptOptions(y) as never, (a) => {
        got = a as Record<string, unknown>;
      })
      .command('encrypt [file]', '', (y) => encryptOptions(y) as never, (a) => {
        got = a as Record<string, unknown>;
      })
      .strict()
      .exitProcess(false)
      .fail((msg, err) => {
        throw err ?? new Error(msg);
      })
      .parse();
  } catch {
    return undefined;
  }
  if (!got) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(got)) {
    if (k === '_' || k === '$0' || v === undefined || /[A-Z]/.test(k) || k.length === 1) continue;
    if (k === 'more' && Array.isArray(v) && v.length === 0) continue;
    out[k] = v;
  }
  return out;
}

const SHAPES: string[][] = [
  ['decrypt', 'a.yaml'],
  ['decrypt'],
  ['decrypt', '--extract', '["a"]["b"]', 'a.yaml'],
  ['decrypt', '--output-type', 'json', '--input-type', 'yaml', 'a.enc'],
  ['decrypt', '--output-dir', 'out', 'a.yaml', 'b.yaml', 'c.json'],
  ['decrypt', 'a.yaml', 'b.yaml'],
  ['decrypt', '-i', 'a.yaml'],
  ['decrypt', '--in-place', '--verbose', '--ignore-mac', 'a.yaml'],
  ['decrypt', '--indent', '2', '--config', 'x/.sops.yaml', '--filename-override', 'f.json', 'a'],
  ['decrypt', '--decryption-order', 'pgp,age', '--output', 'o.yaml', '0123'],
  ['decrypt', '--ignore-mac', 'true', 'a.yaml'],
  ['decrypt', '--extract=x', 'a.yaml'],
  ['decrypt', '--extract', '-x', 'a.yaml'],
  ['decrypt', '--extract', 'a', '--extract', 'b', 'a.yaml'],
  ['decrypt', '--indent', 'x', 'a.yaml'],
  ['decrypt', '--help'],
  ['decrypt', '-', 'a'],
  ['decrypt', '--', 'a.yaml'],
  ['decrypt', '--no-ignore-mac', 'a.yaml'],
  ['encrypt', 'a.yaml'],
  ['encrypt', '--age', 'age1x', 'a.yaml'],
  ['encrypt', '-a', 'age1x,age1y', '-i', 'a.yaml'],
  ['encrypt', '--pgp', 'FP', '-k', 'arn:aws:kms:x', '--encryption-context', 'a:b', '--aws-profile', 'p', 'a.json'],
  ['encrypt', '--unencrypted-suffix', '_plain', '--encrypted-regex', '^pw', '--mac-only-encrypted', 'a.yaml'],
  ['encrypt', '--shamir-secret-sharing-threshold', '2', '--indent', '4', '--output', 'o', 'a.env'],
  ['encrypt', '--reuse', 'old.yaml', '--ignore-mac', '--decryption-order', 'age', 'a.yaml'],
  ['encrypt', '--allow-plaintext', 'a.yaml'],
  ['encrypt', 'a.yaml', 'b.yaml'],
  ['encrypt', '-ai', 'x', 'a.yaml'],
  ['encrypt', '--age=age1x', 'a.yaml'],
  ['edit', 'a.yaml'],
  ['--version'],
];

test('every argument shape the fast path takes parses as yargs parses it', (t) => {
  let taken = 0;
  for (const env of [{}, { SOPS_AGE_RECIPIENTS: 'age1env', SOPS_DECRYPTION_ORDER: 'age', SOPS_PGP_FP: 'FP', SOPS_KMS_ARN: 'arn' }]) {
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      for (const argv of SHAPES) {
        const fast = fastArgs(argv, process.env);
        if (!fast) continue;
        taken++;
        t.deepEqual(fast.args as Record<string, unknown>, viaYargs(argv), argv.join(' '));
      }
    } finally {
      for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
    }
  }
  t.true(taken >= 30);
});

test('shapes yargs must parse are left to it', (t) => {
  for (const argv of [['decrypt', '--help'], ['decrypt', '--extract=x', 'a'], ['decrypt', '--ignore-mac', 'true', 'a'], ['encrypt', 'a', 'b'], ['edit', 'a'], ['--version'], ['encrypt', '-ai', 'x', 'a']]) {
    t.is(fastArgs(argv, {}), undefined, argv.join(' '));
  }
});
