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
import { editOptions, runEdit, type EditArgs } from './commands/edit.js';
import { execEnvOptions, execFileOptions, runExecEnv, runExecFile, type ExecArgs } from './commands/exec.js';
import { runSet, runUnset, setOptions, unsetOptions, type SetArgs } from './commands/set.js';
import { VERSION } from '../version.js';

const LEGACY: Record<string, string> = { '-e': 'encrypt', '--encrypt': 'encrypt', '-d': 'decrypt', '--decrypt': 'decrypt' };
const COMMANDS = new Set(['encrypt', 'decrypt', 'edit', 'set', 'unset', 'exec-env', 'exec-file', 'completion']);

/**
 * The forms sops kept from v1/v2: `tsops -e FILE` -> `encrypt FILE`, `-d` -> `decrypt`,
 * `--set 'PATH VALUE' FILE` -> `set FILE PATH VALUE`, and a bare `tsops FILE` -> `edit FILE`.
 */
export function rewriteLegacy(argv: readonly string[]): string[] {
  const first = argv.find((a) => !a.startsWith('-'));
  if (first !== undefined && COMMANDS.has(first)) return [...argv];
  const i = argv.findIndex((a) => a in LEGACY);
  if (i >= 0) return [LEGACY[argv[i]!]!, ...argv.slice(0, i), ...argv.slice(i + 1)];
  const s = argv.indexOf('--set');
  if (s >= 0 && argv[s + 1] !== undefined) {
    const spec = argv[s + 1]!;
    const cut = spec.indexOf('] ');
    const rest = argv.filter((_, j) => j !== s && j !== s + 1 && argv[j] !== '-i' && argv[j] !== '--in-place');
    const file = rest.filter((a) => !a.startsWith('-')).pop();
    if (cut < 0 || file === undefined) return [...argv];
    return ['set', ...rest.filter((a) => a !== file), file, spec.slice(0, cut + 1), spec.slice(cut + 2)];
  }
  if (first !== undefined && !argv.some((a) => ['--help', '-h', '--version', '-v'].includes(a))) return ['edit', ...argv];
  return [...argv];
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
    .parserConfiguration({ 'boolean-negation': false })
    .usage('$0 <command> [options] [file]\n\nEncrypted configuration files, compatible with getsops/sops.')
    .command<EncryptArgs>('encrypt [file]', 'encrypt a file (to stdout unless -i/--output)', (y) => encryptOptions(y) as never, (a) => {
      pending = run(() => runEncrypt(a))();
    })
    .command<DecryptArgs>('decrypt [file]', 'decrypt a file (to stdout unless -i/--output)', (y) => decryptOptions(y) as never, (a) => {
      pending = run(() => runDecrypt(a))();
    })
    .command<EditArgs>('edit <file>', 'edit a file in $SOPS_EDITOR/$EDITOR (also: tsops FILE)', (y) => editOptions(y) as never, (a) => {
      pending = run(() => runEdit(a))();
    })
    .command<SetArgs>('set <file> <path> [value]', 'set one value (JSON) in place', (y) => setOptions(y) as never, (a) => {
      pending = run(() => runSet(a))();
    })
    .command<SetArgs>('unset <file> <path>', 'remove a key or list element in place', (y) => unsetOptions(y) as never, (a) => {
      pending = run(() => runUnset(a))();
    })
    .command<ExecArgs>('exec-env <file> <command>', 'run a command with the decrypted values in its environment', (y) => execEnvOptions(y) as never, (a) => {
      pending = run(() => runExecEnv(a))();
    })
    .command<ExecArgs>('exec-file <file> <command>', "run a command with the decrypted file at '{}'", (y) => execFileOptions(y) as never, (a) => {
      pending = run(() => runExecFile(a))();
    })
    .completion('completion', 'print a shell completion script (bash/zsh)')
    .demandCommand(1, 'give a command (see --help)')
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
