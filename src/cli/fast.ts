/**
 * The fast path of the command line: the everyday `decrypt` and `encrypt` invocations (CI
 * jobs, git textconv, scripts) are parsed here without loading yargs, which costs more than
 * decrypting a small file. Only argument shapes whose meaning under yargs is certain are
 * taken; for anything else (other commands, `--help`, unknown or repeated flags, values that
 * look like flags, `--flag=value`, combined short flags, ...) this returns undefined and yargs
 * parses.
 */
import type { DecryptArgs } from './commands/decrypt.js';
import type { EncryptArgs } from './commands/encrypt.js';

interface Spec {
  /** Flags with a string value (long or short form) -> argument name. */
  strings: ReadonlyMap<string, string>;
  /** Boolean flags -> argument name. */
  booleans: ReadonlyMap<string, string>;
  /** Flags with a (non-negative integer) number value -> argument name. */
  numbers: ReadonlyMap<string, string>;
  /** How many file arguments the command takes. */
  maxFiles: number;
  /** Defaults yargs takes from the environment: argument name -> variable. */
  env: ReadonlyArray<readonly [string, string]>;
}

const long = (...names: string[]): Array<[string, string]> => names.map((n) => [`--${n}`, n]);

const FILE_STRINGS = long('output-type', 'input-type', 'output', 'filename-override', 'config');
const FILE_BOOLEANS: Array<[string, string]> = [...long('verbose', 'in-place'), ['-i', 'in-place']];

const SPECS: Record<'decrypt' | 'encrypt', Spec> = {
  decrypt: {
    strings: new Map([...FILE_STRINGS, ...long('extract', 'output-dir', 'decryption-order')]),
    booleans: new Map([...FILE_BOOLEANS, ...long('ignore-mac')]),
    numbers: new Map(long('indent')),
    maxFiles: Infinity,
    env: [['decryption-order', 'SOPS_DECRYPTION_ORDER']],
  },
  encrypt: {
    strings: new Map([
      ...FILE_STRINGS,
      ...long('age', 'pgp', 'kms', 'encryption-context', 'aws-profile', 'reuse', 'decryption-order'),
      ...long('unencrypted-suffix', 'encrypted-suffix', 'unencrypted-regex', 'encrypted-regex', 'unencrypted-comment-regex', 'encrypted-comment-regex'),
      ['-a', 'age'], ['-p', 'pgp'], ['-k', 'kms'],
    ]),
    booleans: new Map([...FILE_BOOLEANS, ...long('mac-only-encrypted', 'ignore-mac', 'allow-plaintext')]),
    numbers: new Map(long('indent', 'shamir-secret-sharing-threshold')),
    maxFiles: 1,
    env: [['age', 'SOPS_AGE_RECIPIENTS'], ['kms', 'SOPS_KMS_ARN'], ['pgp', 'SOPS_PGP_FP'], ['decryption-order', 'SOPS_DECRYPTION_ORDER']],
  },
};

/** A command the fast path took, with its arguments as yargs would have handed them over. */
export type FastCommand = { command: 'decrypt'; args: DecryptArgs } | { command: 'encrypt'; args: EncryptArgs };

/**
 * `decrypt [flags] [FILE...]` or `encrypt [flags] [FILE]` (the legacy forms already
 * rewritten), parsed exactly as yargs would parse them, or undefined when yargs must parse
 * (see the module comment).
 */
export function fastArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): FastCommand | undefined {
  const command = argv[0];
  if (command !== 'decrypt' && command !== 'encrypt') return undefined;
  const spec = SPECS[command];
  const args: Record<string, unknown> = {};
  const files: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '') return undefined;
    if (!a.startsWith('-')) {
      files.push(a);
      continue;
    }
    const bool = spec.booleans.get(a);
    if (bool !== undefined) {
      // yargs reads `--flag true|false` as the flag's value
      const next = argv[i + 1];
      if (bool in args || next === 'true' || next === 'false') return undefined;
      args[bool] = true;
      continue;
    }
    const num = spec.numbers.get(a);
    if (num !== undefined) {
      const v = argv[++i];
      if (v === undefined || !/^[0-9]{1,6}$/.test(v) || num in args) return undefined;
      args[num] = Number(v);
      continue;
    }
    const name = spec.strings.get(a);
    if (name === undefined || name in args) return undefined;
    const v = argv[++i];
    if (v === undefined || v === '' || v.startsWith('-')) return undefined;
    args[name] = v;
  }
  if (files.length > spec.maxFiles) return undefined;
  if (files.length > 0) args.file = files[0]!;
  if (files.length > 1) args.more = files.slice(1);
  for (const [name, variable] of spec.env) {
    if (args[name] === undefined && env[variable] !== undefined) args[name] = env[variable];
  }
  return command === 'decrypt' ? { command, args: args as DecryptArgs } : { command, args: args as EncryptArgs };
}
