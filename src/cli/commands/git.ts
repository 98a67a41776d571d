/**
 * `tsops git setup [--uninstall]`, `tsops git textconv FILE` and
 * `tsops git merge BASE OURS THEIRS [PATH]`: readable diffs and key-by-key merges of sops files
 * in git. Setup writes `.gitattributes` and the local git config; git then runs the other two.
 */
import { resolve } from 'node:path';
import type { Argv } from 'yargs';
import { ExitCode, SopsError } from '../../errors.js';
import { loadProjectConfig } from '../../io/config.js';
import { makeKeyContext } from '../../io/context.js';
import { readInputFile, writeFileAtomic, writeStdout } from '../../io/files.js';
import { mergeFile, requireRepositoryRoot } from '../../git/git-cli.js';
import { mergeEncrypted } from '../../git/merge-driver.js';
import { loadProjectRules } from '../../git/project.js';
import { gitSetup } from '../../git/setup.js';
import { textconv } from '../../git/textconv.js';
import { sniffFormat } from '../../git/load-any.js';
import type { FormatName } from '../../stores/index.js';
import { reportError } from '../common.js';

export interface GitArgs {
  uninstall?: boolean;
  command?: string;
  config?: string;
  file?: string;
  base?: string;
  ours?: string;
  theirs?: string;
  path?: string;
  'decryption-order'?: string;
}

const note = (msg: string) => process.stderr.write(`tsops: note: ${msg}\n`);

/** `stores:` indentation from `.sops.yaml`, if one is found and valid (never an error here). */
function configIndent(format: FormatName): number | undefined {
  try {
    return loadProjectConfig({ cwd: process.cwd(), env: process.env as Record<string, string | undefined> }).indentFor(format);
  } catch {
    return undefined;
  }
}

/** Registers the `git` subcommands; `start` runs a handler the way main.ts does. */
export function gitCommands<T>(y: Argv<T>, start: (fn: () => Promise<number>) => void) {
  return y
    .command<GitArgs>(
      'setup',
      'configure the textconv diff and merge drivers for the files of the .sops.yaml creation rules (--uninstall removes them)',
      (a) =>
        a
          .option('uninstall', { type: 'boolean', describe: 'remove what setup added' })
          .option('command', { type: 'string', default: 'tsops', describe: 'how git should run tsops (e.g. "npx tsops")' })
          .option('config', { type: 'string', describe: 'path to .sops.yaml (env SOPS_CONFIG)' }) as never,
      (a) => start(() => runGitSetup(a)),
    )
    .command<GitArgs>(
      'textconv <file>',
      'print a sops file decrypted (anything else unchanged); for git diff',
      (a) => a.positional('file', { type: 'string' }).option('decryption-order', { type: 'string', default: process.env.SOPS_DECRYPTION_ORDER }) as never,
      (a) => start(() => runGitTextconv(a)),
    )
    .command<GitArgs>(
      'merge <base> <ours> <theirs> [path]',
      "git merge driver: merge three versions key by key into OURS (%A), encrypted with its data key",
      (a) =>
        a
          .positional('base', { type: 'string', describe: 'the common ancestor (%O)' })
          .positional('ours', { type: 'string', describe: 'our version, overwritten with the result (%A)' })
          .positional('theirs', { type: 'string', describe: 'their version (%B)' })
          .positional('path', { type: 'string', describe: 'the path in the repository (%P): format and messages' })
          .option('decryption-order', { type: 'string', default: process.env.SOPS_DECRYPTION_ORDER }) as never,
      (a) => start(() => runGitMerge(a)),
    )
    .demandCommand(1, 'give a git command: setup, textconv or merge');
}

