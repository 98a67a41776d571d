/**
 * A loopback AWS KMS + STS server for tests (node:http on 127.0.0.1, random port).
 *
 * - KMS: AWS JSON 1.1 (`X-Amz-Target: TrentService.Encrypt|Decrypt|GenerateDataKey`).
 *   In `aead` mode ciphertexts are real: AES-256-GCM under a per-key secret the server keeps,
 *   the blob carries the key id, and key id plus encryption context are the additional data,
 *   so a Decrypt with another context fails with InvalidCiphertextException as on real KMS.
 *   In `oracle` mode blobs follow the sops-oracle fake-KMS contract
 *   (`{"fake_kms":"sops-oracle/v1","plaintext":...,"key_id":...,"context":...}`), so the
 *   oracle (real sops 3.9.2) can decrypt files written through this server.
 * - STS: `AssumeRole` (query protocol, XML); the issued credentials can then sign KMS calls.
 * - Every request's SigV4 signature is recomputed with the secret of its access key and
 *   rejected with 403 InvalidSignatureException on mismatch.
 * - Faults on demand: denied keys, throttling / 500s / malformed bodies / dropped connections
 *   for the next N KMS calls, slow responses, and any raw answer through `respond`. `counts` and `calls` record what arrived.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The access key tests sign with by default. */
export const TEST_ACCESS_KEY_ID = 'AKIDTSOPSKMSTEST0001';
/** Its secret. */
export const TEST_SECRET_ACCESS_KEY = 'tsops/kms+test/secret/0123456789abcdefABCD';

/** Behaviour of the server; every field can be changed while it runs. */
export interface KmsServerConfig {
  /** Blob format: real AES-GCM (`aead`, default) or the sops-oracle contract (`oracle`). */
  mode: 'aead' | 'oracle';
  /** Access key id -> secret (and session token for STS-issued keys). */
  credentials: Map<string, { secret: string; token?: string }>;
  /** Key ids (as sent in KeyId) that answer AccessDeniedException. */
  deniedKeys: Set<string>;
  /** Role ARNs that answer AccessDenied on AssumeRole. */
  deniedRoles: Set<string>;
  /** The next N KMS calls answer 400 ThrottlingException. */
  throttleNext: number;
  /** The next N KMS calls answer 500 KMSInternalException. */
  fail500Next: number;
  /** The next N KMS calls answer 200 with a body that is not JSON. */
  malformedNext: number;
  /** Delay before every answer, in ms. */
  delayMs: number;
  /** The next N KMS calls get their connection closed without any answer. */
  resetNext: number;
  /**
   * Answers KMS calls itself when it returns a response (after the signature check, before the
   * other faults): any status, body and content type, e.g. a proxy's HTML page or a JSON body
   * without `Plaintext`. `undefined` lets the server answer normally.
   */
  respond?: (op: string, input: Record<string, unknown>) => RawAnswer | undefined;
}

/** A raw HTTP answer for {@link KmsServerConfig.respond}. */
export interface RawAnswer {
  status: number;
  body: string | Buffer;
  /** Default `application/x-amz-json-1.1`. */
  contentType?: string;
  headers?: Record<string, string>;
}

/** One request as the server saw it. */
export interface RecordedCall {
  op: string;
  status: number;
  error?: string;
  accessKeyId?: string;
  sessionToken?: string;
  region?: string;
  service?: string;
  keyId?: string;
  context?: Record<string, string>;
  roleArn?: string;
  roleSessionName?: string;
}

export interface KmsServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly config: KmsServerConfig;
  /** Requests per operation (`Encrypt`, `Decrypt`, `GenerateDataKey`, `AssumeRole`, ...), faults included. */
  readonly counts: Record<string, number>;
  readonly calls: RecordedCall[];
  /** Credentials handed out by AssumeRole. */
  readonly issued: Array<{ accessKeyId: string; roleArn: string; roleSessionName: string }>;
  close(): Promise<void>;
}

