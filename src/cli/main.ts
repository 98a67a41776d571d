/**
 * The tsops command line: sops v3.13 syntax (`tsops encrypt FILE`, `tsops decrypt FILE`) and
 * the legacy flags (`tsops -e FILE`, `tsops -d FILE`). Commands only turn flags into options,
 * call the library and print; errors are printed once with sops's exit codes.
 */
import { ExitCode, SopsError } from '../errors.js';
import { fastArgs } from './fast.js';

export { setPackageImporter } from '../packages.js';

const LEGACY: Record<string, string> = { '-e': 'encrypt', '--encrypt': 'encrypt', '-d': 'decrypt', '--decrypt': 'decrypt', '-r': 'rotate', '--rotate': 'rotate' };
const COMMANDS = new Set(['encrypt', 'decrypt', 'edit', 'set', 'unset', 'exec-env', 'exec-file', 'completion', 'rotate', 'updatekeys', 'groups', 'filestatus', 'keys', 'diff', 'git', 'verify', 'config']);

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

/**
 * Runs the CLI; resolves to the exit code. The common `decrypt` and `encrypt` invocations skip yargs (see
 * `fast.ts`); everything else goes through the full parser, loaded on demand.
 */
export async function main(rawArgv: readonly string[]): Promise<number> {
  const argv = rewriteLegacy(rawArgv);
  const fast = fastArgs(argv, process.env);
  if (fast) {
    const { reportError } = await import('./common.js');
    try {
      if (fast.command === 'decrypt') return await (await import('./commands/decrypt.js')).runDecrypt(fast.args);
      return await (await import('./commands/encrypt.js')).runEncrypt(fast.args);
    } catch (e) {
      return reportError(e);
    }
  }
  const { runParsed } = await import('./parser.js');
  return runParsed(argv);
}
