// AWS KMS faults through the real CLI against the loopback KMS server: down, slow, 500,
// throttling (persistent and transient), malformed answers, dropped connections, and error
// messages that echo secrets. Each failure: one message naming the ARN and what to do, sops's
// exit code (decrypt 128; encrypt/rotate 1, as sops's "Could not generate data key"), no stack
// trace, no secret, the file on disk unchanged and no temp file left.
import test, { type ExecutionContext } from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ageKeygen, assertCleanFailure, baseEnv, listDir, runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { deadPort, kmsTestEnv, startKmsServer, TEST_SECRET_ACCESS_KEY, type KmsServer } from '../helpers/kms-server.js';

const ARN = 'arn:aws:kms:us-east-1:111122223333:key/faults';
const ARN2 = 'arn:aws:kms:us-east-1:111122223333:key/faults-second';
const SECRET = 'kms-fault-secret-value-77';
const PLAIN = `db:\n    password: ${SECRET}\n`;

interface Setup {
  server: KmsServer;
  dir: string;
  env: Record<string, string>;
  /** `enc.yaml`: PLAIN encrypted for ARN. */
  encrypted: string;
  run(args: string[], extra?: Record<string, string | undefined>): Promise<CliResult & { ms: number }>;
}

async function setup(t: ExecutionContext, encryptArgs: string[] = ['--kms', ARN]): Promise<Setup> {
  const server = await startKmsServer();
  t.teardown(() => server.close());
  const dir = tempDir(t, 'tsops-kmsfault-');
  const env = { ...baseEnv(dir), ...kmsTestEnv(server.url, dir), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const run = async (args: string[], extra: Record<string, string | undefined> = {}) => {
    const t0 = Date.now();
    const r = await runCli(args, { cwd: dir, env: { ...env, ...extra } });
    return { ...r, ms: Date.now() - t0 };
  };
  writeFileSync(join(dir, 'plain.yaml'), PLAIN);
  const enc = await run(['encrypt', ...encryptArgs, 'plain.yaml']);
  if (enc.code !== 0) throw new Error(`setup encrypt failed: ${enc.stderr}`);
  writeFileSync(join(dir, 'enc.yaml'), enc.stdout);
  return { server, dir, env, encrypted: enc.out, run };
}

/** Decrypt fails cleanly with 128, names the ARN, says what to do, leaks nothing. */
function assertDecryptFault(t: ExecutionContext, s: Setup, r: CliResult, reason: RegExp): void {
  t.log(r.stderr);
  assertCleanFailure(t, r, { code: 128, message: reason, secrets: [SECRET, TEST_SECRET_ACCESS_KEY] });
  t.true(r.stderr.includes(ARN), 'the ARN is named');
  t.regex(r.stderr, /^tsops: hint: .*AWS/m, 'a hint about AWS');
  t.is(readFileSync(join(s.dir, 'enc.yaml'), 'utf8'), s.encrypted, 'the file is unchanged');
}

/** encrypt -i fails with exit 1 and leaves the plaintext file exactly as it was, with no temp file. */
async function assertEncryptInPlaceFault(t: ExecutionContext, s: Setup, reason: RegExp, extra: Record<string, string> = {}): Promise<void> {
  const before = listDir(s.dir);
  const r = await s.run(['encrypt', '--kms', ARN, '-i', 'plain.yaml'], extra);
  t.log(r.stderr);
  assertCleanFailure(t, r, { code: 1, message: reason, secrets: [SECRET, TEST_SECRET_ACCESS_KEY] });
  t.true(r.stderr.includes(ARN));
  t.is(readFileSync(join(s.dir, 'plain.yaml'), 'utf8'), PLAIN, 'plain.yaml untouched');
  t.deepEqual(listDir(s.dir), before, 'no file left behind');
}

test('server down: decrypt 128 and encrypt -i 1, quickly, naming the ARN and the endpoint', async (t) => {
  const s = await setup(t);
  const down = { AWS_ENDPOINT_URL_KMS: `http://127.0.0.1:${await deadPort()}` };
  const dec = await s.run(['decrypt', 'enc.yaml'], down);
  assertDecryptFault(t, s, dec, /ECONNREFUSED.*could not be reached/);
  t.true(dec.ms < 15_000, `stopped in ${dec.ms} ms`);
  await assertEncryptInPlaceFault(t, s, /ECONNREFUSED/, down);
});

test('slow server: stopped after TSOPS_KMS_TIMEOUT_MS x TSOPS_KMS_MAX_ATTEMPTS, not after the server answers', async (t) => {
  const s = await setup(t);
  s.server.config.delayMs = 20_000;
  const bound = { TSOPS_KMS_TIMEOUT_MS: '400', TSOPS_KMS_MAX_ATTEMPTS: '2' };
  const dec = await s.run(['decrypt', 'enc.yaml'], bound);
  assertDecryptFault(t, s, dec, /TimeoutError|timed? ?out/i);
  t.regex(dec.stderr, /TSOPS_KMS_TIMEOUT_MS/, 'says how to allow more time');
  t.true(dec.ms < 8_000, `stopped in ${dec.ms} ms`);
  t.is(s.server.counts.Decrypt, 2, 'two attempts');
  await assertEncryptInPlaceFault(t, s, /TimeoutError|timed? ?out/i, bound);
});

test('a bad TSOPS_KMS_TIMEOUT_MS is named instead of being ignored', async (t) => {
  const s = await setup(t);
  const dec = await s.run(['decrypt', 'enc.yaml'], { TSOPS_KMS_TIMEOUT_MS: 'soon' });
  assertDecryptFault(t, s, dec, /TSOPS_KMS_TIMEOUT_MS="soon" is not a whole number/);
});

test('HTTP 500 every time: three attempts, then 128 naming KMSInternalException', async (t) => {
  const s = await setup(t);
  s.server.config.fail500Next = 1000;
  const dec = await s.run(['decrypt', 'enc.yaml']);
  assertDecryptFault(t, s, dec, /KMSInternalException.*HTTP 500, 3 attempts/);
  t.is(s.server.counts.Decrypt, 3);
  await assertEncryptInPlaceFault(t, s, /KMSInternalException/);
});

test('throttling: retried with backoff a bounded number of times, then 128; a transient throttle succeeds', async (t) => {
  const s = await setup(t);
  s.server.config.throttleNext = 1000;
  const dec = await s.run(['decrypt', 'enc.yaml']);
  assertDecryptFault(t, s, dec, /ThrottlingException.*3 attempts.*kept throttling/);
  t.is(s.server.counts.Decrypt, 3, 'three attempts, no more');
  t.true(dec.ms < 20_000, `stopped in ${dec.ms} ms`);

  s.server.config.throttleNext = 2;
  const before = s.server.counts.Decrypt!;
  const ok = await s.run(['decrypt', 'enc.yaml']);
  t.is(ok.code, 0, ok.stderr);
  t.is(ok.out, PLAIN);
  t.is(s.server.counts.Decrypt! - before, 3, 'two throttled attempts, then success');

  s.server.config.throttleNext = 1;
  const enc = await s.run(['encrypt', '--kms', ARN, 'plain.yaml']);
  t.is(enc.code, 0, enc.stderr);
  t.regex(enc.out, /arn: arn:aws:kms/);
});

/** Malformed answers to Decrypt (status, content type, body), each a clean 128. */
const MALFORMED: Array<[string, (input: Record<string, unknown>) => { status: number; body: string; contentType?: string }, RegExp]> = [
  ['invalid JSON', () => ({ status: 200, body: '{"Plaintext": "AAAA", "KeyId": ' }), /could not be parsed|SyntaxError/],
  ['no Plaintext', (i) => ({ status: 200, body: JSON.stringify({ KeyId: i.KeyId }) }), /returned no plaintext/],
  ['a 16-byte key', (i) => ({ status: 200, body: JSON.stringify({ KeyId: i.KeyId, Plaintext: Buffer.alloc(16, 7).toString('base64') }) }), /returned 16 bytes where a 32-byte data key was expected/],
  ['a 4 kB key', (i) => ({ status: 200, body: JSON.stringify({ KeyId: i.KeyId, Plaintext: Buffer.alloc(4096, 7).toString('base64') }) }), /returned 4096 bytes/],
  ['Plaintext a number', () => ({ status: 200, body: '{"Plaintext": 12345}' }), /returned a plaintext .* that is not base64 data|could not be parsed/],
  ['Plaintext not base64', () => ({ status: 200, body: '{"Plaintext": "%%%not base64%%%"}' }), /Invalid base64 string. \(the response could not be parsed\)/],
  ['a JSON array', () => ({ status: 200, body: '[1,2,3]' }), /returned no plaintext/],
  ['an HTML page (200)', () => ({ status: 200, body: '<html><body>Welcome to the proxy</body></html>', contentType: 'text/html' }), /SyntaxError: .*could not be parsed.*did not answer as AWS KMS/],
  ['an HTML 502 from a proxy', () => ({ status: 502, body: '<html><h1>502 Bad Gateway</h1></html>', contentType: 'text/html' }), /HTTP 502, 3 attempts.*did not answer as AWS KMS/],
  ['an empty 200', () => ({ status: 200, body: '' }), /returned no plaintext/],
  ['an unknown error type', () => ({ status: 400, body: JSON.stringify({ __type: 'com.example#Weird', message: 'weird' }) }), /Weird: weird \(HTTP 400, 1 attempt\)/],
];

for (const [name, answer, reason] of MALFORMED) {
  test(`malformed KMS answer: ${name}`, async (t) => {
    const s = await setup(t);
    s.server.config.respond = (op, input) => (op === 'Decrypt' ? answer(input) : undefined);
    const dec = await s.run(['decrypt', 'enc.yaml']);
    assertDecryptFault(t, s, dec, reason);
    t.true(dec.ms < 15_000, `stopped in ${dec.ms} ms`);
  });
}

test('malformed answer to Encrypt (no CiphertextBlob, HTML): encrypt -i fails, plaintext file untouched', async (t) => {
  const s = await setup(t);
  s.server.config.respond = (op) => (op === 'Encrypt' ? { status: 200, body: '{"KeyId": "x"}' } : undefined);
  await assertEncryptInPlaceFault(t, s, /returned no ciphertext/);
  s.server.config.respond = (op) => (op === 'Encrypt' ? { status: 200, body: '<html/>', contentType: 'text/html' } : undefined);
  await assertEncryptInPlaceFault(t, s, /could not be parsed|SyntaxError|did not answer as AWS KMS/);
});

test('connection dropped without an answer: retried, then 128', async (t) => {
  const s = await setup(t);
  s.server.config.resetNext = 1000;
  const dec = await s.run(['decrypt', 'enc.yaml']);
  assertDecryptFault(t, s, dec, /ECONNRESET: socket hang up \(3 attempts\); the AWS endpoint dropped the connection/);
  t.is(s.server.counts.Decrypt, 3);
  s.server.config.resetNext = 1;
  const ok = await s.run(['decrypt', 'enc.yaml']);
  t.is(ok.code, 0, ok.stderr);
});

test('an error message that echoes the data key, the AWS secret or terminal escapes is passed on without them', async (t) => {
  const s = await setup(t);
  s.server.config.respond = (op, input) =>
    op === 'Encrypt'
      ? {
          status: 400,
          body: JSON.stringify({
            __type: 'ValidationException',
            message: `bad request: Plaintext=${String(input.Plaintext)} hex=${Buffer.from(String(input.Plaintext), 'base64').toString('hex')} signed with ${TEST_SECRET_ACCESS_KEY} \u001b[31mred\u001b[0m\u0007`,
          }),
        }
      : undefined;
  let echoed = '';
  const orig = s.server.config.respond;
  s.server.config.respond = (op, input) => {
    if (op === 'Encrypt') echoed = String(input.Plaintext);
    return orig(op, input);
  };
  const r = await s.run(['encrypt', '--kms', ARN, '-i', 'plain.yaml']);
  assertCleanFailure(t, r, { code: 1, message: /ValidationException: bad request: Plaintext=\[redacted\] hex=\[redacted\] signed with \[redacted\]/, secrets: [SECRET, TEST_SECRET_ACCESS_KEY] });
  t.true(echoed.length >= 44, 'the server saw the data key');
  t.false(r.stderr.includes(echoed), 'base64 data key not printed');
  t.false(r.stderr.includes(Buffer.from(echoed, 'base64').toString('hex')), 'hex data key not printed');
  t.false(r.stderr.includes('\u001b'), 'no escape sequence');
  t.false(r.stderr.includes('\u0007'), 'no bell');
  t.is(readFileSync(join(s.dir, 'plain.yaml'), 'utf8'), PLAIN);
});

test('a huge error message is cut, not printed whole', async (t) => {
  const s = await setup(t);
  s.server.config.respond = (op) => (op === 'Decrypt' ? { status: 400, body: JSON.stringify({ __type: 'ValidationException', message: 'x'.repeat(5_000_000) }) } : undefined);
  const dec = await s.run(['decrypt', 'enc.yaml']);
  assertDecryptFault(t, s, dec, /ValidationException: x+\.\.\. \(cut\)/);
  t.true(dec.stderr.length < 3_000, `stderr is ${dec.stderr.length} bytes`);
});

test('two master keys, one failing: decrypt succeeds with the other; both failing lists both with reasons', async (t) => {
  const home = tempDir(t, 'tsops-kmsfault-age-');
  const age = ageKeygen(home);
  const s = await setup(t, ['--kms', ARN, '--age', age.recipient]);
  const down = { AWS_ENDPOINT_URL_KMS: `http://127.0.0.1:${await deadPort()}` };
  // kms first: it fails, age recovers the data key
  const ok = await s.run(['decrypt', '--decryption-order', 'kms,age', 'enc.yaml'], { ...down, SOPS_AGE_KEY_FILE: age.keyFile });
  t.is(ok.code, 0, ok.stderr);
  t.is(ok.out, PLAIN);
  // age without an identity, kms down: both listed
  const bad = await s.run(['decrypt', '--decryption-order', 'kms,age', 'enc.yaml'], down);
  assertCleanFailure(t, bad, { code: 128, secrets: [SECRET] });
  t.regex(bad.stderr, new RegExp(`^tsops:   - kms ${ARN}: .*ECONNREFUSED`, 'm'));
  t.regex(bad.stderr, new RegExp(`^tsops:   - age ${age.recipient}: no age identities found`, 'm'));
  t.regex(bad.stderr, /^tsops: hint: fix one of the keys above: .*AWS.*; or make the age identity available/m);
});

test('rotate: the new data key cannot be wrapped (KMS down for the second key): exit 1, every failure listed, file unchanged', async (t) => {
  const s = await setup(t, ['--kms', `${ARN},${ARN2}`]);
  s.server.config.deniedKeys.add(ARN2);
  // decrypting works with ARN; wrapping the new key fails for ARN2 (denied) and, once the
  // server is throttling, the retried Encrypt of ARN as well
  s.server.config.respond = (op) => (op === 'Encrypt' ? { status: 500, body: JSON.stringify({ __type: 'KMSInternalException', message: 'down for maintenance' }) } : undefined);
  const before = listDir(s.dir);
  const r = await s.run(['rotate', '-i', 'enc.yaml']);
  assertCleanFailure(t, r, { code: 1, message: /could not encrypt the data key with 2 of its master keys/, secrets: [SECRET] });
  t.regex(r.stderr, new RegExp(`^tsops:   - .*${ARN}:.*KMSInternalException`, 'm'));
  t.regex(r.stderr, new RegExp(`^tsops:   - .*${ARN2}:.*`, 'm'));
  t.is(readFileSync(join(s.dir, 'enc.yaml'), 'utf8'), s.encrypted, 'file unchanged');
  t.deepEqual(listDir(s.dir), before, 'no temp file');
});
