/** `tsops encrypt [file]`: encrypt a plaintext file for the recipients of flags or `.sops.yaml`. */
import type { Argv } from 'yargs';
import { encryptBytes } from '../../api.js';
import { makeKeyContext } from '../../io/context.js';
import { resolveFormat } from '../../stores/index.js';
import { reencryptPlaintext } from '../../modify.js';
import { readInputFile } from '../../io/files.js';
import type { RuleField } from '../../tree/select.js';
import { checkPlaintextGuard } from '../../git/plaintext-guard.js';
import { absoluteName, directSettingsFromArgs, checkOutputFlags, indentFor, logicalName, projectConfig, readInput, writeOutput, type CommonArgs, type KeyAndRuleArgs } from '../common.js';
import { fileOptions, keyOptions, ruleOptions } from '../options.js';

export type EncryptArgs = CommonArgs & KeyAndRuleArgs;

export function encryptOptions<T>(y: Argv<T>) {
  return ruleOptions(keyOptions(fileOptions(y)))
    .option('shamir-secret-sharing-threshold', { type: 'number', describe: 'key groups needed to decrypt (default: all)' })
    .option('allow-plaintext', { type: 'boolean', describe: 'encrypt even when the selection rule leaves every value in plaintext' })
    .option('reuse', { type: 'string', describe: 'an existing encrypted version of this file: keep its data key, recipients and the ciphertext of every unchanged value (minimal git diffs)' })
    .option('ignore-mac', { type: 'boolean', describe: 'with --reuse: accept the old file even if its MAC does not verify' })
    .option('decryption-order', { type: 'string', default: process.env.SOPS_DECRYPTION_ORDER, describe: 'with --reuse: key kinds to try first' });
}

/** The flag name of a rule field: unencrypted_suffix -> unencrypted-suffix. */
export const ruleFlag = (f: RuleField) => f.replace(/_/g, '-');

export async function runEncrypt(args: EncryptArgs): Promise<number> {
  checkOutputFlags(args);
  const cfg = projectConfig(args);
  const name = logicalName(args);
  const inFormat = resolveFormat(args['input-type'], name);
  const outFormat = args['output-type'] ? resolveFormat(args['output-type'], name) : inFormat;
  const data = await readInput(args);
  const ctx = makeKeyContext();
  if (typeof args.reuse === 'string') {
    const previousType = resolveFormat(undefined, args.reuse);
    const res = await reencryptPlaintext(readInputFile(args.reuse), data, {
      inputType: inFormat,
      outputType: outFormat,
      previousType,
      filename: args.reuse,
      ignoreMac: !!args['ignore-mac'],
      ...(typeof args['decryption-order'] === 'string' ? { decryptionOrder: args['decryption-order'] } : {}),
      keyContext: ctx,
    });
    await writeOutput(args, res.output);
    return 0;
  }
  const { direct, keysGiven } = directSettingsFromArgs(args);
  const creationRule = cfg.creationRuleFor(absoluteName(args), { keysGiven });
  const rules = direct.rules ?? {};
  if (!args['allow-plaintext']) checkPlaintextGuard(data, inFormat, { name: args.file ?? 'standard input', outputFormat: outFormat, direct: rules, ...(creationRule ? { creationRule } : {}) });
  const indent = indentFor(args, cfg, outFormat);
  const out = await encryptBytes(data, {
    inputType: inFormat,
    outputType: outFormat,
    filename: args.file ?? 'standard input',
    ...direct,
    ...(creationRule ? { creationRule } : {}),
    ...(indent !== undefined ? { indent } : {}),
    keyContext: ctx,
  });
  await writeOutput(args, out);
  return 0;
}