class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

const escapeUri = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

const sha256hex = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();

function canonicalPath(path: string): string {
  const segs: string[] = [];
  for (const s of path.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') segs.pop();
    else segs.push(s);
  }
  const p = `${path.startsWith('/') ? '/' : ''}${segs.join('/')}${segs.length && path.endsWith('/') ? '/' : ''}`;
  return escapeUri(p).replace(/%2F/g, '/');
}

function canonicalQuery(query: string): string {
  if (!query) return '';
  const pairs = query.split('&').filter(Boolean).map((kv) => {
    const i = kv.indexOf('=');
    const k = decodeURIComponent(i < 0 ? kv : kv.slice(0, i));
    const v = i < 0 ? '' : decodeURIComponent(kv.slice(i + 1));
    return [escapeUri(k), escapeUri(v)] as const;
  });
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

interface Signer {
  accessKeyId: string;
  sessionToken?: string;
  region: string;
  service: string;
}

/**
 * Recomputes an AWS SigV4 signature from the request and the secret of its access key.
 * Throws {@link ApiError} (403 InvalidSignatureException, 400 for missing or unknown keys).
 */
function verifySigV4(req: IncomingMessage, body: Buffer, creds: KmsServerConfig['credentials']): Signer {
  const auth = req.headers.authorization;
  if (!auth) throw new ApiError(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) throw new ApiError(400, 'IncompleteSignatureException', 'Authorization header is malformed');
  const [, accessKeyId, date, region, service, signedHeaders, signature] = m as unknown as [string, string, string, string, string, string, string];
  const known = creds.get(accessKeyId);
  if (!known) throw new ApiError(400, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
  const token = req.headers['x-amz-security-token'] as string | undefined;
  if (known.token !== undefined && token !== known.token) {
    throw new ApiError(400, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  const amzDate = req.headers['x-amz-date'];
  if (typeof amzDate !== 'string' || !amzDate.startsWith(date)) throw new ApiError(403, 'InvalidSignatureException', 'X-Amz-Date missing or not matching the credential scope');
  const names = signedHeaders.split(';');
  if (!names.includes('host')) throw new ApiError(403, 'InvalidSignatureException', 'host must be a signed header');
  const headerLines = names.map((n) => {
    const v = req.headers[n];
    const text = Array.isArray(v) ? v.join(',') : (v ?? '');
    return `${n}:${String(text).trim().replace(/\s+/g, ' ')}\n`;
  });
  const [path = '/', query = ''] = (req.url ?? '/').split('?', 2);
  const payloadHash = (req.headers['x-amz-content-sha256'] as string | undefined) ?? sha256hex(body);
  const canonical = [req.method, canonicalPath(path), canonicalQuery(query), headerLines.join(''), signedHeaders, payloadHash].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac('AWS4' + known.secret, date), region), service), 'aws4_request');
  const expected = createHmac('sha256', key).update(toSign).digest('hex');
  if (expected !== signature) {
    throw new ApiError(403, 'InvalidSignatureException', 'The request signature we calculated does not match the signature you provided.');
  }
  return { accessKeyId, region, service, ...(token ? { sessionToken: token } : {}) };
}

const sortedContext = (c: Record<string, string>): string => JSON.stringify(Object.keys(c).sort().map((k) => [k, c[k]]));

function contextOf(v: unknown): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new ApiError(400, 'ValidationException', 'EncryptionContext must be a map');
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') throw new ApiError(400, 'ValidationException', 'EncryptionContext values must be strings');
    out[k] = x;
  }
  return out;
}

function b64field(v: unknown, name: string): Buffer {
  if (typeof v !== 'string') throw new ApiError(400, 'ValidationException', `${name} is required`);
  return Buffer.from(v, 'base64');
}

