/**
 * `tsops diff OLD NEW`: decrypt both files (either may be plaintext or encrypted, in any
 * format) and print their differences key path by key path. Values are masked unless
 * `--show-values`. Exit 0 when equal, 1 when different, sops's codes on errors.
 */
import type { Argv } from 'yargs';
import { ExitCode, SopsError } from '../../errors.js';
import { makeKeyContext } from '../../io/context.js';
import { readInputFile, readStdin, writeStdout } from '../../io/files.js';
import { loadAny } from '../../git/load-any.js';
import { diffDocuments, renderChanges } from '../../git/tree-diff.js';
import { FORMATS, isFormatName, type FormatName } from '../../stores/index.js';

export interface DiffArgs {
  old?: string;
  new?: string;
  'show-values'?: boolean;
  'input-type'?: string;
  'old-type'?: string;
  'new-type'?: string;
  'ignore-mac'?: boolean;
  'decryption-order'?: string;
}

export function diffOptions<T>(y: Argv<T>) {
  return y
    .positional('old', { type: 'string', describe: 'the old version (encrypted or plaintext; - for standard input)' })
    .positional('new', { type: 'string', describe: 'the new version (encrypted or plaintext; - for standard input)' })
    .option('show-values', { type: 'boolean', describe: 'print the values themselves (default: masked)' })
    .option('input-type', { type: 'string', describe: 'format of both files; default: from each file name' })
    .option('old-type', { type: 'string', describe: 'format of OLD only' })
    .option('new-type', { type: 'string', describe: 'format of NEW only' })
    .option('ignore-mac', { type: 'boolean', describe: 'compare even if a MAC does not verify' })
    .option('decryption-order', { type: 'string', default: process.env.SOPS_DECRYPTION_ORDER, describe: 'key kinds to try first' });
}

export async function runDiff(args: DiffArgs): Promise<number> {
  // yargs hands a lone `-` over as ''
  if (args.old === '') args.old = '-';
  if (args.new === '') args.new = '-';
  if (!args.old || !args.new) throw new SopsError('diff needs two files', ExitCode.NoFileSpecified, { hint: 'usage: tsops diff OLD NEW' });
  const ctx = makeKeyContext();
  if (args.old === '-' && args.new === '-') throw new SopsError('only one of OLD and NEW can be standard input (-)', ExitCode.ConflictingParameters);
  const load = async (file: string, type: string | undefined) => {
    const data = file === '-' ? await readStdin() : readInputFile(file);
    const explicit = type ?? args['input-type'];
    return loadAny(data, {
      name: file,
      ...(explicit ? { format: resolveExplicit(explicit) } : {}),
      keyContext: ctx,
      ignoreMac: !!args['ignore-mac'],
      ...(args['decryption-order'] ? { decryptionOrder: args['decryption-order'] } : {}),
    });
  };
  const a = await load(args.old, args['old-type']);
  const b = await load(args.new, args['new-type']);
  const changes = diffDocuments(a.documents, b.documents);
  const multiDocument = Math.max(a.documents.length, b.documents.length) > 1;
  await writeStdout(renderChanges(changes, { showValues: !!args['show-values'], multiDocument }));
  return changes.length === 0 ? 0 : 1;
}

function resolveExplicit(t: string): FormatName {
  if (!isFormatName(t)) throw new SopsError(`unknown format ${JSON.stringify(t)}`, ExitCode.Generic, { hint: `use one of ${FORMATS.join(', ')}` });
  return t;
}
