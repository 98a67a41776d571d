/** `tsops exec-env FILE CMD` and `tsops exec-file FILE 'CMD {}'`: run a command with the secrets. */
import type { Argv } from 'yargs';
import { decryptTree } from '../../api.js';
import { ExitCode, SopsError } from '../../errors.js';
import { makeKeyContext } from '../../io/context.js';
import { execWithFile, runCommand } from '../../io/exec.js';
import { resolveFormat, storeFor } from '../../stores/index.js';
import { goValToString } from '../../stores/flatten.js';
import type { MapNode, Node } from '../../tree/types.js';
import { warn, type CommonArgs } from '../common.js';

export interface ExecArgs extends CommonArgs {
  command?: string;
  pristine?: boolean;
  'same-process'?: boolean;
  user?: string;
  'no-fifo'?: boolean;
  filename?: string;
  'ignore-mac'?: boolean;
  'decryption-order'?: string;
  background?: boolean;
}

function shared<T>(y: Argv<T>) {
  return y
    .positional('file', { type: 'string', describe: 'the encrypted file' })
    .positional('command', { type: 'string', describe: 'the command, run with /bin/sh -c' })
    .option('input-type', { type: 'string' })
    .option('user', { type: 'string', describe: 'run the command as this user' })
    .option('ignore-mac', { type: 'boolean' })
    .option('decryption-order', { type: 'string', default: process.env.SOPS_DECRYPTION_ORDER })
    .option('background', { type: 'boolean', hidden: true })
    .option('verbose', { type: 'boolean' });
}

export function execEnvOptions<T>(y: Argv<T>) {
  return shared(y)
    .option('pristine', { type: 'boolean', describe: 'give the command only the decrypted values, not our environment' })
    .option('same-process', { type: 'boolean', describe: 'accepted for sops compatibility; Node cannot replace its process, so the command runs as a child with signals forwarded' });
}

export function execFileOptions<T>(y: Argv<T>) {
  return shared(y)
    .option('output-type', { type: 'string', describe: 'format of the decrypted file' })
    .option('no-fifo', { type: 'boolean', describe: 'a regular 0600 temp file instead of a FIFO' })
    .option('filename', { type: 'string', describe: 'name of the temp file (default tmp-file)' });
}

async function decrypted(args: ExecArgs) {
  if (!args.file || args.command === undefined) throw new SopsError('give the file to decrypt and the command to run', ExitCode.Generic);
  if (args.background) throw new SopsError('--background is not supported (it was deprecated in sops)', ExitCode.Generic);
  return decryptTree(await import('../../io/files.js').then((m) => m.readInputFile(args.file!)), {
    inputType: resolveFormat(args['input-type'], args.file),
    filename: args.file,
    ignoreMac: !!args['ignore-mac'],
    ...(args['decryption-order'] ? { decryptionOrder: args['decryption-order'] } : {}),
    keyContext: makeKeyContext(),
  });
}

/**
 * Environment entries from a document: top-level scalars as `KEY=value` like sops; nested
 * mappings and lists (an error in sops) are flattened with `_`: `db: {user: x}` -> `db_user=x`,
 * `hosts: [a, b]` -> `hosts_0=a`, `hosts_1=b`. Null values and comments are skipped.
 */
export function environmentOf(doc: MapNode): Record<string, string> {
  const env: Record<string, string> = {};
  const add = (key: string, v: Node) => {
    if (v.kind === 'map') for (const it of v.items) if (it.kind === 'entry') add(`${key}_${it.key}`, it.value);
    if (v.kind === 'seq') v.items.filter((i): i is Node => i.kind !== 'comment').forEach((x, i) => add(`${key}_${i}`, x));
    if (v.kind === 'map' || v.kind === 'seq' || v.kind === 'null') return;
    if (key.includes('=')) throw new SopsError(`cannot use keys with '=' in the environment: ${key}`, ExitCode.Generic);
    env[key] = v.kind === 'str' ? v.value : v.kind === 'bytes' ? Buffer.from(v.value).toString('utf8') : goValToString(v);
  };
  for (const it of doc.items) if (it.kind === 'entry') add(it.key, it.value);
  return env;
}

export async function runExecEnv(args: ExecArgs): Promise<number> {
  const dec = await decrypted(args);
  for (const w of dec.warnings) warn(w);
  return runCommand({ command: args.command!, env: environmentOf(dec.documents[0] ?? { kind: 'map', items: [] }), pristine: !!args.pristine, ...(args.user ? { user: args.user } : {}) });
}

export async function runExecFile(args: ExecArgs): Promise<number> {
  const dec = await decrypted(args);
  for (const w of dec.warnings) warn(w);
  const out = storeFor(args['output-type'] ? resolveFormat(args['output-type'], args.file) : dec.format);
  return execWithFile({
    command: args.command!,
    plaintext: out.emit({ documents: dec.documents }),
    noFifo: !!args['no-fifo'],
    ...(args.filename ? { filename: args.filename } : {}),
    ...(args.user ? { user: args.user } : {}),
  });
}
