/**
 * AWS KMS through the whole library, and files tsops encrypted through the loopback KMS (in
 * sops-oracle contract mode) decrypted by real sops 3.9.2 (../shared/tools/sops-oracle).
 */
import test, { type ExecutionContext } from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { decrypt, encrypt } from '../../src/api.js';
import { generateAgeIdentity } from '../../src/keys/age.js';
import type { KeyContext } from '../../src/keys/types.js';
import type { KeySpec } from '../../src/settings.js';
import { makeKeyContext } from '../helpers/key-context.js';
import { kmsTestEnv, startKmsServer, type KmsServer, type KmsServerConfig } from '../helpers/kms-server.js';
import { runOracle } from '../helpers/oracle.js';
import { repoRoot, sharedTest } from '../helpers/shared.js';

for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.AWS_CONFIG_FILE = '/nonexistent/tsops-kms-test/config';
process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/tsops-kms-test/credentials';

const ARN = 'arn:aws:kms:us-east-1:111122223333:key/0b1c2d3e-aaaa-bbbb-cccc-0123456789ab';
const ROLE = 'arn:aws:iam::111122223333:role/sops-user';
const PLAIN = 'db:\n    user: admin\n    password: hunter2\nport: 5432\nlist:\n    - a\n    - true\n';
const PLAIN_DATA = parseYaml(PLAIN) as unknown;

async function setup(t: ExecutionContext, cfg: Partial<KmsServerConfig> = {}): Promise<{ server: KmsServer; ctx: KeyContext; dir: string }> {
  const server = await startKmsServer(cfg);
  const dir = mkdtempSync(join(tmpdir(), 'tsops-kms-'));
  t.teardown(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { server, dir, ctx: makeKeyContext({ env: kmsTestEnv(server.url, dir), homeDir: dir, hostname: () => 'ci-runner' }) };
}

test('library: encrypt to a KMS key group with context, then decrypt', async (t) => {
  const { server, ctx } = await setup(t);
  const spec: KeySpec = { type: 'kms', recipient: ARN, context: { app: 'tsops', env: 'test' } };
  const enc = await encrypt(PLAIN, { inputType: 'yaml', keyGroups: [[spec]], keyContext: ctx });
  const md = (parseYaml(enc) as { sops: { kms: Array<Record<string, unknown>> } }).sops;
  t.is(md.kms.length, 1);
  const k = md.kms[0]!;
  t.is(k.arn, ARN);
  t.deepEqual(k.context, { app: 'tsops', env: 'test' });
  t.is(k.aws_profile, '');
  t.false('role' in k);
  t.regex(String(k.created_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.regex(enc, /aws_profile: ""/);
  t.false(enc.includes('hunter2'));
  t.is(await decrypt(enc, { inputType: 'yaml', keyContext: ctx }), PLAIN);
  t.deepEqual(server.counts, { Encrypt: 1, Decrypt: 1 });
});

test('library: a denied key makes decrypt fail naming the ARN and the AWS error', async (t) => {
  const { server, ctx } = await setup(t);
  const enc = await encrypt(PLAIN, { inputType: 'yaml', keyGroups: [[{ type: 'kms', recipient: ARN }]], keyContext: ctx });
  server.config.deniedKeys.add(ARN);
  const e = await t.throwsAsync(decrypt(enc, { inputType: 'yaml', keyContext: ctx }));
  const failures = (e as { failures?: Array<{ type: string; id: string; reason: string }> }).failures ?? [];
  t.is(failures.length, 1);
  t.is(failures[0]!.type, 'kms');
  t.is(failures[0]!.id, ARN);
  t.regex(failures[0]!.reason, /AccessDeniedException/);
});

test('the AWS SDK is loaded only when a KMS key is used', async (t) => {
  const script = [
    "import { createRequire } from 'node:module';",
    "const api = await import('./src/index.ts');",
    "const loaded = () => Object.keys(createRequire(import.meta.url).cache).some((k) => k.includes('@aws-sdk/client-kms'));",
    "const before = loaded();",
    "await import('./src/keys/kms.ts');",
    "const afterImport = loaded();",
    "const k = (await import('./src/keys/registry.ts')).keyFromMetadata('kms', { kind: 'map', items: [",
    "  { kind: 'entry', key: 'arn', value: { kind: 'str', value: 'arn:aws:kms:us-east-1:1:key/x' } },",
    "  { kind: 'entry', key: 'created_at', value: { kind: 'str', value: '2024-01-01T00:00:00Z' } },",
    "  { kind: 'entry', key: 'enc', value: { kind: 'str', value: 'AAAA' } }] });",
    "await k.decrypt(api.makeKeyContext({ env: { AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' } })).catch(() => {});",
    "console.log(JSON.stringify({ before, afterImport, afterUse: loaded() }));",
  ].join('\n');
  const out = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repoRoot, env: { PATH: process.env.PATH ?? '', AWS_EC2_METADATA_DISABLED: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    }, (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)));
  });
  t.deepEqual(JSON.parse(out.trim().split('\n').at(-1)!), { before: false, afterImport: false, afterUse: true });
});

