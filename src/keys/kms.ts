/**
 * AWS KMS master keys: the `sops.kms[]` metadata entries (sops-format.md §7.3).
 *
 * Metadata fields: `arn`, `role` (omitted when empty), `context` (string map, omitted when
 * empty), `created_at` (RFC 3339, required), `enc` (standard base64 of the KMS
 * `CiphertextBlob`) and `aws_profile` (always written, `''` when unset). Unknown extra fields
 * are kept.
 *
 * Like sops (`kms/keysource.go`): the region comes from the ARN; encrypt is
 * `Encrypt(KeyId=arn, Plaintext=dataKey, EncryptionContext=context)`, decrypt is
 * `Decrypt(KeyId=arn, CiphertextBlob, EncryptionContext=context)`; a `role` is assumed through
 * STS `AssumeRole` (session name `sops@<hostname>`) and its credentials are used; an
 * `aws_profile` selects a shared-config profile.
 *
 * The AWS SDK is loaded with a dynamic `import()` only when a KMS key is actually used. The
 * client is built from the {@link KeyContext}'s environment: region from the ARN, endpoint
 * from `AWS_ENDPOINT_URL_KMS` / `AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL`, credentials from
 * `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, shared files from
 * `AWS_CONFIG_FILE` / `AWS_SHARED_CREDENTIALS_FILE`; anything else is the SDK's default chain.
 * Retries and timeouts are bounded so a dead or slow server never hangs a command.
 */
import type { KMSClientConfig } from '@aws-sdk/client-kms';
import type { STSClientConfig } from '@aws-sdk/client-sts';
import { ExitCode, SopsError } from '../errors.js';
import { clone, entry, getEntry, map, nul, str, type Entry, type MapNode, type Node } from '../tree/types.js';
import { importPackage } from '../packages.js';
import { dataKeySpellings, outsideText } from './sanitize.js';
import { envBound, KMS_ATTEMPTS_ENV, KMS_TIMEOUT_ENV } from './limits.js';
import { formatCreatedAt, readKeyEntry, scalarText } from './pgp.js';
import { KeyUnavailableError, type KeyContext, type KeyKind, type MasterKey, type RecipientOptions } from './types.js';

/** The metadata list name. */
export const KMS_TYPE = 'kms';

/** sops's ARN pattern; group 1 is the region. */
export const KMS_ARN_PATTERN = /^arn:aws[\w-]*:kms:(.+):[0-9]+:(key|alias)\/.+$/;

/** Bounds for the AWS calls of {@link createKmsKind}. */
export interface KmsKindOptions {
  /** Attempts per AWS call, the first included (SDK `maxAttempts`). Default 3. */
  maxAttempts?: number;
  /** Time to establish a TCP connection, in ms. Default 5,000. */
  connectionTimeoutMs?: number;
  /** Time for one HTTP request from start to full response, in ms. Default 10,000. */
  requestTimeoutMs?: number;
}

const DEFAULTS: Required<KmsKindOptions> = { maxAttempts: 3, connectionTimeoutMs: 5_000, requestTimeoutMs: 10_000 };
const KNOWN_FIELDS = new Set(['arn', 'role', 'context', 'created_at', 'enc', 'aws_profile']);

/** The region of a KMS key ARN, or undefined when the ARN does not have sops's shape. */
export function kmsArnRegion(arn: string): string | undefined {
  return KMS_ARN_PATTERN.exec(arn)?.[1];
}

/**
 * Splits a recipient `ARN[+ROLE_ARN]` as sops does (v3.12+): spaces removed, split at the
 * first `+arn:` (an ARN cannot contain `:` in its path, so that marks a second ARN).
 */
export function splitKmsRecipient(recipient: string): { arn: string; role?: string } {
  const s = recipient.replace(/ /g, '');
  const i = s.indexOf('+arn:');
  return i > 0 ? { arn: s.slice(0, i), role: s.slice(i + 1) } : { arn: s };
}

/**
 * The STS role session name sops uses: `sops@<hostname>` with every character outside sops's
 * class `[a-zA-Z0-9=,.@-_]` removed, cut to 64 characters. Note that in that class `@-_` is a
 * range (`@A-Z[\]^_`), so sops drops `-` from host names and keeps `[\]^`; tsops does the same.
 */
export function stsSessionName(hostname: string): string {
  const name = 'sops@' + hostname.replace(/[^a-zA-Z0-9=,.@-_]+/g, '');
  return name.length >= 64 ? name.slice(0, 64) : name;
}

