/** Flag groups shared by commands, with sops's names, aliases and environment variables. */
import type { Argv } from 'yargs';
import { FORMATS } from '../stores/index.js';

const env = process.env;


/** Input/output and config flags of every file command. */
export function fileOptions<T>(y: Argv<T>) {
  return y
    .positional('file', { type: 'string', describe: 'the file (standard input when omitted)' })
    .option('input-type', { type: 'string', describe: `input format (${FORMATS.join(', ')}); default: from the file name` })
    .option('output-type', { type: 'string', describe: 'output format; default: the input format' })
    .option('output', { type: 'string', describe: 'write to this file instead of standard output' })
    .option('in-place', { alias: 'i', type: 'boolean', describe: 'write the result over the input file (atomically)' })
    .option('filename-override', { type: 'string', describe: 'use this name for format detection and .sops.yaml matching' })
    .option('config', { type: 'string', describe: 'path to .sops.yaml (env SOPS_CONFIG); default: found upward from the working directory' })
    .option('indent', { type: 'number', describe: 'indentation of YAML/JSON output' })
    .option('verbose', { type: 'boolean', describe: 'log what tsops does (never secrets)' });
}

/** Recipient flags. */
export function keyOptions<T>(y: Argv<T>) {
  return y
    .option('age', { alias: 'a', type: 'string', describe: 'age recipients, comma-separated (env SOPS_AGE_RECIPIENTS)', default: env.SOPS_AGE_RECIPIENTS, defaultDescription: '$SOPS_AGE_RECIPIENTS' })
    .option('kms', { alias: 'k', type: 'string', describe: 'AWS KMS key ARNs (ARN[+ROLE_ARN]), comma-separated (env SOPS_KMS_ARN)', default: env.SOPS_KMS_ARN, defaultDescription: '$SOPS_KMS_ARN' })
    .option('encryption-context', { type: 'string', describe: 'AWS KMS encryption context for --kms keys: key:value,key2:value2' })
    .option('aws-profile', { type: 'string', describe: 'AWS profile for --kms keys' })
    .option('pgp', { alias: 'p', type: 'string', describe: 'PGP fingerprints, comma-separated (env SOPS_PGP_FP)', default: env.SOPS_PGP_FP, defaultDescription: '$SOPS_PGP_FP' });
}

/** Selection-rule flags. */
export function ruleOptions<T>(y: Argv<T>) {
  return y
    .option('unencrypted-suffix', { type: 'string', describe: 'leave values whose key ends with this suffix in clear text (default _unencrypted)' })
    .option('encrypted-suffix', { type: 'string', describe: 'encrypt only values whose key ends with this suffix' })
    .option('unencrypted-regex', { type: 'string', describe: 'leave values whose key matches this regex in clear text' })
    .option('encrypted-regex', { type: 'string', describe: 'encrypt only values whose key matches this regex' })
    .option('unencrypted-comment-regex', { type: 'string', describe: 'leave values under a comment matching this regex in clear text' })
    .option('encrypted-comment-regex', { type: 'string', describe: 'encrypt only values under a comment matching this regex' })
    .option('mac-only-encrypted', { type: 'boolean', describe: 'compute the MAC over encrypted values only' });
}
