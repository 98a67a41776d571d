/** `tsops edit FILE` (also plain `tsops FILE`): edit the plaintext in $SOPS_EDITOR / $EDITOR. */
import { createInterface } from 'node:readline';
import type { Argv } from 'yargs';
import { makeKeyContext } from '../../io/context.js';
import { editFile } from '../../io/edit.js';
import { resolveFormat } from '../../stores/index.js';
import { absoluteName, directSettingsFromArgs, indentFor, log, logicalName, projectConfig, type CommonArgs, type KeyAndRuleArgs } from '../common.js';
import { keyOptions, ruleOptions } from '../options.js';

export interface EditArgs extends CommonArgs, KeyAndRuleArgs {
  'show-master-keys'?: boolean;
  'ignore-mac'?: boolean;
  'decryption-order'?: string;
}

export function editOptions<T>(y: Argv<T>) {
  return ruleOptions(keyOptions(y))
    .positional('file', { type: 'string', describe: 'the file to edit (created from an example if missing)' })
    .option('input-type', { type: 'string', describe: 'file format; default: from the file name' })
    .option('show-master-keys', { alias: 's', type: 'boolean', describe: 'show the sops metadata in the editor too' })
    .option('ignore-mac', { type: 'boolean', describe: 'edit even if the MAC does not verify' })
    .option('decryption-order', { type: 'string', default: process.env.SOPS_DECRYPTION_ORDER, describe: 'key kinds to try first' })
    .option('shamir-secret-sharing-threshold', { type: 'number', describe: 'for a new file: key groups needed to decrypt' })
    .option('config', { type: 'string', describe: 'path to .sops.yaml' })
    .option('indent', { type: 'number', describe: 'indentation of YAML/JSON' })
    .option('verbose', { type: 'boolean' });
}

/** Asks on the terminal whether to reopen the editor after invalid content. */
async function askRetry(problem: string): Promise<boolean> {
  process.stderr.write(`tsops: error: the edited file is not valid: ${problem}\n`);
  process.stderr.write('tsops: press Enter to return to the editor (your text is kept), or type q and Enter to abort: ');
  const rl = createInterface({ input: process.stdin, terminal: false });
  const answer = await new Promise<string | undefined>((resolve) => {
    rl.once('line', (l) => resolve(l));
    rl.once('close', () => resolve(undefined));
  });
  rl.close();
  process.stderr.write('\n');
  return answer !== undefined && answer.trim().toLowerCase() !== 'q';
}

export async function runEdit(args: EditArgs): Promise<number> {
  const cfg = projectConfig(args);
  const name = logicalName(args)!;
  const format = resolveFormat(args['input-type'], name);
  const { direct, keysGiven } = directSettingsFromArgs(args);
  const { existsSync } = await import('node:fs');
  const creationRule = existsSync(args.file!) ? undefined : cfg.creationRuleFor(absoluteName(args), { keysGiven });
  const indent = indentFor(args, cfg, format);
  const outcome = await editFile({
    path: args.file!,
    format,
    ignoreMac: !!args['ignore-mac'],
    ...(args['decryption-order'] ? { decryptionOrder: args['decryption-order'] } : {}),
    showMasterKeys: !!args['show-master-keys'],
    ...(indent !== undefined ? { indent } : {}),
    direct,
    ...(creationRule ? { creationRule } : {}),
    keyContext: makeKeyContext(),
    askRetry,
    log: (m) => log(args, m),
  });
  log(args, `edit: ${outcome}`);
  return 0;
}
