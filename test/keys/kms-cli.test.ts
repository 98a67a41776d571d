// The KMS flags of the CLI: --kms / SOPS_KMS_ARN, --encryption-context, --aws-profile, against
// the loopback KMS server (real @aws-sdk/client-kms, SigV4 checked by the server).
import test, { type ExecutionContext } from 'ava';
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { baseEnv, runCli, tempDir } from '../helpers/cli.js';
import { kmsTestEnv, startKmsServer } from '../helpers/kms-server.js';

const ARN = 'arn:aws:kms:us-east-1:111122223333:key/cli-test';

async function setup(t: ExecutionContext) {
  const server = await startKmsServer();
  t.teardown(() => server.close());
  const dir = tempDir(t);
  const env = { ...baseEnv(dir), ...kmsTestEnv(server.url, dir), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  writeFileSync(join(dir, 'app.yaml'), 'db:\n    password: kms-secret-1\n');
  return { server, dir, env };
}

test('encrypt --kms with --encryption-context, then decrypt', async (t) => {
  const { dir, env } = await setup(t);
  const enc = await runCli(['encrypt', '--kms', ARN, '--encryption-context', 'app:web,env:prod', '-i', 'app.yaml'], { cwd: dir, env });
  t.is(enc.code, 0, enc.stderr);
  const text = readFileSync(join(dir, 'app.yaml'), 'utf8');
  t.regex(text, /kms:\n\s+- arn: arn:aws:kms:us-east-1:111122223333:key\/cli-test/);
  t.regex(text, /aws_profile: ""/);
  t.regex(text, /context:\n\s+app: web\n\s+env: prod/);
  t.notRegex(text, /kms-secret-1/);
  const dec = await runCli(['decrypt', 'app.yaml'], { cwd: dir, env });
  t.is(dec.code, 0, dec.stderr);
  t.is(dec.out, 'db:\n    password: kms-secret-1\n');
});

test('SOPS_KMS_ARN works like --kms; a bad context is exit 6', async (t) => {
  const { dir, env } = await setup(t);
  const enc = await runCli(['encrypt', 'app.yaml'], { cwd: dir, env: { ...env, SOPS_KMS_ARN: ARN } });
  t.is(enc.code, 0, enc.stderr);
  t.regex(enc.out, /arn: arn:aws:kms/);
  const bad = await runCli(['encrypt', '--kms', ARN, '--encryption-context', 'nocolon', 'app.yaml'], { cwd: dir, env });
  t.is(bad.code, 6);
  t.regex(bad.stderr, /encryption context/);
});

test('a KMS server that is down gives exit 128 quickly on decrypt, naming the ARN', async (t) => {
  const { dir, env, server } = await setup(t);
  const enc = await runCli(['encrypt', '--kms', ARN, '-i', 'app.yaml'], { cwd: dir, env });
  t.is(enc.code, 0, enc.stderr);
  await server.close();
  const dec = await runCli(['decrypt', 'app.yaml'], { cwd: dir, env });
  t.is(dec.code, 128);
  t.true(dec.stderr.includes(ARN));
  t.is(dec.out, '');
});
