/**
 * `tsops filestatus FILE` (sops: `{"encrypted":true|false}`) and `tsops keys FILE...` (beyond
 * sops: who can decrypt each file: its key groups, the threshold, every recipient and when its
 * copy of the data key was wrapped). Neither needs a key.
 */
import type { Argv } from 'yargs';
import { ExitCode, SopsError } from '../../errors.js';
import { readInputFile, writeStdout } from '../../io/files.js';
import { fileStatus, listKeys, type KeyListing } from '../../keymgmt/inspect.js';
import { resolveFormat } from '../../stores/index.js';
import { reportError } from '../common.js';

export interface FileStatusArgs {
  file?: string;
  'input-type'?: string;
}

export function fileStatusOptions<T>(y: Argv<T>) {
  return y
    .positional('file', { type: 'string', describe: 'the file to check' })
    .option('input-type', { type: 'string', describe: 'file format; default: from the file name' });
}

export async function runFileStatus(args: FileStatusArgs): Promise<number> {
  if (!args.file) throw new SopsError('no file specified', ExitCode.NoFileSpecified, { hint: 'usage: tsops filestatus FILE' });
  let input: Uint8Array;
  try {
    input = readInputFile(args.file);
  } catch (e) {
    // sops reports an unreadable file as a generic failure of filestatus
    throw new SopsError(`cannot check file status: ${(e as Error).message}`, ExitCode.Generic, { hint: 'check the path' });
  }
  const status = fileStatus(input, { inputType: resolveFormat(args['input-type'], args.file), filename: args.file });
  await writeStdout(JSON.stringify(status) + '\n');
  return 0;
}

export interface KeysArgs {
  files?: string[];
  json?: boolean;
  'input-type'?: string;
}

export function keysOptions<T>(y: Argv<T>) {
  return y
    .positional('files', { type: 'string', array: true, describe: 'encrypted files' })
    .option('json', { type: 'boolean', describe: 'print JSON (one object per file, in an array)' })
    .option('input-type', { type: 'string', describe: 'file format; default: from each file name' });
}

/** The listing as text. */
export function renderListing(l: KeyListing): string {
  const n = l.groups.length;
  const head = n === 1 ? '1 key group: any of its keys can decrypt' : `${n} key groups: ${l.threshold} of ${n} are needed to decrypt (Shamir)`;
  const lines = [`${l.file}`, `  ${head}; last modified ${l.lastModified}; sops format ${l.version}`];
  l.groups.forEach((g, i) => {
    lines.push(`  group ${i + 1} (index ${i}):`);
    const width = Math.max(0, ...g.map((k) => k.type.length));
    for (const k of g) {
      const when = k.createdAt ? `  (wrapped ${k.createdAt})` : '';
      const usable = k.usable ? '' : `  [tsops cannot use ${k.type} keys; kept as is]`;
      lines.push(`    ${k.type.padEnd(width)}  ${k.identity}${when}${usable}`);
    }
  });
  return lines.join('\n') + '\n';
}

export async function runKeys(args: KeysArgs): Promise<number> {
  const files = args.files ?? [];
  if (files.length === 0) throw new SopsError('no file specified', ExitCode.NoFileSpecified, { hint: 'usage: tsops keys FILE...' });
  const listings: KeyListing[] = [];
  let failed = 0;
  let lastCode = 0;
  for (const file of files) {
    try {
      const l = listKeys(readInputFile(file), { inputType: resolveFormat(args['input-type'], file), filename: file });
      listings.push(l);
      if (!args.json) await writeStdout((listings.length > 1 ? '\n' : '') + renderListing(l));
    } catch (e) {
      if (files.length === 1) throw e;
      failed++;
      lastCode = reportError(e);
    }
  }
  if (args.json) await writeStdout(JSON.stringify(listings, null, 2) + '\n');
  if (failed > 0) return failed === files.length ? lastCode : ExitCode.Generic;
  return 0;
}