// ---- real sops 3.9.2 decrypts what tsops wrote through the oracle-contract server ----------

async function oracleCase(t: ExecutionContext, group: (dir: string, server: KmsServer) => KeySpec[], format: 'yaml' | 'json' = 'yaml'): Promise<{ server: KmsServer; enc: string }> {
  const { server, ctx, dir } = await setup(t, { mode: 'oracle' });
  const input = format === 'yaml' ? PLAIN : JSON.stringify(PLAIN_DATA);
  const enc = await encrypt(input, { inputType: format, keyGroups: [group(dir, server)], keyContext: ctx });
  t.deepEqual(JSON.parse(await decrypt(enc, { inputType: format, outputType: 'json', keyContext: ctx })), PLAIN_DATA);
  const r = await runOracle(enc, { format, ...(format === 'yaml' ? { asJson: true } : {}) });
  t.is(r.code, 0, r.stderr);
  t.deepEqual(JSON.parse(r.stdout), PLAIN_DATA);
  return { server, enc };
}

sharedTest('oracle: a KMS entry with an encryption context decrypts with real sops', async (t) => {
  const { server, enc } = await oracleCase(t, () => [{ type: 'kms', recipient: ARN, context: { team: 'platform', purpose: 'tsops test' } }]);
  t.deepEqual(server.calls[0]!.context, { team: 'platform', purpose: 'tsops test' });
  t.true(enc.includes('team: platform'));
  const other = await runOracle(enc.replace('team: platform', 'team: other'), { format: 'yaml' });
  t.is(other.code, 1, 'another context must not decrypt');
  t.regex(other.stderr, /Error getting data key/);
});

sharedTest('oracle: a KMS entry with a role decrypts with real sops', async (t) => {
  const { server } = await oracleCase(t, () => [{ type: 'kms', recipient: `${ARN}+${ROLE}` }], 'json');
  t.is(server.counts.AssumeRole, 2);
  t.is(server.calls[0]!.roleSessionName, 'sops@cirunner', 'sops drops - from host names');
});

sharedTest('oracle: a KMS entry with aws_profile decrypts with real sops', async (t) => {
  const { server } = await oracleCase(t, (dir, srv) => {
    srv.config.credentials.set('AKIDORACLEPROF000001', { secret: 'oracle/prof' });
    writeFileSync(join(dir, 'aws-credentials'), '[oracle-prof]\naws_access_key_id = AKIDORACLEPROF000001\naws_secret_access_key = oracle/prof\n');
    return [{ type: 'kms', recipient: ARN, awsProfile: 'oracle-prof' }];
  });
  t.is(server.calls[0]!.accessKeyId, 'AKIDORACLEPROF000001');
});

sharedTest('oracle: KMS mixed with an age key; sops decrypts through KMS alone', async (t) => {
  const age = await generateAgeIdentity();
  await oracleCase(t, () => [{ type: 'age', recipient: age.recipient }, { type: 'kms', recipient: ARN, context: { a: 'b' } }]);
});
