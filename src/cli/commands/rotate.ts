/**
 * `tsops rotate [-i] FILE` (legacy `tsops -r FILE`): a new data key, every value re-encrypted;
 * `--add-age/--rm-age`, `--add-pgp/--rm-pgp`, `--add-kms/--rm-kms` change the recipients, and
 * `--rm-gcp-kms`, `--rm-azure-kv`, `--rm-hc-vault-transit`, `--rm-hckms` drop keys of kinds
 * tsops cannot wrap. Without -i or --output the result goes to stdout, as in sops.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { ExitCode, SopsError } from '../../errors.js';
import { makeKeyContext } from '../../io/context.js';
import { readForUpdate, readInputFile } from '../../io/files.js';
import { parseEncryptionContext } from '../../keymgmt/identity.js';
import { rotate } from '../../keymgmt/rotate.js';
import { splitList, type KeySpec } from '../../settings.js';
import { resolveFormat } from '../../stores/index.js';
import { checkOutputFlags, indentFor, logicalName, projectConfig, warn, writeOutput, type CommonArgs } from '../common.js';
import { fileOptions } from '../options.js';

/** The kinds rotate can add, with their flag names. */
const ADDABLE: ReadonlyArray<[string, string]> = [['age', 'age'], ['pgp', 'pgp'], ['kms', 'kms']];
/** The kinds rotate can remove: the addable ones plus those tsops cannot use. */
const REMOVABLE: ReadonlyArray<[string, string]> = [...ADDABLE, ['gcp_kms', 'gcp-kms'], ['azure_kv', 'azure-kv'], ['hc_vault', 'hc-vault-transit'], ['hckms', 'hckms']];

export interface RotateArgs extends CommonArgs {
  'encryption-context'?: string;
  'aws-profile'?: string;
  'ignore-mac'?: boolean;
  'decryption-order'?: string;
  [flag: string]: unknown;
}

export function rotateOptions<T>(y: Argv<T>) {
  let out = fileOptions(y)
    .option('encryption-context', { type: 'string', describe: 'KMS encryption context for --add-kms/--rm-kms keys (k1:v1,k2:v2)' })
    .option('aws-profile', { type: 'string', describe: 'AWS profile for --add-kms/--rm-kms keys' })
    .option('ignore-mac', { type: 'boolean', describe: 'rotate even if the MAC does not verify' })
    .option('decryption-order', { type: 'string', default: process.env.SOPS_DECRYPTION_ORDER, describe: 'key kinds to try first' });
  for (const [, flag] of ADDABLE) out = out.option(`add-${flag}`, { type: 'string', describe: `add these ${flag} recipients (comma-separated) to the first key group` });
  for (const [, flag] of REMOVABLE) out = out.option(`rm-${flag}`, { type: 'string', describe: `remove these ${flag} keys (comma-separated) from every key group` });
  return out;
}

function specs(args: RotateArgs, prefix: 'add' | 'rm', kinds: ReadonlyArray<[string, string]>): KeySpec[] {
  const context = parseEncryptionContext(args['encryption-context']);
  const profile = args['aws-profile'];
  return kinds.flatMap(([type, flag]) =>
    splitList(args[`${prefix}-${flag}`] as string | string[] | undefined).map((recipient) => ({
      type,
      recipient,
      ...(type === 'kms' && context ? { context } : {}),
      ...(type === 'kms' && profile ? { awsProfile: profile } : {}),
    })),
  );
}

export async function runRotate(args: RotateArgs): Promise<number> {
  checkOutputFlags(args);
  if (!args.file) throw new SopsError('no file specified', ExitCode.NoFileSpecified, { hint: 'usage: tsops rotate [-i] FILE' });
  const add = specs(args, 'add', ADDABLE);
  const remove = specs(args, 'rm', REMOVABLE);
  if (!existsSync(args.file) && add.length + remove.length > 0) {
    throw new SopsError(`cannot add or remove keys on non-existent file "${resolve(args.file)}", use the \`edit\` subcommand instead`, ExitCode.CannotChangeKeysFromNonExistentFile);
  }
  const cfg = projectConfig(args);
  const name = logicalName(args)!;
  const inFormat = resolveFormat(args['input-type'], name);
  const outFormat = args['output-type'] ? resolveFormat(args['output-type'], name) : inFormat;
  const input = args['in-place'] ? readForUpdate(args.file, 'rotate') : readInputFile(args.file);
  const indent = indentFor(args, cfg, outFormat);
  const res = await rotate(input, {
    inputType: inFormat,
    outputType: outFormat,
    filename: args.file,
    add,
    remove,
    ignoreMac: !!args['ignore-mac'],
    ...(args['decryption-order'] ? { decryptionOrder: args['decryption-order'] } : {}),
    ...(indent !== undefined ? { indent } : {}),
    keyContext: makeKeyContext(),
  });
  for (const w of res.warnings) warn(w);
  await writeOutput(args, res.output);
  return 0;
}
