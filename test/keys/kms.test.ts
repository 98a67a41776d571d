/**
 * The AWS KMS key kind against the loopback KMS/STS server, through the real
 * @aws-sdk/client-kms and @aws-sdk/client-sts. Every request goes to 127.0.0.1.
 */
import test, { type ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SopsError } from '../../src/errors.js';
import {
  KmsMasterKey, createKmsKind, describeAwsError, kmsArnRegion, kmsKind, splitKmsRecipient, stsSessionName,
} from '../../src/keys/kms.js';
import { keyFromMetadata } from '../../src/keys/registry.js';
import { KeyUnavailableError, type KeyContext } from '../../src/keys/types.js';
import { entry, get, getEntry, int, map, str, type MapNode, type Node } from '../../src/tree/types.js';
import { makeKeyContext } from '../helpers/key-context.js';
import { TEST_SECRET_ACCESS_KEY, deadPort, kmsTestEnv, startKmsServer, type KmsServer, type KmsServerConfig } from '../helpers/kms-server.js';

// Safety net: the SDK reads a few settings from process.env whatever we pass; keep this
// process's own AWS settings out and never let it reach for instance metadata.
for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.AWS_CONFIG_FILE = '/nonexistent/tsops-kms-test/config';
process.env.AWS_SHARED_CREDENTIALS_FILE = '/nonexistent/tsops-kms-test/credentials';

const ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const ROLE = 'arn:aws:iam::111122223333:role/sops-decrypt';

interface Setup {
  server: KmsServer;
  ctx: KeyContext;
  dir: string;
}

