/** `tsops decrypt [file]`: print (or write) the plaintext, or one value with --extract. */
import type { Argv } from 'yargs';
import { decryptTree, renderExtracted } from '../../api.js';
import { ExitCode, SopsError } from '../../errors.js';
import { mkdirSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { makeKeyContext } from '../../io/context.js';
import { readInputFile, stageFileAtomic, type StagedFile } from '../../io/files.js';
import { resolveFormat, storeFor } from '../../stores/index.js';
import { getAtPath, parseTreePath } from '../../tree/path.js';
import { checkOutputFlags, indentFor, logicalName, projectConfig, readInput, warn, writeOutput, type CommonArgs } from '../common.js';
import { fileOptions } from '../options.js';

export interface DecryptArgs extends CommonArgs {
  more?: string[];
  'output-dir'?: string;
  extract?: string;
  'ignore-mac'?: boolean;
  'decryption-order'?: string;
}

export function decryptOptions<T>(y: Argv<T>) {
  return fileOptions(y)
    .positional('more', { type: 'string', array: true, describe: 'more files (with --output-dir)' })
    .option('output-dir', { type: 'string', describe: 'decrypt every FILE given into this directory (same base names), in one process' })
    .option('extract', { type: 'string', describe: 'print only the value at this path, e.g. \'["db"]["password"]\'' })
    .option('ignore-mac', { type: 'boolean', describe: 'decrypt even if the MAC does not verify' })
    .option('decryption-order', { type: 'string', describe: 'key kinds to try first, comma-separated (env SOPS_DECRYPTION_ORDER)', default: process.env.SOPS_DECRYPTION_ORDER, defaultDescription: 'age,pgp' });
}

/** How many decrypted files may be waiting to be written at once. */
const WRITE_WINDOW = 16;

/**
 * `decrypt --output-dir DIR FILE...`: many files in one process, sharing the loaded keys. Each
 * output is written while the next files are decrypted (not flushed to disk: these are derived
 * plaintext copies, which sops does not flush either; see {@link stageFileAtomic}), and renamed into place in the
 * order of the arguments; a failure leaves the files before it written and none after it, as
 * if they had been written one by one.
 */
async function decryptMany(args: DecryptArgs, dir: string): Promise<number> {
  const files = [args.file, ...(args.more ?? [])].filter((f): f is string => !!f);
  if (files.length === 0) throw new SopsError('--output-dir needs at least one file', ExitCode.NoFileSpecified);
  if (args['in-place'] || args.output || args.extract !== undefined) {
    throw new SopsError('--output-dir cannot be combined with --in-place, --output or --extract', ExitCode.ConflictingParameters);
  }
  const cfg = projectConfig(args);
  const ctx = makeKeyContext();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  /** What the directory holds now: only those names can have a mode to keep. */
  const existing = new Set(readdirSync(dir));
  const staged: Array<Promise<StagedFile>> = [];
  /** Renames the staged files in order; the first failure wins and the files after it are discarded. */
  const commitAll = async (): Promise<void> => {
    let failure: unknown;
    for (const p of staged) {
      try {
        const f = await p;
        if (failure === undefined) f.commit();
        else f.discard();
      } catch (e) {
        failure ??= e;
      }
    }
    if (failure !== undefined) throw failure;
  };
  const ignoreMac = !!args['ignore-mac'];
  const order = args['decryption-order'] ? { decryptionOrder: args['decryption-order'] } : {};
  /** Output store and emit options by output format: the same for every file of that format. */
  const outputs = new Map<string, { outStore: ReturnType<typeof storeFor>; eo: { indent?: number } }>();
  try {
    for (const file of files) {
      const inFormat = resolveFormat(args['input-type'], file);
      const outFormat = args['output-type'] ? resolveFormat(args['output-type'], file) : inFormat;
      let o = outputs.get(outFormat);
      if (!o) {
        const outStore = storeFor(outFormat);
        const indent = indentFor(args, cfg, outStore.name);
        o = { outStore, eo: indent !== undefined ? { indent } : {} };
        outputs.set(outFormat, o);
      }
      const res = await decryptTree(readInputFile(file), { inputType: inFormat, filename: file, ignoreMac, ...order, keyContext: ctx });
      for (const w of res.warnings) warn(w);
      if (staged.length >= WRITE_WINDOW) await staged[staged.length - WRITE_WINDOW]!.catch(() => undefined);
      const p = stageFileAtomic(join(dir, basename(file)), o.outStore.emit({ documents: res.documents }, o.eo), 0o600, existing.has(basename(file)));
      p.catch(() => undefined); // reported by commitAll, in order
      staged.push(p);
    }
  } catch (e) {
    await commitAll();
    throw e;
  }
  await commitAll();
  return 0;
}

export async function runDecrypt(args: DecryptArgs): Promise<number> {
  if (args['output-dir'] !== undefined) return decryptMany(args, args['output-dir']);
  // sops ignores anything after the file, with a warning
  if (args.more?.length) warn(`ignoring arguments after the file name: ${args.more.join(' ')} (several files need --output-dir)`);
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
