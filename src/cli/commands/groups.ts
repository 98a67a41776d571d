/**
 * `tsops groups add --file F [--age ..] [--pgp ..] [--kms ..] [-i]` and
 * `tsops groups delete --file F [-i] INDEX`: add a key group, or delete one by its index (from
 * 0). The data key is kept and split anew over the groups, as sops does. Without -i the result
 * goes to stdout.
 */
import type { Argv } from 'yargs';
import { ExitCode, SopsError } from '../../errors.js';
import { makeKeyContext } from '../../io/context.js';
import { readForUpdate, readInputFile, writeFileAtomic, writeStdout } from '../../io/files.js';
import { addKeyGroup, deleteKeyGroup } from '../../keymgmt/groups.js';
import { parseEncryptionContext } from '../../keymgmt/identity.js';
import { splitList, type KeySpec } from '../../settings.js';
import { resolveFormat } from '../../stores/index.js';
import { indentFor, projectConfig, warn, type CommonArgs } from '../common.js';

export interface GroupsArgs extends CommonArgs {
  age?: string | string[];
  pgp?: string | string[];
  kms?: string | string[];
  index?: string;
  'encryption-context'?: string;
  'aws-profile'?: string;
  'shamir-secret-sharing-threshold'?: number;
  'ignore-mac'?: boolean;
  'decryption-order'?: string;
}

function shared<T>(y: Argv<T>) {
  return y
    .option('file', { alias: 'f', type: 'string', describe: 'the encrypted file', demandOption: true })
    .option('in-place', { alias: 'i', type: 'boolean', describe: 'write the result over the file (atomically) instead of to stdout' })
    .option('shamir-secret-sharing-threshold', { type: 'number', describe: 'key groups needed to decrypt afterwards' })
    .option('input-type', { type: 'string', describe: 'file format; default: from the file name' })
    .option('ignore-mac', { type: 'boolean', describe: 'change the keys even if the MAC does not verify' })
    .option('decryption-order', { type: 'string', default: process.env.SOPS_DECRYPTION_ORDER, describe: 'key kinds to try first' })
    .option('config', { type: 'string', describe: 'path to .sops.yaml (for stores: settings)' })
    .option('indent', { type: 'number', describe: 'indentation of YAML/JSON output' })
    .option('verbose', { type: 'boolean' });
}

/** Registers `groups add` and `groups delete`; `start` runs a handler the way main.ts does. */
export function groupsCommands<T>(y: Argv<T>, start: (fn: () => Promise<number>) => void) {
  return y
    .command<GroupsArgs>(
      'add',
      'add a key group of the given recipients',
      (a) =>
        shared(a)
          .option('age', { type: 'string', describe: 'age recipients of the new group (repeatable, or comma-separated)' })
          .option('pgp', { type: 'string', describe: 'PGP fingerprints of the new group (repeatable, or comma-separated)' })
          .option('kms', { type: 'string', describe: 'AWS KMS ARNs (ARN[+ROLE]) of the new group (repeatable, or comma-separated)' })
          .option('encryption-context', { type: 'string', describe: 'KMS encryption context for the --kms keys (k1:v1,k2:v2)' })
          .option('aws-profile', { type: 'string', describe: 'AWS profile for the --kms keys' }) as never,
      (a) => start(() => runGroupsAdd(a)),
    )
    .command<GroupsArgs>('delete <index>', 'delete the key group at INDEX (0 is the first)', (a) => shared(a).positional('index', { type: 'string' }) as never, (a) => start(() => runGroupsDelete(a)))
    .demandCommand(1, 'give a groups command: add or delete');
}

function common(args: GroupsArgs) {
  const cfg = projectConfig(args);
  const format = resolveFormat(args['input-type'], args.file);
  const indent = indentFor(args, cfg, format);
  return {
    input: args['in-place'] ? readForUpdate(args.file!, 'groups') : readInputFile(args.file!),
    opts: {
      inputType: format,
      filename: args.file!,
      ignoreMac: !!args['ignore-mac'],
      ...(args['shamir-secret-sharing-threshold'] ? { shamirThreshold: args['shamir-secret-sharing-threshold'] } : {}),
      ...(args['decryption-order'] ? { decryptionOrder: args['decryption-order'] } : {}),
      ...(indent !== undefined ? { indent } : {}),
      keyContext: makeKeyContext(),
    },
  };
}

async function write(args: GroupsArgs, output: Uint8Array): Promise<number> {
  if (args['in-place']) writeFileAtomic(args.file!, output);
  else await writeStdout(output);
  return 0;
}

export async function runGroupsAdd(args: GroupsArgs): Promise<number> {
  const context = parseEncryptionContext(args['encryption-context']);
  const profile = args['aws-profile'];
  const group: KeySpec[] = [
    ...splitList(args.pgp).map((recipient) => ({ type: 'pgp', recipient })),
    ...splitList(args.kms).map((recipient) => ({ type: 'kms', recipient, ...(context ? { context } : {}), ...(profile ? { awsProfile: profile } : {}) })),
    ...splitList(args.age).map((recipient) => ({ type: 'age', recipient })),
  ];
  const { input, opts } = common(args);
  const res = await addKeyGroup(input, group, opts);
  for (const w of res.warnings) warn(w);
  return write(args, res.output);
}

export async function runGroupsDelete(args: GroupsArgs): Promise<number> {
  const text = String(args.index ?? '');
  if (!/^\d+$/.test(text)) {
    throw new SopsError(`failed to parse [index] argument: ${JSON.stringify(text)} is not a group index`, ExitCode.Generic, { hint: 'give the 0-based index of the group; see tsops keys FILE' });
  }
  const { input, opts } = common(args);
  const res = await deleteKeyGroup(input, Number(text), opts);
  return write(args, res.output);
}