/** Starts the server; close it in `t.teardown`. */
export async function startKmsServer(init: Partial<KmsServerConfig> = {}): Promise<KmsServer> {
  const config: KmsServerConfig = {
    mode: 'aead',
    credentials: new Map([[TEST_ACCESS_KEY_ID, { secret: TEST_SECRET_ACCESS_KEY }]]),
    deniedKeys: new Set(),
    deniedRoles: new Set(),
    throttleNext: 0,
    fail500Next: 0,
    malformedNext: 0,
    delayMs: 0,
    resetNext: 0,
    ...init,
  };
  const counts: Record<string, number> = {};
  const calls: RecordedCall[] = [];
  const issued: KmsServer['issued'] = [];
  const keySecrets = new Map<string, Buffer>();
  const secretFor = (keyId: string): Buffer => {
    let s = keySecrets.get(keyId);
    if (!s) keySecrets.set(keyId, (s = randomBytes(32)));
    return s;
  };
  const aad = (keyId: string, ctx: Record<string, string>): Buffer => Buffer.from(`${keyId}\0${sortedContext(ctx)}`);

  function seal(keyId: string, plaintext: Buffer, ctx: Record<string, string>): Buffer {
    if (config.mode === 'oracle') {
      const blob = { fake_kms: 'sops-oracle/v1', key_id: keyId, context: ctx, plaintext: plaintext.toString('base64') };
      return Buffer.from(JSON.stringify(blob));
    }
    const id = Buffer.from(keyId);
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', secretFor(keyId), iv);
    c.setAAD(aad(keyId, ctx));
    const ct = Buffer.concat([c.update(plaintext), c.final()]);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(id.length);
    return Buffer.concat([Buffer.from([1]), len, id, iv, c.getAuthTag(), ct]);
  }

  function open(blob: Buffer, requestKeyId: string | undefined, ctx: Record<string, string>): { keyId: string; plaintext: Buffer } {
    const invalid = (): ApiError => new ApiError(400, 'InvalidCiphertextException', '');
    if (config.mode === 'oracle') {
      let o: { fake_kms?: unknown; plaintext?: unknown; key_id?: unknown; context?: unknown };
      try {
        o = JSON.parse(blob.toString('utf8'));
      } catch {
        throw invalid();
      }
      if (o.fake_kms !== 'sops-oracle/v1' || typeof o.plaintext !== 'string') throw invalid();
      const keyId = typeof o.key_id === 'string' ? o.key_id : (requestKeyId ?? '');
      if (requestKeyId !== undefined && keyId !== requestKeyId) {
        throw new ApiError(400, 'IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
      }
      if (o.context !== undefined && sortedContext(contextOf(o.context)) !== sortedContext(ctx)) throw invalid();
      return { keyId, plaintext: Buffer.from(o.plaintext, 'base64') };
    }
    if (blob.length < 3 || blob[0] !== 1) throw invalid();
    const n = blob.readUInt16BE(1);
    if (blob.length < 3 + n + 28) throw invalid();
    const keyId = blob.subarray(3, 3 + n).toString('utf8');
    if (requestKeyId !== undefined && keyId !== requestKeyId) {
      throw new ApiError(400, 'IncorrectKeyException', 'The key ID in the request does not identify a CMK that can perform this operation.');
    }
    const iv = blob.subarray(3 + n, 15 + n);
    const tag = blob.subarray(15 + n, 31 + n);
    const d = createDecipheriv('aes-256-gcm', secretFor(keyId), iv);
    d.setAAD(aad(keyId, ctx));
    d.setAuthTag(tag);
    try {
      return { keyId, plaintext: Buffer.concat([d.update(blob.subarray(31 + n)), d.final()]) };
    } catch {
      throw invalid();
    }
  }

  function kmsOp(op: string, input: Record<string, unknown>, call: RecordedCall): Record<string, unknown> {
    const keyId = typeof input.KeyId === 'string' ? input.KeyId : undefined;
    const ctx = contextOf(input.EncryptionContext);
    if (keyId) call.keyId = keyId;
    call.context = ctx;
    const deny = (id: string | undefined): void => {
      if (id && config.deniedKeys.has(id)) {
        throw new ApiError(400, 'AccessDeniedException', `User: ${call.accessKeyId} is not authorized to perform: kms:${op} on resource: ${id} because no resource-based policy allows the kms:${op} action`);
      }
    };
    deny(keyId);
    switch (op) {
      case 'Encrypt': {
        if (!keyId) throw new ApiError(400, 'ValidationException', 'KeyId is required');
        const pt = b64field(input.Plaintext, 'Plaintext');
        if (pt.length < 1 || pt.length > 4096) throw new ApiError(400, 'ValidationException', 'Plaintext must be 1 to 4096 bytes');
        return { CiphertextBlob: seal(keyId, pt, ctx).toString('base64'), KeyId: keyId, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      }
      case 'Decrypt': {
        const r = open(b64field(input.CiphertextBlob, 'CiphertextBlob'), keyId, ctx);
        deny(r.keyId);
        return { KeyId: r.keyId, Plaintext: r.plaintext.toString('base64'), EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      }
      case 'GenerateDataKey': {
        if (!keyId) throw new ApiError(400, 'ValidationException', 'KeyId is required');
        const n = typeof input.NumberOfBytes === 'number' ? input.NumberOfBytes : input.KeySpec === 'AES_128' ? 16 : 32;
        const pt = randomBytes(n);
        return { CiphertextBlob: seal(keyId, pt, ctx).toString('base64'), Plaintext: pt.toString('base64'), KeyId: keyId };
      }
      default:
        throw new ApiError(400, 'UnknownOperationException', `unknown operation ${op}`);
    }
  }

  function assumeRole(form: URLSearchParams, call: RecordedCall): string {
    const roleArn = form.get('RoleArn') ?? '';
    const name = form.get('RoleSessionName') ?? '';
    call.roleArn = roleArn;
    call.roleSessionName = name;
    if (!/^arn:aws[\w-]*:iam::\d+:role\/.+$/.test(roleArn)) throw new ApiError(400, 'ValidationError', `invalid RoleArn ${roleArn}`);
    if (!/^[\w+=,.@-]{2,64}$/.test(name)) throw new ApiError(400, 'ValidationError', `invalid RoleSessionName ${name}`);
    if (config.deniedRoles.has(roleArn)) {
      throw new ApiError(403, 'AccessDenied', `User: ${call.accessKeyId} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`);
    }
    const accessKeyId = 'ASIA' + randomBytes(8).toString('hex').toUpperCase();
    const secret = randomBytes(30).toString('base64');
    const token = randomBytes(48).toString('base64');
    config.credentials.set(accessKeyId, { secret, token });
    issued.push({ accessKeyId, roleArn, roleSessionName: name });
    const exp = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
    return `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult><Credentials>`
      + `<AccessKeyId>${accessKeyId}</AccessKeyId><SecretAccessKey>${secret}</SecretAccessKey><SessionToken>${token}</SessionToken>`
      + `<Expiration>${exp}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>AROATEST:${name}</AssumedRoleId>`
      + `<Arn>${roleArn.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/${name}</Arn></AssumedRoleUser>`
      + `</AssumeRoleResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></AssumeRoleResponse>`;
  }

  const xmlError = (e: ApiError): string =>
    `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>${e.code}</Code>`
    + `<Message>${e.message.replace(/[<&>]/g, (c) => `&#${c.charCodeAt(0)};`)}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;

  async function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> {
    const target = req.headers['x-amz-target'];
    const isKms = typeof target === 'string';
    const form = isKms ? undefined : new URLSearchParams(body.toString('utf8'));
    const op = isKms ? target.replace(/^TrentService\./, '') : (form?.get('Action') ?? 'Unknown');
    counts[op] = (counts[op] ?? 0) + 1;
    const call: RecordedCall = { op, status: 200 };
    calls.push(call);
    if (config.delayMs > 0) {
      // Wait, but stop waiting as soon as the client gives up (no timers left behind).
      await new Promise<void>((r) => {
        const timer = setTimeout(r, config.delayMs);
        req.socket.once('close', () => {
          clearTimeout(timer);
          r();
        });
      });
    }
    if (res.destroyed || req.socket.destroyed) {
      call.status = 0;
      call.error = 'client went away';
      return;
    }
    const send = (status: number, type: string, text: string | Buffer, extra: Record<string, string> = {}): void => {
      call.status = status;
      res.writeHead(status, { 'content-type': type, 'x-amzn-requestid': randomUUID(), date: new Date().toUTCString(), ...extra });
      res.end(text);
    };
    try {
      const who = verifySigV4(req, body, config.credentials);
      call.accessKeyId = who.accessKeyId;
      call.region = who.region;
      call.service = who.service;
      if (who.sessionToken) call.sessionToken = who.sessionToken;
      if (isKms) {
        if (config.resetNext > 0) {
          config.resetNext--;
          call.status = 0;
          call.error = 'reset';
          req.socket.destroy();
          return;
        }
        if (config.respond) {
          let input: Record<string, unknown> = {};
          try {
            input = JSON.parse(body.toString('utf8') || '{}');
          } catch {
            // the hook sees an empty input
          }
          const a = config.respond(op, input);
          if (a) {
            call.error = 'custom';
            send(a.status, a.contentType ?? 'application/x-amz-json-1.1', a.body, a.headers ?? {});
            return;
          }
        }
        if (config.throttleNext > 0) {
          config.throttleNext--;
          throw new ApiError(400, 'ThrottlingException', 'Rate exceeded');
        }
        if (config.fail500Next > 0) {
          config.fail500Next--;
          throw new ApiError(500, 'KMSInternalException', 'internal failure (injected)');
        }
        if (config.malformedNext > 0) {
          config.malformedNext--;
          call.error = 'malformed';
          send(200, 'application/x-amz-json-1.1', '{"CiphertextBlob": "AAAA", "KeyId": ');
          return;
        }
        let input: Record<string, unknown>;
        try {
          input = JSON.parse(body.toString('utf8') || '{}');
        } catch {
          throw new ApiError(400, 'SerializationException', 'the request body is not JSON');
        }
        send(200, 'application/x-amz-json-1.1', JSON.stringify(kmsOp(op, input, call)));
      } else {
        if (op !== 'AssumeRole') throw new ApiError(400, 'InvalidAction', `unsupported action ${op}`);
        send(200, 'text/xml', assumeRole(form!, call));
      }
    } catch (e) {
      const err = e instanceof ApiError ? e : new ApiError(500, 'InternalFailure', String((e as Error)?.message ?? e));
      call.error = err.code;
      if (isKms) {
        send(err.status, 'application/x-amz-json-1.1', JSON.stringify({ __type: err.code, message: err.message }), { 'x-amzn-errortype': err.code });
      } else {
        send(err.status, 'text/xml', xmlError(err));
      }
    }
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(req, res, Buffer.concat(chunks)).catch(() => res.destroy());
    });
    res.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    config,
    counts,
    calls,
    issued,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A free loopback port with nothing listening (for "server down" tests). */
export async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * The environment a KMS test runs tsops with: test credentials, endpoints pointing at `url`,
 * IMDS off, shared files in `dir` (created empty unless given).
 */
export function kmsTestEnv(url: string, dir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID,
    AWS_SECRET_ACCESS_KEY: TEST_SECRET_ACCESS_KEY,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_KMS: url,
    AWS_ENDPOINT_URL_STS: url,
    AWS_CONFIG_FILE: `${dir}/aws-config`,
    AWS_SHARED_CREDENTIALS_FILE: `${dir}/aws-credentials`,
    HOME: dir,
    ...extra,
  };
}
