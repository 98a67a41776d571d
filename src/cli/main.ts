/**
 * The tsops command line: sops v3.13 syntax (`tsops encrypt FILE`, `tsops decrypt FILE`) and
 * the legacy flags (`tsops -e FILE`, `tsops -d FILE`). Commands only turn flags into options,
 * call the library and print; errors are printed once with sops's exit codes.
 */
import yargs from 'yargs';
import { ExitCode, SopsError } from '../errors.js';
import { reportError } from './common.js';
import { decryptOptions, runDecrypt, type DecryptArgs } from './commands/decrypt.js';
import { encryptOptions, runEncrypt, type EncryptArgs } from './commands/encrypt.js';
import { VERSION } from '../version.js';

const LEGACY: Record<string, string> = { '-e': 'encrypt', '--encrypt': 'encrypt', '-d': 'decrypt', '--decrypt': 'decrypt' };
const COMMANDS = new Set(['encrypt', 'decrypt', 'completion']);

/** `tsops -e FILE` -> `tsops encrypt FILE` (the form sops kept from v1/v2). */
export function rewriteLegacy(argv: readonly string[]): string[] {
  if (argv.some((a) => COMMANDS.has(a))) return [...argv];
  const i = argv.findIndex((a) => a in LEGACY);
  if (i < 0) return [...argv];
  return [LEGACY[argv[i]!]!, ...argv.slice(0, i), ...argv.slice(i + 1)];
}

/** Runs the CLI; resolves to the exit code. */
export async function main(rawArgv: readonly string[]): Promise<number> {
  const argv = rewriteLegacy(rawArgv);
  let code = 0;
  const run = (fn: () => Promise<number>) => async () => {
    try {
      code = await fn();
    } catch (e) {
      code = reportError(e);
    }
  };
  let pending: Promise<void> | undefined;
  const parser = yargs(argv)
    .scriptName('tsops')
    .usage('$0 <command> [options] [file]\n\nEncrypted configuration files, compatible with getsops/sops.')
    .command<EncryptArgs>('encrypt [file]', 'encrypt a file (to stdout unless -i/--output)', (y) => encryptOptions(y) as never, (a) => {
      pending = run(() => runEncrypt(a))();
    })
    .command<DecryptArgs>('decrypt [file]', 'decrypt a file (to stdout unless -i/--output)', (y) => decryptOptions(y) as never, (a) => {
      pending = run(() => runDecrypt(a))();
    })
    .completion('completion', 'print a shell completion script (bash/zsh)')
    .demandCommand(1, 'give a command: encrypt or decrypt (see --help)')
    .strict()
    .version(VERSION)
    .alias('v', 'version')
    .help()
    .alias('h', 'help')
    .exitProcess(false)
    .fail((msg, err) => {
      throw err ?? new SopsError(msg, ExitCode.Generic, { hint: 'see tsops --help' });
    });
  try {
    await parser.parseAsync();
  } catch (e) {
    return reportError(e);
  }
  if (pending) await pending;
  return code;
}
