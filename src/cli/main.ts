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
import { rotateOptions, runRotate, type RotateArgs } from './commands/rotate.js';
import { runUpdateKeys, updateKeysOptions, type UpdateKeysArgs } from './commands/updatekeys.js';
import { groupsCommands } from './commands/groups.js';
import { fileStatusOptions, keysOptions, runFileStatus, runKeys, type FileStatusArgs, type KeysArgs } from './commands/keys.js';
import { VERSION } from '../version.js';

const LEGACY: Record<string, string> = { '-e': 'encrypt', '--encrypt': 'encrypt', '-d': 'decrypt', '--decrypt': 'decrypt', '-r': 'rotate', '--rotate': 'rotate' };
const COMMANDS = new Set(['encrypt', 'decrypt', 'edit', 'set', 'unset', 'exec-env', 'exec-file', 'completion', 'rotate', 'updatekeys', 'groups', 'filestatus', 'keys']);

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

/**
 * A flag or argument yargs rejected, as one error with the usage line. Unknown flags are named
 * once, as typed (yargs also lists their camelCase form).
 */
export function usageError(msg: string, argv: readonly string[]): SopsError {
  const m = /^Unknown arguments?: (.*)$/s.exec(msg);
  if (m) {
    const names = m[1]!.split(', ');
    const camel = (n: string) => n.replace(/-+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    const shown = names
      .filter((n) => !names.some((o) => o !== n && camel(o) === n))
      .map((n) => argv.find((a) => a === `--${n}` || a === `-${n}` || a.startsWith(`--${n}=`))?.replace(/=.*$/s, '') ?? n);
    msg = `unknown ${shown.length > 1 ? 'arguments' : 'argument'}: ${shown.join(', ')}`;
  }
  return new SopsError(msg, ExitCode.Generic, { hint: 'usage: tsops <command> [options] [file]; see tsops --help, or tsops <command> --help for its flags' });
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
    .command<DecryptArgs>('decrypt [file] [more..]', 'decrypt a file (to stdout unless -i/--output)', (y) => decryptOptions(y) as never, (a) => {
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
    .command<RotateArgs>('rotate [file]', 'new data key, every value re-encrypted; --add-*/--rm-* change recipients (also: tsops -r FILE)', (y) => rotateOptions(y) as never, (a) => {
      pending = run(() => runRotate(a))();
    })
    .command<UpdateKeysArgs>('updatekeys [files..]', "bring files' keys in line with .sops.yaml (--all, --dry-run, --rotate)", (y) => updateKeysOptions(y) as never, (a) => {
      pending = run(() => runUpdateKeys(a))();
    })
    .command('groups', 'add or delete key groups (groups add --file F --age ..., groups delete --file F INDEX)', (y) => groupsCommands(y, (fn) => {
      pending = run(fn)();
    }) as never, () => {})
    .command<FileStatusArgs>('filestatus [file]', 'print {"encrypted":true|false}', (y) => fileStatusOptions(y) as never, (a) => {
      pending = run(() => runFileStatus(a))();
    })
    .command<KeysArgs>('keys [files..]', 'list who can decrypt each file: key groups, recipients, dates', (y) => keysOptions(y) as never, (a) => {
      pending = run(() => runKeys(a))();
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
      throw err ?? usageError(msg, argv);
    });
  try {
    await parser.parseAsync();
  } catch (e) {
    return reportError(e);
  }
  if (pending) await pending;
  return code;
}