async function setup(t: ExecutionContext, cfg: Partial<KmsServerConfig> = {}, env: Record<string, string> = {}): Promise<Setup> {
  const server = await startKmsServer(cfg);
  const dir = mkdtempSync(join(tmpdir(), 'tsops-kms-'));
  t.teardown(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const ctx = makeKeyContext({ env: kmsTestEnv(server.url, dir, env), homeDir: dir, hostname: () => 'build-host-01.example' });
  return { server, ctx, dir };
}

const dataKey = (): Uint8Array => new Uint8Array(randomBytes(32));

function fields(m: MapNode): Record<string, unknown> {
  const plain = (n: Node): unknown => {
    if (n.kind === 'map') return Object.fromEntries(n.items.flatMap((i) => (i.kind === 'entry' ? [[i.key, plain(i.value)]] : [])));
    if (n.kind === 'str') return n.value;
    if (n.kind === 'null') return null;
    return `<${n.kind}>`;
  };
  return plain(m) as Record<string, unknown>;
}

async function decryptError(t: ExecutionContext, p: Promise<unknown>): Promise<string> {
  const e = await t.throwsAsync(p, { instanceOf: KeyUnavailableError });
  return e?.message ?? '';
}

// ---- pure parts -------------------------------------------------------------------------

test('ARN shape and region as sops matches them', (t) => {
  t.is(kmsArnRegion(ARN), 'eu-west-1');
  t.is(kmsArnRegion('arn:aws-us-gov:kms:us-gov-west-1:123456789012:alias/prod'), 'us-gov-west-1');
  t.is(kmsArnRegion('arn:aws-cn:kms:cn-north-1:123:key/x'), 'cn-north-1');
  t.is(kmsArnRegion('arn:aws:kms:us-east-1:notdigits:key/x'), undefined);
  t.is(kmsArnRegion('arn:aws:s3:::bucket'), undefined);
  t.is(kmsArnRegion('1234abcd-12ab-34cd-56ef-1234567890ab'), undefined);
  t.is(kmsArnRegion('arn:aws:kms:us-east-1:123:key/'), undefined);
});

test('recipient ARN[+ROLE] is split at the first +arn: with spaces removed', (t) => {
  t.deepEqual(splitKmsRecipient(`${ARN}+${ROLE}`), { arn: ARN, role: ROLE });
  t.deepEqual(splitKmsRecipient(` ${ARN} `), { arn: ARN });
  t.deepEqual(splitKmsRecipient(`${ARN}+arn:aws-cn:iam::1:role/x`), { arn: ARN, role: 'arn:aws-cn:iam::1:role/x' });
});

test('STS session name: sops@host with sops\'s character class (hyphen dropped), at most 64 chars', (t) => {
  t.is(stsSessionName('build-host-01.example'), 'sops@buildhost01.example');
  t.is(stsSessionName('a b/c:d_e=f,g@h'), 'sops@abcd_e=f,g@h');
  t.is(stsSessionName('x'.repeat(100)).length, 64);
  t.is(stsSessionName('x'.repeat(59)), 'sops@' + 'x'.repeat(59));
});

test('fromRecipient rejects malformed ARNs and role ARNs with a SopsError', (t) => {
  const ctx = makeKeyContext({ env: {} });
  const e = t.throws(() => kmsKind.fromRecipient('alias/prod', ctx), { instanceOf: SopsError });
  t.regex(e!.message, /invalid AWS KMS key ARN "alias\/prod"/);
  t.regex(e!.hint!, /arn:<partition>:kms:<region>/);
  t.throws(() => kmsKind.fromRecipient('arn:aws:kms:eu-west-1:abc:key/x', ctx), { instanceOf: SopsError });
  t.throws(() => kmsKind.fromRecipient(ARN, ctx, { role: 'sops-decrypt' }), { instanceOf: SopsError, message: /invalid IAM role ARN/ });
});

test('metadata written by the kind reads back equal; aws_profile always present', (t) => {
  const now = new Date('2024-05-06T07:08:09.750Z');
  const ctx = makeKeyContext({ env: {}, now: () => now });
  const plain = kmsKind.fromRecipient(ARN, ctx);
  plain.enc = 'AQID';
  t.deepEqual(fields(plain.toMetadata()), { arn: ARN, created_at: '2024-05-06T07:08:09Z', enc: 'AQID', aws_profile: '' });

  const full = kmsKind.fromRecipient(`${ARN}+${ROLE}`, ctx, { context: { app: 'web', env: 'prod' }, awsProfile: 'dev' });
  full.enc = 'BAUG';
  const md = full.toMetadata();
  t.deepEqual(fields(md), {
    arn: ARN, role: ROLE, context: { app: 'web', env: 'prod' }, created_at: '2024-05-06T07:08:09Z', enc: 'BAUG', aws_profile: 'dev',
  });
  const back = keyFromMetadata('kms', { kind: 'map', items: [...md.items].reverse() });
  t.true(back instanceof KmsMasterKey);
  t.is(back.id, ARN);
  t.deepEqual(fields(back.toMetadata()), fields(md));
});

test('fromMetadata: lenient scalars, extra fields kept, created_at required, Go time spelling', (t) => {
  const md = map([
    entry('arn', str(ARN)),
    entry('context', map([entry('n', int(5)), entry('s', str('x'))])),
    entry('created_at', str('2024-01-02T03:04:05.123+00:00')),
    entry('enc', str('AQID')),
    entry('future_field', str('kept')),
  ]);
  const k = kmsKind.fromMetadata(md);
  t.deepEqual(fields(k.toMetadata()), {
    arn: ARN, context: { n: '5', s: 'x' }, created_at: '2024-01-02T03:04:05Z', enc: 'AQID', aws_profile: '', future_field: 'kept',
  });
  const offset = kmsKind.fromMetadata(map([entry('arn', str(ARN)), entry('created_at', str('2024-01-02T03:04:05+02:00'))]));
  t.is((get(offset.toMetadata(), 'created_at') as { value: string }).value, '2024-01-02T03:04:05+02:00');
  t.throws(() => kmsKind.fromMetadata(map([entry('arn', str(ARN))])), { instanceOf: SopsError, message: /created_at' is missing/ });
  t.throws(() => kmsKind.fromMetadata(map([entry('arn', str(ARN)), entry('created_at', str('yesterday'))])), { instanceOf: SopsError });
  t.throws(() => kmsKind.fromMetadata(map([entry('arn', str(ARN)), entry('created_at', str('2024-01-02T03:04:05Z')), entry('context', str('a:b'))])),
    { instanceOf: SopsError, message: /context/ });
  const noCtx = kmsKind.fromMetadata(map([entry('arn', str(ARN)), entry('created_at', str('2024-01-02T03:04:05Z')), entry('context', map())]));
  t.is(getEntry(noCtx.toMetadata(), 'context'), undefined);
});

test('describeAwsError names code and message and redacts secrets', (t) => {
  const e = Object.assign(new Error(`bad secret ${TEST_SECRET_ACCESS_KEY}`), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400, attempts: 1 } });
  const s = describeAwsError(e, [TEST_SECRET_ACCESS_KEY]);
  t.is(s, 'AccessDeniedException: bad secret [redacted] (HTTP 400, 1 attempt)');
  t.is(describeAwsError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' })), 'connect ECONNREFUSED 127.0.0.1:9');
  t.is(describeAwsError(Object.assign(new Error('UnknownError'), { name: 'InvalidCiphertextException', $metadata: { httpStatusCode: 400 } })),
    'InvalidCiphertextException (HTTP 400)');
});

// ---- through the SDK -------------------------------------------------------------------

test('round trip: Encrypt then Decrypt through the SDK, signed, region from the ARN', async (t) => {
  const { server, ctx } = await setup(t);
  const dk = dataKey();
  const k = kmsKind.fromRecipient(ARN, ctx);
  await k.encrypt(dk, ctx);
  t.regex(k.enc, /^[A-Za-z0-9+/]+=*$/);
  t.is(Buffer.from(k.enc, 'base64')[0], 1, 'a real AES-GCM blob from the server');
  const back = kmsKind.fromMetadata(k.toMetadata());
  t.deepEqual(await back.decrypt(ctx), dk);
  t.deepEqual(server.counts, { Encrypt: 1, Decrypt: 1 });
  for (const c of server.calls) {
    t.is(c.status, 200);
    t.is(c.region, 'eu-west-1');
    t.is(c.service, 'kms');
    t.is(c.keyId, ARN);
    t.deepEqual(c.context, {});
  }
});

test('encryption context round trip; another context fails with InvalidCiphertextException', async (t) => {
  const { server, ctx } = await setup(t);
  const dk = dataKey();
  const k = kmsKind.fromRecipient(ARN, ctx, { context: { app: 'billing', stage: 'prod' } });
  await k.encrypt(dk, ctx);
  const md = k.toMetadata();
  t.deepEqual(await kmsKind.fromMetadata(md).decrypt(ctx), dk);
  t.deepEqual(server.calls.map((c) => c.context), [{ app: 'billing', stage: 'prod' }, { app: 'billing', stage: 'prod' }]);

  const ctxEntry = getEntry(md, 'context')!;
  ctxEntry.value = map([entry('app', str('billing')), entry('stage', str('dev'))]);
  const msg = await decryptError(t, kmsKind.fromMetadata(md).decrypt(ctx));
  t.regex(msg, new RegExp(`with ${ARN.replace(/[/.]/g, '\\$&')}: InvalidCiphertextException`));
  t.regex(msg, /encryption context/);
  const none = md.items.filter((i) => i.kind !== 'entry' || i.key !== 'context');
  t.regex(await decryptError(t, kmsKind.fromMetadata(map(none)).decrypt(ctx)), /InvalidCiphertextException/);
  t.is(server.counts.Decrypt, 3, 'client errors are not retried');
});

test('role: AssumeRole first, then KMS calls signed with the returned credentials', async (t) => {
  const { server, ctx } = await setup(t);
  const dk = dataKey();
  const k = kmsKind.fromRecipient(`${ARN}+${ROLE}`, ctx);
  await k.encrypt(dk, ctx);
  t.deepEqual(await kmsKind.fromMetadata(k.toMetadata()).decrypt(ctx), dk);
  t.deepEqual(server.calls.map((c) => c.op), ['AssumeRole', 'Encrypt', 'AssumeRole', 'Decrypt']);
  t.is(server.issued.length, 2);
  const [assume, enc, , dec] = server.calls;
  t.is(assume!.roleArn, ROLE);
  t.is(assume!.roleSessionName, 'sops@buildhost01.example');
  t.is(assume!.service, 'sts');
  t.is(assume!.region, 'eu-west-1');
  t.is(assume!.accessKeyId, ctx.env.AWS_ACCESS_KEY_ID);
  t.is(enc!.accessKeyId, server.issued[0]!.accessKeyId);
  t.truthy(enc!.sessionToken);
  t.is(dec!.accessKeyId, server.issued[1]!.accessKeyId);
});

test('role denied: a clear error naming the role and AccessDenied', async (t) => {
  const { server, ctx } = await setup(t, { deniedRoles: new Set([ROLE]) });
  const k = kmsKind.fromRecipient(ARN, ctx, { role: ROLE });
  const e = await t.throwsAsync(k.encrypt(dataKey(), ctx), { instanceOf: SopsError });
  t.regex(e!.message, /failed to assume role arn:aws:iam::111122223333:role\/sops-decrypt: AccessDenied/);
  t.regex(e!.message, /may call sts:AssumeRole on arn:aws:iam::111122223333:role\/sops-decrypt/);
  t.false('Encrypt' in server.counts);
});

test('aws_profile: credentials come from that profile of the shared files in the env', async (t) => {
  const { server, ctx, dir } = await setup(t);
  server.config.credentials.set('AKIDPROFILEKMS000001', { secret: 'profile/secret/xyz' });
  server.config.credentials.set('AKIDCONFIGKMS0000001', { secret: 'config/secret/abc' });
  writeFileSync(join(dir, 'aws-credentials'), '[kmsprof]\naws_access_key_id = AKIDPROFILEKMS000001\naws_secret_access_key = profile/secret/xyz\n');
  writeFileSync(join(dir, 'aws-config'), '[profile cfgprof]\naws_access_key_id = AKIDCONFIGKMS0000001\naws_secret_access_key = config/secret/abc\n');
  const dk = dataKey();
  const k = kmsKind.fromRecipient(ARN, ctx, { awsProfile: 'kmsprof' });
  await k.encrypt(dk, ctx);
  const md = k.toMetadata();
  t.is((get(md, 'aws_profile') as { value: string }).value, 'kmsprof');
  t.deepEqual(await kmsKind.fromMetadata(md).decrypt(ctx), dk);
  t.deepEqual(server.calls.map((c) => c.accessKeyId), ['AKIDPROFILEKMS000001', 'AKIDPROFILEKMS000001']);

  const k2 = kmsKind.fromRecipient(ARN, ctx, { awsProfile: 'cfgprof' });
  await k2.encrypt(dk, ctx);
  t.is(server.calls.at(-1)!.accessKeyId, 'AKIDCONFIGKMS0000001');

  const missing = kmsKind.fromRecipient(ARN, ctx, { awsProfile: 'nosuchprofile' });
  missing.enc = k.enc;
  const msg = await decryptError(t, missing.decrypt(ctx));
  t.regex(msg, /could not decrypt the data key with arn:aws:kms:eu-west-1.*CredentialsProviderError/);
  t.regex(msg, /profile "nosuchprofile" was not found/);
});

test('server down: ECONNREFUSED gives a clear KeyUnavailableError quickly', async (t) => {
  const port = await deadPort();
  const dir = mkdtempSync(join(tmpdir(), 'tsops-kms-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const ctx = makeKeyContext({ env: kmsTestEnv(`http://127.0.0.1:${port}`, dir), homeDir: dir });
  const k = kmsKind.fromMetadata(map([entry('arn', str(ARN)), entry('created_at', str('2024-01-01T00:00:00Z')), entry('enc', str('AQIDBA=='))]));
  const start = Date.now();
  const msg = await decryptError(t, k.decrypt(ctx));
  t.true(Date.now() - start < 5000, `took ${Date.now() - start} ms`);
  t.regex(msg, /AWS KMS could not decrypt the data key with arn:aws:kms:eu-west-1:111122223333:key\/1234abcd/);
  t.regex(msg, /ECONNREFUSED/);
  t.regex(msg, /3 attempts/);
  t.regex(msg, /could not be reached/);
  t.false(msg.includes(TEST_SECRET_ACCESS_KEY));
});

test('throttling, then success: the SDK retries', async (t) => {
  const { server, ctx } = await setup(t, { throttleNext: 2 });
  const dk = dataKey();
  const k = kmsKind.fromRecipient(ARN, ctx);
  await k.encrypt(dk, ctx);
  t.is(server.counts.Encrypt, 3);
  t.deepEqual(server.calls.map((c) => c.status), [400, 400, 200]);
  server.config.fail500Next = 1;
  t.deepEqual(await k.decrypt(ctx), dk);
  t.is(server.counts.Decrypt, 2);
});

test('persistent throttling: error after the bounded number of attempts', async (t) => {
  const { server, ctx } = await setup(t, { throttleNext: 1000 });
  const k = kmsKind.fromRecipient(ARN, ctx);
  const e = await t.throwsAsync(k.encrypt(dataKey(), ctx), { instanceOf: SopsError });
  t.regex(e!.message, /could not encrypt the data key with arn:aws:kms:eu-west-1.*ThrottlingException: Rate exceeded \(HTTP 400, 3 attempts\)/);
  t.is(server.counts.Encrypt, 3);
});

test('slow server beyond the request timeout: error, no hang', async (t) => {
  const { server, ctx } = await setup(t, { delayMs: 30_000 });
  const kind = createKmsKind({ requestTimeoutMs: 1000, maxAttempts: 2 });
  const k = kind.fromMetadata(map([entry('arn', str(ARN)), entry('created_at', str('2024-01-01T00:00:00Z')), entry('enc', str('AQIDBA=='))]));
  const start = Date.now();
  const msg = await decryptError(t, k.decrypt(ctx));
  const took = Date.now() - start;
  t.true(took < 6000, `took ${took} ms`);
  t.regex(msg, /TimeoutError/);
  t.regex(msg, /1000 ms requestTimeout \(2 attempts\)/);
  t.true((server.counts.Decrypt ?? 0) <= 2);
});

test('access denied: AccessDeniedException with the ARN, not retried', async (t) => {
  const { server, ctx } = await setup(t);
  const k = kmsKind.fromRecipient(ARN, ctx);
  await k.encrypt(dataKey(), ctx);
  server.config.deniedKeys.add(ARN);
  const msg = await decryptError(t, kmsKind.fromMetadata(k.toMetadata()).decrypt(ctx));
  t.regex(msg, /with arn:aws:kms:eu-west-1:111122223333:key\/1234abcd-12ab-34cd-56ef-1234567890ab: AccessDeniedException: User: .* is not authorized/);
  t.regex(msg, /kms:Decrypt/);
  t.is(server.counts.Decrypt, 1);
});

test('malformed response body and wrong secret key: clear errors', async (t) => {
  const { server, ctx } = await setup(t);
  const k = kmsKind.fromRecipient(ARN, ctx);
  await k.encrypt(dataKey(), ctx);
  server.config.malformedNext = 1;
  const msg = await decryptError(t, kmsKind.fromMetadata(k.toMetadata()).decrypt(ctx));
  t.regex(msg, /could not decrypt the data key with arn:aws:kms/);

  const bad = makeKeyContext({ env: { ...ctx.env, AWS_SECRET_ACCESS_KEY: 'not-the-right-secret' }, homeDir: ctx.homeDir });
  const sig = await decryptError(t, kmsKind.fromMetadata(k.toMetadata()).decrypt(bad));
  t.regex(sig, /InvalidSignatureException: The request signature we calculated does not match/);
  t.regex(sig, /HTTP 403/);
  t.false(sig.includes('not-the-right-secret'));
});

test('an enc that is not base64 or empty fails before any call', async (t) => {
  const { server, ctx } = await setup(t);
  const base = [entry('arn', str(ARN)), entry('created_at', str('2024-01-01T00:00:00Z'))];
  t.regex(await decryptError(t, kmsKind.fromMetadata(map([...base, entry('enc', str('not base64!'))])).decrypt(ctx)), /not valid base64/);
  t.regex(await decryptError(t, kmsKind.fromMetadata(map(base)).decrypt(ctx)), /empty enc/);
  const badArn = kmsKind.fromMetadata(map([entry('arn', str('alias/x')), entry('created_at', str('2024-01-01T00:00:00Z')), entry('enc', str('AQID'))]));
  t.regex(await decryptError(t, badArn.decrypt(ctx)), /no valid ARN found in 'alias\/x'/);
  t.deepEqual(server.counts, {});
});

test('test server: GenerateDataKey through the SDK, and its blob decrypts', async (t) => {
  const { server } = await setup(t);
  const { KMSClient, GenerateDataKeyCommand, DecryptCommand } = await import('@aws-sdk/client-kms');
  const client = new KMSClient({
    region: 'eu-west-1', endpoint: server.url, maxAttempts: 1,
    credentials: { accessKeyId: 'AKIDTSOPSKMSTEST0001', secretAccessKey: TEST_SECRET_ACCESS_KEY },
  });
  t.teardown(() => client.destroy());
  const g = await client.send(new GenerateDataKeyCommand({ KeyId: ARN, KeySpec: 'AES_256', EncryptionContext: { a: 'b' } }));
  t.is(g.Plaintext?.length, 32);
  const d = await client.send(new DecryptCommand({ CiphertextBlob: g.CiphertextBlob, EncryptionContext: { a: 'b' } }));
  t.deepEqual(d.Plaintext, g.Plaintext);
  t.is(d.KeyId, ARN);
  t.deepEqual(server.counts, { GenerateDataKey: 1, Decrypt: 1 });
});