/** Re-spells a parsed `created_at` as Go's `Format(time.RFC3339)` prints it (no fraction, `Z` for +00:00). */
function goRfc3339(text: string): string {
  return text.replace(/\.\d+(?=Z|[+-]\d{2}:\d{2}$)/, '').replace(/[+-]00:00$/, 'Z');
}

function badMetadata(message: string): SopsError {
  return new SopsError(`kms key metadata: ${message}`, ExitCode.Generic, {
    hint: 'the sops metadata of this file is damaged; restore it from version control',
  });
}

/** A context map from metadata: null values are kept (sops writes them back) but never sent. */
function contextFromMetadata(n: Node | undefined): Map<string, string | null> {
  const out = new Map<string, string | null>();
  if (!n || n.kind === 'null') return out;
  if (n.kind !== 'map') throw badMetadata(`field 'context' must be a map of strings, got a ${n.kind}`);
  for (const it of n.items) {
    if (it.kind !== 'entry') continue;
    out.set(it.key, scalarText(it.value, `context.${it.key}`, 'kms') ?? null);
  }
  return out;
}

/** Strict standard base64 as Go's `base64.StdEncoding` (line breaks ignored). */
function decodeEnc(enc: string): Uint8Array | undefined {
  const s = enc.replace(/[\r\n]/g, '');
  if (s.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return undefined;
  return new Uint8Array(Buffer.from(s, 'base64'));
}

interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Where an AWS call goes and who signs it; secrets collected for redaction. */
interface CallSetup {
  region: string;
  profile?: string;
  credentials?: AwsCredentials;
  secrets: string[];
}

function endpointFor(env: KeyContext['env'], service: 'KMS' | 'STS'): string | undefined {
  if ((env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? '').toLowerCase() === 'true') return undefined;
  return env[`AWS_ENDPOINT_URL_${service}`] || env.AWS_ENDPOINT_URL || undefined;
}

const envFlag = (v: string | undefined): boolean => (v ?? '').toLowerCase() === 'true';

/**
 * One SDK client configuration from the context's environment. Fields the SDK would otherwise
 * read from `process.env` are given explicitly; `filepath` / `configFilepath` are passed on by
 * the SDK to its default credential chain (`fromIni`), so `aws_profile` reads the shared files
 * named in the context's environment.
 */
function clientConfig<T>(ctx: KeyContext, setup: CallSetup, service: 'KMS' | 'STS', o: Required<KmsKindOptions>): T {
  const cfg: Record<string, unknown> = {
    region: setup.region,
    maxAttempts: o.maxAttempts,
    retryMode: 'standard',
    requestHandler: {
      connectionTimeout: o.connectionTimeoutMs,
      requestTimeout: o.requestTimeoutMs,
      socketTimeout: o.requestTimeoutMs,
      throwOnRequestTimeout: true,
    },
    useFipsEndpoint: envFlag(ctx.env.AWS_USE_FIPS_ENDPOINT),
    useDualstackEndpoint: envFlag(ctx.env.AWS_USE_DUALSTACK_ENDPOINT),
  };
  const endpoint = endpointFor(ctx.env, service);
  if (endpoint) cfg.endpoint = endpoint;
  if (setup.credentials) cfg.credentials = setup.credentials;
  else {
    if (setup.profile) cfg.profile = setup.profile;
    if (ctx.env.AWS_SHARED_CREDENTIALS_FILE) cfg.filepath = ctx.env.AWS_SHARED_CREDENTIALS_FILE;
    if (ctx.env.AWS_CONFIG_FILE) cfg.configFilepath = ctx.env.AWS_CONFIG_FILE;
  }
  return cfg as T;
}

/**
 * Credentials as aws-sdk-go-v2's `LoadDefaultConfig` picks them: a profile (`aws_profile`, else
 * `AWS_PROFILE`) wins over static keys in the environment; without either, the SDK's chain.
 */
function baseSetup(ctx: KeyContext, region: string, awsProfile: string): CallSetup {
  const env = ctx.env;
  const secrets = [env.AWS_SECRET_ACCESS_KEY, env.AWS_SESSION_TOKEN].filter((s): s is string => !!s);
  const profile = awsProfile || env.AWS_PROFILE || undefined;
  if (profile) return { region, profile, secrets };
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    const credentials: AwsCredentials = { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY };
    if (env.AWS_SESSION_TOKEN) credentials.sessionToken = env.AWS_SESSION_TOKEN;
    return { region, credentials, secrets };
  }
  return { region, secrets };
}

/**
 * The bounds of one AWS call: the kind's options, overridden by {@link KMS_TIMEOUT_ENV} (time
 * for one HTTP request, and at most that to connect) and {@link KMS_ATTEMPTS_ENV}.
 */
