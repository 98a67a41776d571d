/**
 * `tsops verify [FILES...]`: every file a `.sops.yaml` creation rule matches (all of them in
 * the repository without arguments) must be a valid sops file whose selected values are all
 * encrypted, and whose MAC verifies when a key is at hand. `--staged` checks what is staged
 * (a pre-commit hook). Every offender is named; the exit code is non-zero when there is one.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, relative, resolve } from 'node:path';
import type { Argv } from 'yargs';
import { ExitCode, SopsError } from '../../errors.js';
import { makeKeyContext } from '../../io/context.js';
import { readInputFile, writeStdout } from '../../io/files.js';
import { listRepositoryFiles } from '../../io/repo-files.js';
import { requireRepositoryRoot, stagedBlob } from '../../git/git-cli.js';
import { hasSopsMetadata } from '../../git/load-any.js';
import { loadProjectRules, type ProjectRules } from '../../git/project.js';
import { verifyFile } from '../../git/verify.js';
import { CONFIG_FILE_NAME } from '../../config/index.js';
import { resolveFormat } from '../../stores/index.js';
import { log, warn } from '../common.js';

export interface VerifyArgs {
  files?: string[];
  staged?: boolean;
  'require-keys'?: boolean;
  config?: string;
  'input-type'?: string;
  'decryption-order'?: string;
  verbose?: boolean;
}

export function verifyOptions<T>(y: Argv<T>) {
  return y
    .positional('files', { type: 'string', array: true, describe: 'files to check (default: every file in the repository that a creation rule matches)' })
    .option('staged', { type: 'boolean', describe: 'check the staged versions (git index), for a pre-commit hook' })
    .option('require-keys', { type: 'boolean', describe: 'fail when no key at hand can check a MAC (default: a note)' })
    .option('config', { type: 'string', describe: 'path to .sops.yaml (env SOPS_CONFIG)' })
    .option('input-type', { type: 'string', describe: 'file format; default: from each file name' })
    .option('decryption-order', { type: 'string', default: process.env.SOPS_DECRYPTION_ORDER, describe: 'key kinds to try first' })
    .option('verbose', { type: 'boolean', describe: 'also name the files that were skipped' });
}

/** Several files failed: each is listed under the error line. */
export class VerifyError extends SopsError {
  readonly problems: string[];
  constructor(message: string, problems: string[]) {
    super(message, ExitCode.Generic, {
      hint: 'encrypt plaintext files with `tsops encrypt -i FILE` (unstage them first if they were never meant to be committed); restore tampered files from version control',
    });
    this.name = 'VerifyError';
    this.problems = problems;
  }
}

/** Whether a file must be encrypted: the creation rule that matches it has a path_regex. */
function mustBeEncrypted(rules: ProjectRules, abs: string): boolean {
  if (basename(abs) === CONFIG_FILE_NAME) return false;
  const ex = rules.explain(abs);
  return ex?.rule?.pathRegex !== undefined && ex.rule.pathRegex !== '';
}

export async function runVerify(args: VerifyArgs): Promise<number> {
  const cwd = process.cwd();
  const rules = loadProjectRules({ cwd, ...(args.config ? { configPath: args.config } : {}), env: process.env as Record<string, string | undefined> });
  for (const w of rules.loaded.warnings) warn(w);
  const root = args.staged ? requireRepositoryRoot(cwd, 'tsops verify --staged') : undefined;
  const given = args.files ?? [];
  let candidates: string[];
  if (given.length > 0) candidates = given.map((f) => resolve(cwd, f));
  else {
    if (!rules.dir) {
      throw new SopsError('no .sops.yaml found: verify without file names checks the files its creation rules match', ExitCode.Generic, {
        hint: 'run it in the repository that holds .sops.yaml, pass --config PATH, or name the files to check',
      });
    }
    candidates = listRepositoryFiles(rules.dir).files;
  }
  const ctx = makeKeyContext();
  const offenders: string[] = [];
  const badFiles = new Set<string>();
  let checked = 0;
  let macChecked = 0;
  let withoutKey = 0;
  for (const abs of candidates) {
    const shown = relative(cwd, abs) || abs;
    const required = mustBeEncrypted(rules, abs);
    let data: Uint8Array | undefined;
    if (root) {
      data = stagedBlob(root, relative(root, abs).split('\\').join('/'));
      if (!data) {
        log(args, `${shown}: not staged (deleted or untracked); skipped`);
        continue;
      }
    } else {
      if (!existsSync(abs) || !statSync(abs).isFile()) {
        if (given.length > 0) {
          offenders.push(`${shown}: no such file`);
          badFiles.add(shown);
        }
        else log(args, `${shown}: tracked but missing from the work tree; skipped`);
        continue;
      }
      data = readInputFile(abs);
    }
    const format = resolveFormat(args['input-type'], abs);
    if (!required && !hasSopsMetadata(data, format)) {
      log(args, `${shown}: no creation rule with a path_regex matches it and it is not a sops file; skipped`);
      continue;
    }
    checked++;
    const res = await verifyFile(data, {
      name: shown,
      format,
      keyContext: ctx,
      ...(args['decryption-order'] ? { decryptionOrder: args['decryption-order'] } : {}),
      ...(args['require-keys'] ? { requireKeys: true } : {}),
    });
    for (const p of res.problems) offenders.push(`${shown}: ${p}`);
    if (res.problems.length > 0) {
      badFiles.add(shown);
      continue;
    }
    if (res.macVerified) macChecked++;
    else withoutKey++;
    await writeStdout(`ok ${shown}${res.macVerified ? ' (MAC verified)' : ' (MAC not checked: no key at hand)'}\n`);
  }
  const what = `${args.staged ? 'staged ' : ''}${checked === 1 ? 'file' : 'files'}`;
  if (badFiles.size > 0) {
    throw new VerifyError(`${badFiles.size} of ${Math.max(checked, badFiles.size)} ${what} failed verification: ${[...badFiles].join(', ')}`, offenders);
  }
  if (withoutKey > 0) process.stderr.write(`tsops: note: ${withoutKey} ${withoutKey === 1 ? 'file' : 'files'} checked without the MAC: no key at hand (--require-keys makes that a failure)\n`);
  await writeStdout(`verified ${checked} ${what}${checked > 0 ? `: all encrypted, ${macChecked} with the MAC checked` : ''}\n`);
  if (given.length === 0 && checked === 0 && rules.dir) log(args, `no file under ${dirname(rules.path!)} is matched by a creation rule with a path_regex`);
  return 0;
}
