/**
 * What every command shares: reading the input, writing the output, the config, and printing
 * errors once as `tsops: error: ...` / `tsops: hint: ...` with sops's exit code.
 */
import { resolve } from 'node:path';
import { DataKeyError, ExitCode, KeyGroupsError, SopsError, isSopsError } from '../errors.js';
import { describeFailures } from '../keys/datakey.js';
import { readForUpdate, readInputFile, readStdin, writeFileAtomic, writeStdout } from '../io/files.js';
import { loadProjectConfig, type ProjectConfig } from '../io/config.js';
import type { FormatName } from '../stores/types.js';
import { splitList, type DirectSettings } from '../settings.js';
import { parseEncryptionContext } from '../keymgmt/identity.js';
import { RULE_FIELDS, type RuleField } from '../tree/select.js';

/** Flags every file command takes. */
export interface CommonArgs {
  file?: string;
  'input-type'?: string;
  'output-type'?: string;
  output?: string;
  'in-place'?: boolean;
  'filename-override'?: string;
  config?: string;
  indent?: number;
  verbose?: boolean;
}

export function log(args: { verbose?: boolean }, msg: string): void {
  if (args.verbose) process.stderr.write(`tsops: ${msg}\n`);
}

export function warn(msg: string): void {
  process.stderr.write(`tsops: warning: ${msg}\n`);
}

/** Prints an error once and returns its exit code. Never prints a stack trace. */
export function reportError(e: unknown): number {
  if (e instanceof KeyGroupsError) {
    // printed exactly as sops prints it: scripts and sops's functional tests compare the text
    process.stderr.write(`${e.message}\n`);
    return e.exitCode;
  }
  if (isSopsError(e)) {
    process.stderr.write(`tsops: error: ${e.message}\n`);
    if (e instanceof DataKeyError) for (const line of describeFailures(e.failures)) process.stderr.write(`tsops:   - ${line}\n`);
    const problems = (e as { problems?: string[] }).problems;
    if (problems?.length) for (const p of problems) process.stderr.write(`tsops:   - ${p}\n`);
    if (e.hint) process.stderr.write(`tsops: hint: ${e.hint}\n`);
    return e.exitCode;
  }
  const msg = e instanceof Error ? e.message : String(e);
  process.stderr.write(`tsops: error: ${msg}\n`);
  if (process.env.TSOPS_DEBUG && e instanceof Error && e.stack) process.stderr.write(e.stack + '\n');
  return ExitCode.Generic;
}

/** The name used for format detection and config matching. */
export function logicalName(args: CommonArgs): string | undefined {
  return args['filename-override'] ?? args.file;
}

/** Checks flag combinations that sops rejects with exit 8. */
export function checkOutputFlags(args: CommonArgs): void {
  if (args['in-place'] && args.output) {
    throw new SopsError('--in-place and --output cannot be used together', ExitCode.ConflictingParameters);
  }
  if (args['in-place'] && !args.file) {
    throw new SopsError('--in-place needs a file: standard input cannot be written in place', ExitCode.ConflictingParameters);
  }
}

/**
 * Reads the file argument, or standard input when there is none. With --in-place the file is
 * locked for the update first ({@link writeOutput} writes it back and unlocks it).
 */
export async function readInput(args: CommonArgs): Promise<Uint8Array> {
  if (args.file) return args['in-place'] ? readForUpdate(args.file) : readInputFile(args.file);
  if (process.stdin.isTTY) {
    throw new SopsError('no file specified', ExitCode.NoFileSpecified, { hint: 'give a file name, or pipe the content to standard input' });
  }
  return readStdin();
}

/** Writes the result: in place (atomically), to --output, or to stdout. */
export async function writeOutput(args: CommonArgs, data: Uint8Array): Promise<void> {
  if (args['in-place']) writeFileAtomic(args.file!, data);
  else if (args.output) writeFileAtomic(args.output, data);
  else await writeStdout(data);
}

/** Loads `.sops.yaml` (from --config, SOPS_CONFIG or found upward from the working directory). */
export function projectConfig(args: CommonArgs): ProjectConfig {
  const cfg = loadProjectConfig({
    cwd: process.cwd(),
    ...(args.config ? { configPath: args.config } : {}),
    env: process.env as Record<string, string | undefined>,
  });
  for (const w of cfg.warnings) warn(w);
  log(args, cfg.path ? `using config ${cfg.path}` : 'no .sops.yaml found');
  return cfg;
}

/** Indentation for the output format: --indent, else `.sops.yaml` `stores`, else the default. */
export function indentFor(args: CommonArgs, cfg: ProjectConfig, outFormat: FormatName): number | undefined {
  if (args.indent !== undefined) {
    if (!Number.isInteger(args.indent) || args.indent < 0) throw new SopsError(`--indent must be a non-negative integer`, ExitCode.Generic);
    return args.indent === 0 ? undefined : args.indent;
  }
  return cfg.indentFor(outFormat);
}

/** Absolute path of the logical file name, for config matching. */
export function absoluteName(args: CommonArgs): string | undefined {
  const n = logicalName(args);
  return n ? resolve(process.cwd(), n) : undefined;
}

/** Recipient and rule flags shared by `encrypt` and `edit` (new files). */
export interface KeyAndRuleArgs {
  age?: string | string[];
  pgp?: string | string[];
  kms?: string | string[];
  'encryption-context'?: string;
  'aws-profile'?: string;
  'shamir-secret-sharing-threshold'?: number;
  'mac-only-encrypted'?: boolean;
  [flag: string]: unknown;
}

/** The direct settings those flags give, and whether any recipient was named. */
export function directSettingsFromArgs(args: KeyAndRuleArgs): { direct: DirectSettings; keysGiven: boolean } {
  const age = splitList(args.age);
  const pgp = splitList(args.pgp);
  const kms = splitList(args.kms);
  const encryptionContext = parseEncryptionContext(args['encryption-context']);
  const rules: Partial<Record<RuleField, string>> = {};
  for (const f of RULE_FIELDS) {
    const v = args[f.replace(/_/g, '-')];
    if (typeof v === 'string') rules[f] = v;
  }
  return {
    keysGiven: age.length + pgp.length + kms.length > 0,
    direct: {
      age,
      pgp,
      kms,
      ...(encryptionContext ? { encryptionContext } : {}),
      ...(args['aws-profile'] ? { awsProfile: args['aws-profile'] } : {}),
      rules,
      ...(args['mac-only-encrypted'] !== undefined ? { macOnlyEncrypted: args['mac-only-encrypted'] } : {}),
      ...(args['shamir-secret-sharing-threshold'] !== undefined ? { shamirThreshold: args['shamir-secret-sharing-threshold'] } : {}),
    },
  };
}