export function effectiveKmsOptions(base: Required<KmsKindOptions>, env: KeyContext['env']): Required<KmsKindOptions> {
  const out = { ...base };
  const timeout = envBound(env, KMS_TIMEOUT_ENV, 3_600_000);
  if (timeout !== undefined) {
    out.requestTimeoutMs = timeout;
    out.connectionTimeoutMs = Math.min(base.connectionTimeoutMs, timeout);
  }
  const attempts = envBound(env, KMS_ATTEMPTS_ENV, 10);
  if (attempts !== undefined) out.maxAttempts = attempts;
  return out;
}

/** One line naming an AWS failure: error code, message, HTTP status and attempts. No secrets. */
export function describeAwsError(e: unknown, secrets: readonly string[] = []): string {
  const err = (e ?? {}) as { name?: string; code?: string; message?: string; errors?: unknown[]; $metadata?: { httpStatusCode?: number; attempts?: number } };
  let message = (err.message ?? String(e))
    .replace(/^@smithy\/node-http-handler - (\[ERROR\] )?/, '')
    .replace(/Deserialization error: to see the raw response, inspect the hidden field \{error\}\.\$response on this object\./, '(the response could not be parsed)')
    .replace(/\s*\n\s*/g, ' ')
    .trim();
  if (!message && Array.isArray(err.errors) && err.errors.length) message = String((err.errors[0] as Error)?.message ?? '');
  if (message === 'UnknownError') message = '';
  const code = err.code && err.code !== err.name ? err.code : undefined;
  const name = err.name && err.name !== 'Error' ? err.name : undefined;
  let head = [name, code].filter(Boolean).join('/');
  if (!name && code && message.includes(code)) head = '';
  const extra: string[] = [];
  if (err.$metadata?.httpStatusCode) extra.push(`HTTP ${err.$metadata.httpStatusCode}`);
  if (err.$metadata?.attempts) extra.push(`${err.$metadata.attempts} attempt${err.$metadata.attempts === 1 ? '' : 's'}`);
  // redact before cutting, so that a cut cannot split a secret into an unrecognized prefix
  message = outsideText(message, secrets);
  head = outsideText(head, secrets, 80);
  let out = [head, message.replace(/\.$/, '')].filter(Boolean).join(': ') || 'unknown error';
  if (extra.length) out += ` (${extra.join(', ')})`;
  return out;
}

function adviceFor(e: unknown, key: KmsMasterKey, op: 'encrypt' | 'decrypt'): string {
  const err = (e ?? {}) as { name?: string; code?: string };
  const who = key.role ? `role ${key.role}` : key.awsProfile ? `profile ${key.awsProfile}` : 'the AWS credentials in use';
  if (/^(ECONNRESET|EPIPE)$/.test(err.code ?? '')) {
    return 'the AWS endpoint dropped the connection; check the network, AWS_ENDPOINT_URL_KMS and any proxy in between, or try again later';
  }
  switch (err.name) {
    case 'AccessDeniedException':
    case 'AccessDenied':
      return `check that the key policy or IAM lets ${who} call kms:${op === 'encrypt' ? 'Encrypt' : 'Decrypt'} on this key`;
    case 'InvalidCiphertextException':
      return "the enc value or the encryption context does not match what the data key was encrypted with (the file's context must be exactly the one used to encrypt)";
    case 'IncorrectKeyException':
      return 'the data key was encrypted under a different KMS key than this arn';
    case 'ThrottlingException':
      return 'AWS KMS kept throttling the requests; try again later';
    case 'CredentialsProviderError':
      return key.awsProfile
        ? `the AWS profile ${JSON.stringify(key.awsProfile)} was not found or has no usable credentials (shared files: AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/config and ~/.aws/credentials)`
        : 'no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or give the key an aws_profile';
    case 'TimeoutError':
      return `the AWS endpoint did not answer in time; check the network, AWS_ENDPOINT_URL_KMS and AWS_ENDPOINT_URL_STS (${KMS_TIMEOUT_ENV} sets the time allowed per request)`;
    case 'KMSInternalException':
    case 'DependencyTimeoutException':
    case 'KMSInvalidStateException':
      return 'AWS KMS could not serve the request; try again later, or check the state of the key';
    default:
      break;
  }
  const status = (e as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  if ((e as { name?: string })?.name === 'SyntaxError' || (status !== undefined && status >= 500 && !err.name?.endsWith('Exception'))) {
    return 'the endpoint did not answer as AWS KMS does; check AWS_ENDPOINT_URL_KMS and any proxy in between, or try again later';
  }
  if (/^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|EPIPE)$/.test(err.code ?? '')) {
    return 'the AWS endpoint could not be reached; check the network, AWS_ENDPOINT_URL_KMS and AWS_ENDPOINT_URL_STS';
  }
  return '';
}

