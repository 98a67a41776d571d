// Fuzzing AWS KMS responses: the loopback server answers Decrypt / Encrypt with random JSON
// bodies (any shape, deep nesting, huge strings, random status codes and error types) and the
// key kind goes through the real @aws-sdk/client-kms. Every answer ends as the data key, a
// clean KeyUnavailableError / SopsError (DataKeyError, exit 128, on decrypt) with one bounded
// printable line that holds no secret, never a raw JS error, never a hang.
import test from 'ava';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataKeyError, SopsError } from '../../src/errors.js';
import { unwrapDataKey } from '../../src/keys/datakey.js';
import { kmsKind } from '../../src/keys/kms.js';
import type { KeyContext, MasterKey } from '../../src/keys/types.js';
import { fuzzParams } from '../helpers/fuzz.js';
import { makeKeyContext } from '../helpers/key-context.js';
import { kmsTestEnv, startKmsServer, TEST_SECRET_ACCESS_KEY, type KmsServer, type RawAnswer } from '../helpers/kms-server.js';

for (const k of Object.keys(process.env)) if (k.startsWith('AWS_')) delete process.env[k];
process.env.AWS_EC2_METADATA_DISABLED = 'true';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const ARN = 'arn:aws:kms:us-east-1:111122223333:key/fuzz';

let server: KmsServer;
let ctx: KeyContext;
let dir: string;
let encrypted: MasterKey;
let dataKey: Uint8Array;

test.before(async () => {
  server = await startKmsServer();
  dir = mkdtempSync(join(tmpdir(), 'tsops-fuzz-kms-'));
  // one attempt and a short timeout: the fuzzer looks at answers, not at retries
  ctx = makeKeyContext({ env: kmsTestEnv(server.url, dir, { TSOPS_KMS_MAX_ATTEMPTS: '1', TSOPS_KMS_TIMEOUT_MS: '5000' }), homeDir: dir });
  dataKey = new Uint8Array(randomBytes(32));
  encrypted = kmsKind.fromRecipient(ARN, ctx);
  await encrypted.encrypt(dataKey, ctx);
});
test.after.always(async () => {
  await server?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A nested JSON value `depth` levels deep (arrays or objects). */
const deep = (depth: number, obj: boolean): string => (obj ? '{"a":'.repeat(depth) + '1' + '}'.repeat(depth) : '['.repeat(depth) + ']'.repeat(depth));

const field = fc.oneof(
  fc.base64String({ maxLength: 120 }),
  fc.string({ maxLength: 60, unit: 'binary' }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString('base64')),
  fc.jsonValue({ maxDepth: 3 }),
);

/** A KMS-ish JSON body: the real field names with random values, or anything at all. */
const kmsBody = fc.oneof(
  fc.record({ Plaintext: field, KeyId: field, CiphertextBlob: field, EncryptionAlgorithm: field }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
  fc.record({ __type: fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('ThrottlingException', 'AccessDeniedException', 'KMSInternalException', 'InvalidCiphertextException', 'com.amazon#X')), message: fc.oneof(fc.string({ maxLength: 200, unit: 'binary' }), field) }, { requiredKeys: [] }).map((o) => JSON.stringify(o)),
  fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 300, unit: 'binary' }),
  fc.constantFrom(deep(10_000, true), deep(10_000, false), `{"Plaintext": "${'A'.repeat(2_000_000)}"}`, `{"message": "${'\\u001b[2J'.repeat(1000)}", "__type": "X"}`),
);

const answer: fc.Arbitrary<RawAnswer> = fc.record({
  status: fc.constantFrom(200, 200, 200, 400, 403, 404, 429, 500, 502, 503),
  body: kmsBody,
  contentType: fc.constantFrom('application/x-amz-json-1.1', 'application/json', 'text/html', 'text/plain'),
});

function checkLine(text: string, what: string): void {
  if (text.includes(TEST_SECRET_ACCESS_KEY)) throw new Error(`${what}: AWS secret in the message`);
  if (text.includes(Buffer.from(dataKey).toString('base64'))) throw new Error(`${what}: data key in the message`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(text)) throw new Error(`${what}: control character in the message: ${JSON.stringify(text.slice(0, 200))}`);
  if (text.length > 2_000) throw new Error(`${what}: message of ${text.length} characters`);
}

test.serial('random Decrypt answers: the data key or a clean DataKeyError', async (t) => {
  await fc.assert(
    fc.asyncProperty(answer, async (a) => {
      server.config.respond = (op) => (op === 'Decrypt' ? a : undefined);
      try {
        const got = await unwrapDataKey([[encrypted]], undefined, ['kms'], { ...ctx, cache: new Map() }, 'f.yaml');
        if (got.length !== 32) throw new Error(`a ${got.length}-byte data key was accepted`);
      } catch (e) {
        if (!(e instanceof DataKeyError)) throw new Error(`not a DataKeyError: ${e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)}`);
        for (const f of e.failures) checkLine(f.reason, 'decrypt');
        checkLine(e.message, 'decrypt');
      }
    }),
    fuzzParams(250, 0.05),
  );
  server.config.respond = undefined;
  t.pass();
});

test.serial('random Encrypt answers: a stored enc or a clean SopsError', async (t) => {
  await fc.assert(
    fc.asyncProperty(answer, async (a) => {
      server.config.respond = (op) => (op === 'Encrypt' ? a : undefined);
      const k = kmsKind.fromRecipient(ARN, ctx);
      try {
        await k.encrypt(dataKey, ctx);
        if (typeof k.enc !== 'string' || k.enc === '') throw new Error('encrypt succeeded without an enc');
      } catch (e) {
        if (!(e instanceof SopsError)) throw new Error(`not a SopsError: ${e instanceof Error ? `${e.constructor.name}: ${e.message}` : String(e)}`);
        checkLine(e.message, 'encrypt');
      }
    }),
    fuzzParams(150, 0.05),
  );
  server.config.respond = undefined;
  t.pass();
});
