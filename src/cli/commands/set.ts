/** `tsops set FILE PATH VALUE` and `tsops unset FILE PATH`: change one value in place. */
import type { Argv } from 'yargs';
import { ExitCode, SopsError } from '../../errors.js';
import { makeKeyContext } from '../../io/context.js';
import { endUpdate, readForUpdate, readInputFile, readStdin, writeFileAtomic } from '../../io/files.js';
import { setEncrypted, unsetEncrypted } from '../../modify.js';
import { resolveFormat } from '../../stores/index.js';
import { indentFor, log, projectConfig, type CommonArgs } from '../common.js';

export interface SetArgs extends CommonArgs {
  path?: string;
  value?: string;
  'value-file'?: boolean;
  'value-stdin'?: boolean;
  idempotent?: boolean;
  'ignore-mac'?: boolean;
  'decryption-order'?: string;
}

function shared<T>(y: Argv<T>) {
  return y
    .positional('file', { type: 'string', describe: 'the encrypted file (changed in place)' })
    .positional('path', { type: 'string', describe: 'where, e.g. \'["db"]["password"]\'' })
    .option('input-type', { type: 'string' })
    .option('output-type', { type: 'string', describe: 'rewrite the file in this format' })
    .option('idempotent', { type: 'boolean', describe: 'do not write the file when nothing changes (set), or when the path is missing (unset)' })
    .option('ignore-mac', { type: 'boolean' })
    .option('decryption-order', { type: 'string', default: process.env.SOPS_DECRYPTION_ORDER })
    .option('config', { type: 'string' })
    .option('indent', { type: 'number' })
    .option('verbose', { type: 'boolean' });
}

export function setOptions<T>(y: Argv<T>) {
  return shared(y)
    .positional('value', { type: 'string', describe: 'a JSON value (\'"text"\', 5, {"a": 1}), or a file name with --value-file' })
    .option('value-file', { type: 'boolean', describe: 'VALUE is the name of a file holding the JSON value' })
    .option('value-stdin', { type: 'boolean', describe: 'read the JSON value from standard input (keeps secrets out of the process list)' });
}

export const unsetOptions = shared;

async function valueOf(args: SetArgs): Promise<string> {
  if (args['value-stdin']) {
    if (args['value-file']) throw new SopsError('--value-stdin and --value-file cannot be used together', ExitCode.ConflictingParameters);
    if (args.value !== undefined) throw new SopsError('with --value-stdin give no VALUE argument', ExitCode.ConflictingParameters);
    return Buffer.from(await readStdin()).toString('utf8');
  }
  if (args.value === undefined) throw new SopsError('set needs a VALUE (or --value-stdin)', ExitCode.InvalidSetFormat);
  if (args['value-file']) return Buffer.from(readInputFile(args.value)).toString('utf8');
  return args.value;
}

function opts(args: SetArgs) {
  const cfg = projectConfig(args);
  const inFormat = resolveFormat(args['input-type'], args.file);
  const outFormat = args['output-type'] ? resolveFormat(args['output-type'], args.file) : inFormat;
  const indent = indentFor(args, cfg, outFormat);
  return {
    inputType: inFormat,
    outputType: outFormat,
    filename: args.file!,
    ignoreMac: !!args['ignore-mac'],
    ...(args['decryption-order'] ? { decryptionOrder: args['decryption-order'] } : {}),
    ...(indent !== undefined ? { indent } : {}),
    keyContext: makeKeyContext(),
  };
}

export async function runSet(args: SetArgs): Promise<number> {
  const value = await valueOf(args);
  const o = opts(args);
  const input = readForUpdate(args.file!, 'set');
  const res = await setEncrypted(input, args.path!, value, o);
  if (!res.changed || (args.idempotent && !res.valuesChanged)) {
    endUpdate(args.file!);
    log(args, 'the value is already set; the file was left untouched');
    return 0;
  }
  writeFileAtomic(args.file!, res.output);
  return 0;
}

export async function runUnset(args: SetArgs): Promise<number> {
  const o = opts(args);
  const input = readForUpdate(args.file!, 'unset');
  const res = await unsetEncrypted(input, args.path!, { ...o, idempotent: !!args.idempotent });
  if (!res.changed || (args.idempotent && !res.valuesChanged)) {
    endUpdate(args.file!);
    log(args, 'nothing to remove; the file was left untouched');
    return 0;
  }
  writeFileAtomic(args.file!, res.output);
  return 0;
}