type KmsSdk = typeof import('@aws-sdk/client-kms');
type StsSdk = typeof import('@aws-sdk/client-sts');

async function loadSdk<T>(name: '@aws-sdk/client-kms' | '@aws-sdk/client-sts'): Promise<T> {
  try {
    return await importPackage<T>(name);
  } catch (e) {
    throw Object.assign(new Error(`the AWS SDK package ${name} could not be loaded (${(e as Error).message})`), { name: 'SdkLoadError' });
  }
}

/** One `sops.kms[]` entry. Build it with {@link kmsKind} (`fromMetadata` / `fromRecipient`). */
export class KmsMasterKey implements MasterKey {
  readonly type = KMS_TYPE;

  /** @internal use {@link createKmsKind}'s `fromMetadata` / `fromRecipient`. */
  constructor(
    readonly arn: string,
    readonly role: string,
    /** Encryption context; null values come only from metadata and are never sent. */
    readonly context: ReadonlyMap<string, string | null>,
    /** `created_at` as sops would write it back. */
    private readonly createdAt: string,
    public enc: string,
    readonly awsProfile: string,
    private readonly extra: Entry[],
    private readonly opts: Required<KmsKindOptions>,
  ) {}

  get id(): string {
    return this.arn;
  }

  /** The context as sent to KMS (sops always sends a map, empty when there is none). */
  private requestContext(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of this.context) if (v !== null) out[k] = v;
    return out;
  }

  /** Runs one KMS command with a fresh client (after AssumeRole when a role is set). */
  private async withKms<T>(ctx: KeyContext, call: (sdk: KmsSdk, client: InstanceType<KmsSdk['KMSClient']>) => Promise<T>, secrets: readonly string[] = []): Promise<T> {
    const region = kmsArnRegion(this.arn);
    if (region === undefined) throw Object.assign(new Error(`no valid ARN found in '${this.arn}'`), { name: 'InvalidArn' });
    const opts = effectiveKmsOptions(this.opts, ctx.env);
    const setup = baseSetup(ctx, region, this.awsProfile);
    setup.secrets.push(...secrets);
    if (this.role) {
      const sts = await loadSdk<StsSdk>('@aws-sdk/client-sts');
      const client = new sts.STSClient(clientConfig<STSClientConfig>(ctx, setup, 'STS', opts));
      const session = stsSessionName(ctx.hostname?.() ?? ctx.env.HOSTNAME ?? 'localhost');
      try {
        const out = await client.send(new sts.AssumeRoleCommand({ RoleArn: this.role, RoleSessionName: session }));
        const c = out.Credentials;
        if (!c?.AccessKeyId || !c.SecretAccessKey) throw Object.assign(new Error('STS returned no credentials'), { name: 'InvalidResponse' });
        setup.credentials = { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}) };
        setup.secrets.push(c.SecretAccessKey, ...(c.SessionToken ? [c.SessionToken] : []));
        delete setup.profile;
      } catch (e) {
        throw Object.assign(new Error(`failed to assume role ${this.role}: ${describeAwsError(e, setup.secrets)}`), { name: 'AssumeRoleFailed', cause: e });
      } finally {
        client.destroy();
      }
    }
    const sdk = await loadSdk<KmsSdk>('@aws-sdk/client-kms');
    const client = new sdk.KMSClient(clientConfig<KMSClientConfig>(ctx, setup, 'KMS', opts));
    try {
      return await call(sdk, client);
    } catch (e) {
      throw Object.assign(new Error(describeAwsError(e, setup.secrets)), { name: 'KmsCallFailed', cause: e });
    } finally {
      client.destroy();
    }
  }

  private reason(op: 'encrypt' | 'decrypt', e: unknown): string {
    const err = e as Error & { cause?: unknown };
    const root = err?.name === 'KmsCallFailed' || err?.name === 'AssumeRoleFailed' ? err.cause : e;
    const rootName = (root as { name?: string } | undefined)?.name;
    const advice = err?.name === 'AssumeRoleFailed' && (rootName === 'AccessDenied' || rootName === 'AccessDeniedException')
      ? `check that the credentials in use may call sts:AssumeRole on ${this.role} (its trust policy)`
      : adviceFor(root, this, op);
    return `AWS KMS could not ${op} the data key with ${this.arn}: ${err?.message ?? String(e)}${advice ? `; ${advice}` : ''}`;
  }

  async encrypt(dataKey: Uint8Array, ctx: KeyContext): Promise<void> {
    let blob: Uint8Array | undefined;
    try {
      blob = await this.withKms(ctx, async (sdk, client) => {
        const out = await client.send(new sdk.EncryptCommand({ KeyId: this.arn, Plaintext: dataKey, EncryptionContext: this.requestContext() }));
        return out.CiphertextBlob;
      }, dataKeySpellings(dataKey));
    } catch (e) {
      throw new SopsError(this.reason('encrypt', e), ExitCode.Generic, {
        hint: 'check the key ARN, the AWS credentials (AWS_PROFILE, aws_profile, role) and AWS_ENDPOINT_URL_KMS',
      });
    }
    if (!(blob instanceof Uint8Array) || !blob.length) throw new SopsError(`AWS KMS returned no ciphertext for ${this.arn}`, ExitCode.Generic);
    this.enc = Buffer.from(blob).toString('base64');
  }

  async decrypt(ctx: KeyContext): Promise<Uint8Array> {
    if (this.enc.trim() === '') throw new KeyUnavailableError(`the kms entry for ${this.arn} has an empty enc field`);
    const blob = decodeEnc(this.enc);
    if (!blob) throw new KeyUnavailableError(`the enc field of the kms entry for ${this.arn} is not valid base64`);
    try {
      const plain = await this.withKms(ctx, async (sdk, client) => {
        const out = await client.send(new sdk.DecryptCommand({ KeyId: this.arn, CiphertextBlob: blob, EncryptionContext: this.requestContext() }));
        return out.Plaintext;
      });
      if (!plain) throw new KeyUnavailableError(`AWS KMS returned no plaintext for ${this.arn}`);
      if (!(plain instanceof Uint8Array)) throw new KeyUnavailableError(`AWS KMS returned a plaintext for ${this.arn} that is not base64 data`);
      return plain;
    } catch (e) {
      if (e instanceof KeyUnavailableError) throw e;
      throw new KeyUnavailableError(this.reason('decrypt', e));
    }
  }

  toMetadata(): MapNode {
    const items: Entry[] = [entry('arn', str(this.arn))];
    if (this.role) items.push(entry('role', str(this.role)));
    if (this.context.size) {
      items.push(entry('context', map([...this.context].map(([k, v]) => entry(k, v === null ? nul() : str(v))))));
    }
    items.push(
      entry('created_at', str(this.createdAt)),
      entry('enc', str(this.enc)),
      entry('aws_profile', str(this.awsProfile)),
      ...this.extra.map((e) => entry(e.key, clone(e.value))),
    );
    return map(items);
  }
}