export async function runGitSetup(args: GitArgs): Promise<number> {
  const cwd = process.cwd();
  const repoRoot = requireRepositoryRoot(cwd, 'tsops git setup');
  const rules = loadProjectRules({ cwd, ...(args.config ? { configPath: args.config } : {}), env: process.env as Record<string, string | undefined> });
  if (!args.uninstall && !rules.loaded.config?.creationRules?.length) {
    throw new SopsError(rules.path ? `${rules.path} has no creation rules: there is nothing to set up` : 'no .sops.yaml found: git setup maps its creation rules to files', ExitCode.Generic, {
      hint: 'add creation_rules with path_regex to .sops.yaml (or pass --config PATH), then run tsops git setup again',
    });
  }
  const command = (args.command ?? 'tsops').trim() || 'tsops';
  const res = gitSetup({ repoRoot, rules, command, ...(args.uninstall ? { uninstall: true } : {}) });
  const out: string[] = [];
  for (const m of res.mappings) {
    const what = m.pathRegex ? `path_regex ${m.pathRegex}` : 'no path_regex';
    out.push(`creation_rules[${m.ruleIndex}] (${what}) -> ${m.globs.join(' ')}${m.fallback ? '  (catch-all: the regex has no literal directory or extension to map)' : ''}`);
  }
  if (res.changes.length === 0) out.push(args.uninstall ? 'nothing to remove: tsops git setup is not installed here' : 'already set up: nothing changed');
  else out.push(...res.changes);
  await writeStdout(out.join('\n') + '\n');
  return 0;
}

export async function runGitTextconv(args: GitArgs): Promise<number> {
  const file = args.file!;
  let data: Uint8Array;
  try {
    data = readInputFile(file);
  } catch (e) {
    note(`${file}: cannot be read (${e instanceof Error ? e.message : String(e)})`);
    return 0;
  }
  const format = sniffFormat(data, file);
  const indent = configIndent(format);
  const res = await textconv(data, {
    name: file,
    format,
    keyContext: makeKeyContext(),
    ...(args['decryption-order'] ? { decryptionOrder: args['decryption-order'] } : {}),
    ...(indent !== undefined ? { indent } : {}),
  });
  if (res.note) note(res.note);
  await writeStdout(res.output);
  return 0;
}

/** A merge that could not be done: the conflicting key paths, as one error. */
export class MergeConflictError extends SopsError {
  readonly problems: string[];
  constructor(message: string, problems: string[], hint: string) {
    super(message, ExitCode.Generic, { hint });
    this.name = 'MergeConflictError';
    this.problems = problems;
  }
}

export async function runGitMerge(args: GitArgs): Promise<number> {
  const oursPath = args.ours!;
  const shown = args.path ?? oursPath;
  const kept = () => note(`${shown}: not merged; ours's encrypted version stays in place and git reports a conflict`);
  try {
    const base = readInputFile(args.base!);
    const ours = readInputFile(oursPath);
    const theirs = readInputFile(args.theirs!);
    const format = sniffFormat(ours, args.path ?? oursPath);
    const indent = configIndent(format);
    const res = await mergeEncrypted({
      base,
      ours,
      theirs,
      path: shown,
      format,
      keyContext: makeKeyContext(),
      ...(args['decryption-order'] ? { decryptionOrder: args['decryption-order'] } : {}),
      ...(indent !== undefined ? { indent } : {}),
    });
    if (res.kind === 'not-sops') {
      const conflicts = mergeFile(process.cwd(), resolve(oursPath), resolve(args.base!), resolve(args.theirs!), ['ours', 'base', 'theirs']);
      return conflicts > 0 ? 1 : 0;
    }
    for (const n of res.notes) note(n);
    if (res.kind === 'conflict') {
      const n = res.conflicts.length;
      throw new MergeConflictError(
        `merge conflict in ${shown}: ${n} ${n === 1 ? 'key path was' : 'key paths were'} changed on both sides; the file is left as ours's encrypted version`,
        res.conflicts.map((c) => `${c.path}: ${c.reason}`),
        `resolve with \`tsops edit ${shown}\` (it holds ours's values; \`git show :3:${shown} | tsops diff --show-values ${shown} -\` shows how theirs differs), then \`git add ${shown}\``,
      );
    }
    if (res.changed) writeFileAtomic(oursPath, res.output);
    return 0;
  } catch (e) {
    const code = reportError(e);
    if (!(e instanceof MergeConflictError)) kept();
    return code === 0 ? ExitCode.Generic : code;
  }
}
