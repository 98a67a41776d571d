/**
 * `tsops updatekeys [-y] FILE...`: bring files in line with their `.sops.yaml` creation rule.
 * For each file the change is shown as a diff of its key groups; tsops asks before writing
 * unless `--yes` (and refuses without a terminal). Beyond sops: `--all` (every encrypted file
 * under the config's directory that a rule matches; git-tracked files in a git repository),
 * `--dry-run` (only the plan) and `--rotate` (also replace the data key).
 */
import { existsSync, statSync } from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import { dirname, relative, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { diffArrays } from 'diff';
import { ExitCode, SopsError } from '../../errors.js';
import { makeKeyContext } from '../../io/context.js';
import { endUpdate, readForUpdate, readInputFile, writeFileAtomic, writeStdout } from '../../io/files.js';
import { listRepositoryFiles } from '../../io/repo-files.js';
import { fileStatus } from '../../keymgmt/inspect.js';
import { applyUpdateKeys, planUpdateKeys, type UpdateKeysPlan } from '../../keymgmt/updatekeys.js';
import type { ProjectConfig } from '../../io/config.js';
import { resolveFormat } from '../../stores/index.js';
import { indentFor, log, projectConfig, reportError, warn, type CommonArgs } from '../common.js';

export interface UpdateKeysArgs extends CommonArgs {
  files?: string[];
  yes?: boolean;
  all?: boolean;
  'dry-run'?: boolean;
  rotate?: boolean;
  'shamir-secret-sharing-threshold'?: number;
  'decryption-order'?: string;
}

export function updateKeysOptions<T>(y: Argv<T>) {
  return y
    .positional('files', { type: 'string', array: true, describe: 'the encrypted files to update' })
    .option('yes', { alias: 'y', type: 'boolean', describe: 'apply the changes without asking' })
    .option('all', { type: 'boolean', describe: "every encrypted file under the config's directory that a creation rule matches (git-tracked files in a git repository)" })
    .option('dry-run', { type: 'boolean', describe: 'only show what would change' })
    .option('rotate', { type: 'boolean', describe: 'also replace the data key and re-encrypt every value (a removed recipient kept the old data key)' })
    .option('shamir-secret-sharing-threshold', { type: 'number', describe: "key groups needed to decrypt (default: the rule's, else the file's)" })
    .option('input-type', { type: 'string', describe: 'file format; default: from the file name' })
    .option('decryption-order', { type: 'string', default: process.env.SOPS_DECRYPTION_ORDER, describe: 'key kinds to try first' })
    .option('config', { type: 'string', describe: 'path to .sops.yaml (env SOPS_CONFIG)' })
    .option('indent', { type: 'number', describe: 'indentation of YAML/JSON output' })
    .option('verbose', { type: 'boolean', describe: 'log what tsops does' });
}

/** The plan as text: one block per group (`    ` kept, `+++` added, `--- ` removed, as sops prints it). */
export function renderPlan(plan: UpdateKeysPlan, name: string): string {
  if (!plan.changed) return `${name}: already up to date\n`;
  const lines = [`${name}: the following changes will be made to the file's key groups:`];
  const { before, after } = plan.threshold;
  if (before !== after) {
    if (after > 0) lines.push(`+++ shamir_threshold: ${after}`);
    if (before > 0) lines.push(`--- shamir_threshold: ${before}`);
  } else if (after > 0) lines.push(`    shamir_threshold: ${after}`);
  const count = Math.max(plan.before.length, plan.after.length);
  for (let i = 0; i < count; i++) {
    lines.push(`Group ${i + 1}${i >= plan.after.length ? ' (removed)' : i >= plan.before.length ? ' (new)' : ''}`);
    // sorted, so that a key the rule merely lists in another order is not shown as removed and added
    const sorted = (l: string[] | undefined) => [...(l ?? [])].sort();
    for (const part of diffArrays(sorted(plan.before[i]), sorted(plan.after[i]))) {
      const mark = part.added ? '+++ ' : part.removed ? '--- ' : '    ';
      for (const v of part.value) lines.push(`${mark}${v}`);
    }
  }
  if (plan.rotate) lines.push('the data key will be replaced and every value re-encrypted (--rotate)');
  return lines.join('\n') + '\n';
}

/** Reads y/n answers from the terminal, one line at a time. */
function prompter(): { ask(q: string): Promise<string | undefined>; close(): void } {
  let rl: Interface | undefined;
  const queue: string[] = [];
  const waiting: Array<(l: string | undefined) => void> = [];
  let closed = false;
  const ensure = () => {
    if (rl) return;
    rl = createInterface({ input: process.stdin, terminal: false });
    rl.on('line', (l) => (waiting.length ? waiting.shift()!(l) : queue.push(l)));
    rl.on('close', () => {
      closed = true;
      while (waiting.length) waiting.shift()!(undefined);
    });
  };
  return {
    async ask(q) {
      ensure();
      await writeStdout(q);
      if (queue.length) return queue.shift();
      if (closed) return undefined;
      return new Promise((res) => waiting.push(res));
    },
    close: () => rl?.close(),
  };
}

async function confirm(p: ReturnType<typeof prompter>): Promise<boolean> {
  for (;;) {
    const a = (await p.ask('Is this okay? (y/n):'))?.trim();
    if (a === undefined) return false;
    if (a === 'y' || a === 'n') return a === 'y';
  }
}

/** The files of --all: under the config's directory, matched by a creation rule, encrypted. */
function repositoryFiles(cfg: ProjectConfig, args: UpdateKeysArgs): string[] {
  const root = dirname(cfg.path!);
  const listed = listRepositoryFiles(root);
  log(args, `--all: ${listed.files.length} files under ${root} (${listed.source === 'git' ? 'tracked by git' : 'directory walk'})`);
  return listed.files.filter((f) => {
    if (!existsSync(f) || !statSync(f).isFile()) return false;
    try {
      if (!cfg.creationRuleFor(f)) return false;
      return fileStatus(readInputFile(f), { inputType: resolveFormat(args['input-type'], f), filename: f }).encrypted;
    } catch {
      return false;
    }
  });
}

export async function runUpdateKeys(args: UpdateKeysArgs): Promise<number> {
  const cfg = projectConfig(args);
  if (!cfg.path) {
    throw new SopsError('config file not found: updatekeys needs a .sops.yaml with creation rules', ExitCode.Generic, {
      hint: 'run it in the repository that holds .sops.yaml, or pass --config PATH',
    });
  }
  const given = args.files ?? [];
  if (args.all && given.length > 0) throw new SopsError('--all and file names cannot be used together', ExitCode.ConflictingParameters);
  const files = args.all ? repositoryFiles(cfg, args) : given;
  if (files.length === 0) {
    if (args.all) {
      await writeStdout(`no encrypted file under ${dirname(cfg.path)} matches a creation rule\n`);
      return 0;
    }
    throw new SopsError('no file specified', ExitCode.NoFileSpecified, { hint: 'usage: tsops updatekeys [-y] FILE... (or --all)' });
  }
  const ctx = makeKeyContext();
  const ask = prompter();
  let failed = 0;
  let pending = 0;
  try {
    for (const file of files) {
      const shown = args.all ? relative(process.cwd(), file) || file : file;
      try {
        if (statSync(file, { throwIfNoEntry: false })?.isDirectory()) throw new SopsError(`${shown}: can't operate on a directory`, ExitCode.Generic);
        const format = resolveFormat(args['input-type'], file);
        const input = args['dry-run'] ? readInputFile(file) : readForUpdate(file, 'updatekeys');
        const rule = cfg.creationRuleFor(resolve(file));
        if (!rule) throw new SopsError(`the config file ${cfg.path} does not contain any creation rule`, ExitCode.Generic);
        const plan = planUpdateKeys(input, {
          rule,
          inputType: format,
          filename: shown,
          keyContext: ctx,
          rotate: !!args.rotate,
          ...(args['shamir-secret-sharing-threshold'] ? { shamirThreshold: args['shamir-secret-sharing-threshold'] } : {}),
          ...(args['decryption-order'] ? { decryptionOrder: args['decryption-order'] } : {}),
        });
        for (const w of plan.warnings) warn(w);
        await writeStdout(renderPlan(plan, shown));
        if (!plan.changed) continue;
        if (args['dry-run']) {
          pending++;
          continue;
        }
        if (!args.yes) {
          if (!process.stdin.isTTY) {
            throw new SopsError(`${shown}: not updated: updatekeys asks before changing a file, and standard input is not a terminal`, ExitCode.Generic, {
              hint: 'pass --yes to apply the changes without asking, or --dry-run to only see them',
            });
          }
          if (!(await confirm(ask))) {
            await writeStdout(`${shown}: left unchanged\n`);
            continue;
          }
        }
        const indent = indentFor(args, cfg, format);
        const output = await applyUpdateKeys(plan, indent !== undefined ? { indent } : {});
        writeFileAtomic(file, output);
        await writeStdout(`${shown}: synced with new keys\n`);
      } catch (e) {
        if (files.length === 1) throw e;
        failed++;
        reportError(e);
      } finally {
        endUpdate(file); // unchanged, declined or failed: let others write it
      }
    }
  } finally {
    ask.close();
  }
  if (args['dry-run'] && pending > 0) await writeStdout(`dry run: ${pending} of ${files.length} file${files.length === 1 ? '' : 's'} would change; nothing was written\n`);
  if (failed > 0) throw new SopsError(`failed updating ${failed} of ${files.length} files`, ExitCode.Generic, { hint: 'the other files were updated; fix the errors above and run updatekeys again' });
  return 0;
}