/** Builds the AWS KMS key kind; {@link kmsKind} is the default instance. */
export function createKmsKind(options: KmsKindOptions = {}): KeyKind {
  const opts: Required<KmsKindOptions> = { ...DEFAULTS, ...options };
  return {
    type: KMS_TYPE,
    fromMetadata(m: MapNode): MasterKey {
      const { field, createdText, extra } = readKeyEntry(m, 'kms', KNOWN_FIELDS);
      return new KmsMasterKey(
        field('arn') ?? '',
        field('role') ?? '',
        contextFromMetadata(getEntry(m, 'context')?.value),
        goRfc3339(createdText),
        field('enc') ?? '',
        field('aws_profile') ?? '',
        extra,
        opts,
      );
    },
    fromRecipient(recipient: string, ctx: KeyContext, options: RecipientOptions = {}): MasterKey {
      const { arn, role } = splitKmsRecipient(recipient);
      if (kmsArnRegion(arn) === undefined) {
        throw new SopsError(`invalid AWS KMS key ARN ${JSON.stringify(arn)}`, ExitCode.Generic, {
          hint: 'use arn:<partition>:kms:<region>:<account>:key/<key-id> or ...:alias/<name>, optionally followed by +<role ARN>',
        });
      }
      const roleArn = (options.role ?? role ?? '').trim();
      if (roleArn && !roleArn.startsWith('arn:')) {
        throw new SopsError(`invalid IAM role ARN ${JSON.stringify(roleArn)} for AWS KMS key ${arn}`, ExitCode.Generic, {
          hint: 'use arn:aws:iam::<account>:role/<name>',
        });
      }
      const context = new Map<string, string | null>(Object.entries(options.context ?? {}));
      const now = formatCreatedAt(new Date(Math.floor(ctx.now().getTime() / 1000) * 1000));
      return new KmsMasterKey(arn, roleArn, context, now, '', options.awsProfile ?? '', [], opts);
    },
  };
}

/** The AWS KMS key kind (`sops.kms[]`), with the default retry and timeout bounds. */
export const kmsKind: KeyKind = createKmsKind();
