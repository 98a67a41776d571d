/** `tsops decrypt [file]`: print (or write) the plaintext, or one value with --extract. */
import type { Argv } from 'yargs';
import { decryptTree, renderExtracted } from '../../api.js';
import { ExitCode, SopsError } from '../../errors.js';
import { makeKeyContext } from '../../io/context.js';
import { resolveFormat, storeFor } from '../../stores/index.js';
import { getAtPath, parseTreePath } from '../../tree/path.js';
import { checkOutputFlags, indentFor, logicalName, projectConfig, readInput, warn, writeOutput, type CommonArgs } from '../common.js';
import { fileOptions } from '../options.js';

export interface DecryptArgs extends CommonArgs {
  extract?: string;
  'ignore-mac'?: boolean;
  'decryption-order'?: string;
}

export function decryptOptions<T>(y: Argv<T>) {
  return fileOptions(y)
    .option('extract', { type: 'string', describe: 'print only the value at this path, e.g. \'["db"]["password"]\'' })
    .option('ignore-mac', { type: 'boolean', describe: 'decrypt even if the MAC does not verify' })
    .option('decryption-order', { type: 'string', describe: 'key kinds to try first, comma-separated (env SOPS_DECRYPTION_ORDER)', default: process.env.SOPS_DECRYPTION_ORDER, defaultDescription: 'age,pgp' });
}

export async function runDecrypt(args: DecryptArgs): Promise<number> {
  checkOutputFlags(args);
  if (args.extract !== undefined && args['in-place']) {
    throw new SopsError('--extract cannot be used with --in-place', ExitCode.ConflictingParameters);
  }
  const steps = args.extract !== undefined ? parseTreePath(args.extract) : undefined;
  const cfg = projectConfig(args);
  const name = logicalName(args);
  const inFormat = resolveFormat(args['input-type'], name);
  const outStore = storeFor(args['output-type'] ? resolveFormat(args['output-type'], name) : inFormat);
  const data = await readInput(args);
  const indent = indentFor(args, cfg, outStore.name);
  const res = await decryptTree(data, {
    inputType: inFormat,
    filename: args.file ?? 'standard input',
    ignoreMac: !!args['ignore-mac'],
    ...(args['decryption-order'] ? { decryptionOrder: args['decryption-order'] } : {}),
    keyContext: makeKeyContext(),
  });
  for (const w of res.warnings) warn(w);
  const eo = indent !== undefined ? { indent } : {};
  let out: Uint8Array;
  if (steps) {
    const first = res.documents[0];
    if (!first) throw new SopsError('the file has no document to extract from', ExitCode.Generic);
    out = renderExtracted(getAtPath(first, steps), outStore, eo);
  } else {
    out = outStore.emit({ documents: res.documents }, eo);
  }
  await writeOutput(args, out);
  return 0;
}
