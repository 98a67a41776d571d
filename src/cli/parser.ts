/**
 * The full command line parser (yargs): every command, flag, alias, `--help`, `--version` and
 * completion. `main.ts` only comes here for argument shapes its fast path does not take; yargs
 * and the command modules are loaded here, the command modules only as far as needed.
 *
 * Adding a command: its `.command(...)` below, its module in `loaders` and `MODULE_OF`, and its
 * name in `COMMANDS` of main.ts.
 */
import type yargsType from 'yargs';
import { importPackage } from '../packages.js';
import { reportError } from './common.js';
import { usageError } from './main.js';
import { VERSION } from '../version.js';
import type { DecryptArgs } from './commands/decrypt.js';
import type { EncryptArgs } from './commands/encrypt.js';
import type { EditArgs } from './commands/edit.js';
import type { ExecArgs } from './commands/exec.js';
import type { SetArgs } from './commands/set.js';
import type { RotateArgs } from './commands/rotate.js';
import type { UpdateKeysArgs } from './commands/updatekeys.js';
import type { FileStatusArgs, KeysArgs } from './commands/keys.js';
import type { DiffArgs } from './commands/diff.js';
import type { VerifyArgs } from './commands/verify.js';

const loaders = {
  encrypt: () => import('./commands/encrypt.js'),
  decrypt: () => import('./commands/decrypt.js'),
  edit: () => import('./commands/edit.js'),
  set: () => import('./commands/set.js'),
  exec: () => import('./commands/exec.js'),
  rotate: () => import('./commands/rotate.js'),
  updatekeys: () => import('./commands/updatekeys.js'),
  groups: () => import('./commands/groups.js'),
  keys: () => import('./commands/keys.js'),
  diff: () => import('./commands/diff.js'),
  git: () => import('./commands/git.js'),
  verify: () => import('./commands/verify.js'),
  config: () => import('./commands/config.js'),
};
type Loaders = typeof loaders;
type Modules = { -readonly [K in keyof Loaders]?: Awaited<ReturnType<Loaders[K]>> };

/** The module of each command name. */
const MODULE_OF: Record<string, keyof Loaders> = {
  encrypt: 'encrypt', decrypt: 'decrypt', edit: 'edit', set: 'set', unset: 'set', 'exec-env': 'exec', 'exec-file': 'exec',
  rotate: 'rotate', updatekeys: 'updatekeys', groups: 'groups', filestatus: 'keys', keys: 'keys',
  diff: 'diff', git: 'git', verify: 'verify', config: 'config',
};

/**
 * The command modules yargs may need: only the named command's when the command comes first
 * (yargs then builds only that command), all of them otherwise (help, completion, flags first).
 */
async function loadModules(argv: readonly string[]): Promise<Modules> {
  const one = argv[0] !== undefined ? MODULE_OF[argv[0]] : undefined;
  const names = one ? [one] : (Object.keys(loaders) as Array<keyof Loaders>);
  const mods: Modules = {};
  await Promise.all(names.map(async (n) => {
    (mods as Record<string, unknown>)[n] = await loaders[n]();
  }));
  return mods;
}

/** Parses `argv` (legacy forms already rewritten) with yargs and runs the command; resolves to the exit code. */
export async function runParsed(argv: string[]): Promise<number> {
  const [m, { default: yargs }] = await Promise.all([loadModules(argv), importPackage<{ default: typeof yargsType }>('yargs')]);
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
    .command<EncryptArgs>('encrypt [file]', 'encrypt a file (to stdout unless -i/--output)', (y) => m.encrypt!.encryptOptions(y) as never, (a) => {
      pending = run(() => m.encrypt!.runEncrypt(a))();
    })
    .command<DecryptArgs>('decrypt [file] [more..]', 'decrypt a file (to stdout unless -i/--output)', (y) => m.decrypt!.decryptOptions(y) as never, (a) => {
      pending = run(() => m.decrypt!.runDecrypt(a))();
    })
    .command<EditArgs>('edit <file>', 'edit a file in $SOPS_EDITOR/$EDITOR (also: tsops FILE)', (y) => m.edit!.editOptions(y) as never, (a) => {
      pending = run(() => m.edit!.runEdit(a))();
    })
    .command<SetArgs>('set <file> <path> [value]', 'set one value (JSON) in place', (y) => m.set!.setOptions(y) as never, (a) => {
      pending = run(() => m.set!.runSet(a))();
    })
    .command<SetArgs>('unset <file> <path>', 'remove a key or list element in place', (y) => m.set!.unsetOptions(y) as never, (a) => {
      pending = run(() => m.set!.runUnset(a))();
    })
    .command<ExecArgs>('exec-env <file> <command>', 'run a command with the decrypted values in its environment', (y) => m.exec!.execEnvOptions(y) as never, (a) => {
      pending = run(() => m.exec!.runExecEnv(a))();
    })
    .command<ExecArgs>('exec-file <file> <command>', "run a command with the decrypted file at '{}'", (y) => m.exec!.execFileOptions(y) as never, (a) => {
      pending = run(() => m.exec!.runExecFile(a))();
    })
    .command<RotateArgs>('rotate [file]', 'new data key, every value re-encrypted; --add-*/--rm-* change recipients (also: tsops -r FILE)', (y) => m.rotate!.rotateOptions(y) as never, (a) => {
      pending = run(() => m.rotate!.runRotate(a))();
    })
    .command<UpdateKeysArgs>('updatekeys [files..]', "bring files' keys in line with .sops.yaml (--all, --dry-run, --rotate)", (y) => m.updatekeys!.updateKeysOptions(y) as never, (a) => {
      pending = run(() => m.updatekeys!.runUpdateKeys(a))();
    })
    .command('groups', 'add or delete key groups (groups add --file F --age ..., groups delete --file F INDEX)', (y) => m.groups!.groupsCommands(y, (fn) => {
      pending = run(fn)();
    }) as never, () => {})
    .command<FileStatusArgs>('filestatus [file]', 'print {"encrypted":true|false}', (y) => m.keys!.fileStatusOptions(y) as never, (a) => {
      pending = run(() => m.keys!.runFileStatus(a))();
    })
    .command<KeysArgs>('keys [files..]', 'list who can decrypt each file: key groups, recipients, dates', (y) => m.keys!.keysOptions(y) as never, (a) => {
      pending = run(() => m.keys!.runKeys(a))();
    })
    .command<DiffArgs>('diff <old> <new>', 'compare two files (encrypted or not) key by key; exit 1 when they differ', (y) => m.diff!.diffOptions(y) as never, (a) => {
      pending = run(() => m.diff!.runDiff(a))();
    })
    .command('git', 'git integration: setup (diff and merge drivers), textconv, merge', (y) => m.git!.gitCommands(y, (fn) => {
      pending = run(fn)();
    }) as never, () => {})
    .command<VerifyArgs>('verify [files..]', 'check that the files .sops.yaml rules match are encrypted and intact (--staged: pre-commit)', (y) => m.verify!.verifyOptions(y) as never, (a) => {
      pending = run(() => m.verify!.runVerify(a))();
    })
    .command('config', 'inspect .sops.yaml: config explain FILE', (y) => m.config!.configCommands(y, (fn) => {
      pending = run(fn)();
    }) as never, () => {})
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
