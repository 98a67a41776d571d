/**
 * `tsops config explain FILE`: which `.sops.yaml` was found, which creation rule matches the
 * file and why each earlier one does not, who can decrypt, and which values would be
 * encrypted. Exit 0 when a rule matches, 1 when none does (or there is no config).
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { ExitCode, SopsError } from '../../errors.js';
import { makeKeyContext } from '../../io/context.js';
import { readInputFile, writeStdout } from '../../io/files.js';
import { explainFile } from '../../git/explain.js';
import { loadProjectRules } from '../../git/project.js';
import { resolveFormat } from '../../stores/index.js';

export interface ConfigArgs {
  file?: string;
  config?: string;
  'input-type'?: string;
  'decryption-order'?: string;
}

/** Registers the `config` subcommands; `start` runs a handler the way main.ts does. */
export function configCommands<T>(y: Argv<T>, start: (fn: () => Promise<number>) => void) {
  return y
    .command<ConfigArgs>(
      'explain <file>',
      'show which .sops.yaml and creation rule apply to FILE, its recipients, and which values get encrypted',
      (a) =>
        a
          .positional('file', { type: 'string', describe: 'the file (it need not exist yet)' })
          .option('config', { type: 'string', describe: 'path to .sops.yaml (env SOPS_CONFIG)' })
          .option('input-type', { type: 'string', describe: 'file format; default: from the file name' })
          .option('decryption-order', { type: 'string', default: process.env.SOPS_DECRYPTION_ORDER, describe: 'key kinds to try first' }) as never,
      (a) => start(() => runConfigExplain(a)),
    )
    .demandCommand(1, 'give a config command: explain');
}

export async function runConfigExplain(args: ConfigArgs): Promise<number> {
  const cwd = process.cwd();
  const rules = loadProjectRules({ cwd, ...(args.config ? { configPath: args.config } : {}), env: process.env as Record<string, string | undefined> });
  if (!rules.path) {
    throw new SopsError(`no .sops.yaml found (searched from ${cwd} upward)`, ExitCode.Generic, {
      hint: 'create one in the repository root, or pass --config PATH / set SOPS_CONFIG',
    });
  }
  const absFile = resolve(cwd, args.file!);
  const exists = existsSync(absFile) && statSync(absFile).isFile();
  const res = await explainFile({
    rules,
    cwd,
    absFile,
    ...(exists ? { data: readInputFile(absFile) } : {}),
    format: resolveFormat(args['input-type'], absFile),
    keyContext: makeKeyContext(),
    ...(args['decryption-order'] ? { decryptionOrder: args['decryption-order'] } : {}),
  });
  await writeStdout(res.text);
  return res.matched ? 0 : ExitCode.Generic;
}
