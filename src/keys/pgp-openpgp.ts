/**
 * The built-in OpenPGP path of the PGP key kind (npm `openpgp`), used when no gpg binary can
 * be started. It mirrors sops's Go code path (`pgp/keysource.go`): keys come from the legacy
 * GnuPG keyrings, never from a GnuPG 2.1+ keybox (`pubring.kbx`) or gpg-agent.
 *
 * Key sources (each file binary or ASCII-armored, several keys per file allowed):
 * - encrypt: `$GNUPGHOME/pubring.gpg`, then every file in `TSOPS_PGP_PUBLIC_KEY_FILE`, then
 *   every file in `TSOPS_PGP_PRIVATE_KEY_FILE` (a secret key carries its public key);
 * - decrypt: `$GNUPGHOME/secring.gpg` (or `pubring.gpg` when there is no `secring.gpg`, as
 *   sops does), then every file in `TSOPS_PGP_PRIVATE_KEY_FILE`.
 *
 * `TSOPS_PGP_PUBLIC_KEY_FILE` and `TSOPS_PGP_PRIVATE_KEY_FILE` are tsops's own variables (sops
 * has no equivalent): lists of paths separated by `:`. A listed file that does not exist is
 * reported; a missing legacy keyring is not.
 *
 * Output is what gpg and Go's go-crypto read: a v3 PKESK plus a SEIPD v1 (MDC) packet, never
 * AEAD / SEIPD v2, even for keys that advertise SEIPD v2, with the literal data marked binary.
 * Passphrase-protected secret keys are not supported here (there is no prompt); v6 keys are
 * refused.
 */
import * as openpgp from 'openpgp';
import type { KeyContext } from './types.js';

/** `:`-separated armored or binary public key files for the built-in OpenPGP path. */
export const PUBLIC_KEY_FILE_ENV = 'TSOPS_PGP_PUBLIC_KEY_FILE';
/** `:`-separated armored or binary secret key files (unprotected) for the built-in OpenPGP path. */
export const PRIVATE_KEY_FILE_ENV = 'TSOPS_PGP_PRIVATE_KEY_FILE';

/** Success with a value, or a reason a person can act on (never a secret). */
export type FallbackResult<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * Compatible with what gpg accepts: old RSA-1024, DSA and ElGamal keys are used as gpg
 * would; no AEAD, no v6 keys, no compression.
 */
const CONFIG: openpgp.PartialConfig = {
  aeadProtect: false,
  v6Keys: false,
  minRSABits: 1024,
  rejectPublicKeyAlgorithms: new Set(),
  preferredCompressionAlgorithm: openpgp.enums.compression.uncompressed,
  showVersion: false,
  showComment: false,
};

interface Source {
  path: string;
  /** Named explicitly (env variable): a missing file is a problem worth reporting. */
  explicit: boolean;
}

interface LoadedKeys {
  keys: openpgp.Key[];
  /** Problems with the sources, for the failure reason. */
  problems: string[];
  /** What was searched, for the failure reason. */
  searched: string[];
}

function envPaths(ctx: KeyContext, name: string): Source[] {
  return (ctx.env[name] ?? '')
    .split(':')
    .filter((p) => p !== '')
    .map((path) => ({ path, explicit: true }));
}

async function sources(ctx: KeyContext, home: string, purpose: 'encrypt' | 'decrypt'): Promise<Source[]> {
  if (purpose === 'encrypt') {
    return [{ path: `${home}/pubring.gpg`, explicit: false }, ...envPaths(ctx, PUBLIC_KEY_FILE_ENV), ...envPaths(ctx, PRIVATE_KEY_FILE_ENV)];
  }
  return [{ path: `${home}/secring.gpg`, explicit: false }, { path: `${home}/pubring.gpg`, explicit: false }, ...envPaths(ctx, PRIVATE_KEY_FILE_ENV)];
}

const ARMORED_KEY = /-----BEGIN PGP (PUBLIC|PRIVATE) KEY BLOCK-----[\s\S]*?-----END PGP \1 KEY BLOCK-----/g;

async function parseKeys(bytes: Uint8Array): Promise<openpgp.Key[]> {
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 200)).trimStart();
  if (!head.startsWith('-----BEGIN PGP')) return openpgp.readKeys({ binaryKeys: bytes, config: CONFIG });
  const text = new TextDecoder().decode(bytes);
  const keys: openpgp.Key[] = [];
  for (const block of text.match(ARMORED_KEY) ?? []) keys.push(...(await openpgp.readKeys({ armoredKeys: block, config: CONFIG })));
  if (keys.length === 0) throw new Error('no armored key block found');
  return keys;
}

async function loadKeys(ctx: KeyContext, home: string, purpose: 'encrypt' | 'decrypt'): Promise<LoadedKeys> {
  const out: LoadedKeys = { keys: [], problems: [], searched: [] };
  let sawSecring = false;
  for (const src of await sources(ctx, home, purpose)) {
    // sops reads pubring.gpg for decryption only when there is no secring.gpg
    if (purpose === 'decrypt' && sawSecring && src.path === `${home}/pubring.gpg`) continue;
    const bytes = await ctx.readFile(src.path);
    if (bytes === undefined) {
      if (src.explicit) out.problems.push(`${src.path} does not exist`);
      continue;
    }
    if (src.path === `${home}/secring.gpg`) sawSecring = true;
    out.searched.push(src.path);
    try {
      out.keys.push(...(await parseKeys(bytes)));
    } catch (e) {
      out.problems.push(`cannot read keys from ${src.path}: ${(e as Error).message}`);
    }
  }
  return out;
}

/** Keys load once per context (and purpose): several pgp entries share them. */
function cachedKeys(ctx: KeyContext, home: string, purpose: 'encrypt' | 'decrypt'): Promise<LoadedKeys> {
  const id = [
    'pgp-openpgp', purpose, home, ctx.env[PUBLIC_KEY_FILE_ENV] ?? '', ctx.env[PRIVATE_KEY_FILE_ENV] ?? '',
  ].join('\0');
  let p = ctx.cache.get(id) as Promise<LoadedKeys> | undefined;
  if (!p) {
    p = loadKeys(ctx, home, purpose);
    ctx.cache.set(id, p);
  }
  return p;
}

function where(loaded: LoadedKeys, home: string, purpose: 'encrypt' | 'decrypt'): string {
  const envName = purpose === 'encrypt' ? `${PUBLIC_KEY_FILE_ENV} or ${PRIVATE_KEY_FILE_ENV}` : PRIVATE_KEY_FILE_ENV;
  const ring = purpose === 'encrypt' ? 'pubring.gpg' : 'secring.gpg';
  const searched = loaded.searched.length ? `searched ${loaded.searched.join(', ')}` : `no ${home}/${ring} and no ${envName} files`;
  return [searched, ...loaded.problems].join('; ');
}

interface Wanted {
  hex: string;
  exact: boolean;
}

/** `FPR`, `FPR!`, `0xFPR` or a 16-digit key ID; undefined for anything else (user IDs, e-mail). */
function parseWanted(fp: string): Wanted | undefined {
  let s = fp;
  const exact = s.endsWith('!');
  if (exact) s = s.slice(0, -1);
  if (/^0x/i.test(s)) s = s.slice(2);
  if (!/^[0-9a-fA-F]+$/.test(s) || ![16, 40, 64].includes(s.length)) return undefined;
  return { hex: s.toUpperCase(), exact };
}

type KeyOrSubkey = openpgp.Key | openpgp.Subkey;

function matches(k: KeyOrSubkey, w: Wanted): boolean {
  if (w.hex.length === 16) return k.getKeyID().toHex().toUpperCase() === w.hex;
  return k.getFingerprint().toUpperCase() === w.hex;
}

/**
 * Wraps `dataKey` for the key with fingerprint `fp` (primary or subkey; with a trailing `!`
 * exactly that subkey, as gpg does) and returns the armored message, trimmed.
 */
export async function encryptWithOpenPgp(fp: string, dataKey: Uint8Array, ctx: KeyContext, home: string): Promise<FallbackResult<string>> {
  const wanted = parseWanted(fp);
  if (!wanted) return { ok: false, reason: `'${fp}' is not a fingerprint or 16-digit key ID (only those are looked up without gpg)` };
  const loaded = await cachedKeys(ctx, home, 'encrypt');
  let found: { key: openpgp.Key; sub: KeyOrSubkey } | undefined;
  for (const key of loaded.keys) {
    const sub = key.getKeys().find((k) => matches(k, wanted));
    if (sub) {
      found = { key, sub };
      break;
    }
  }
  if (!found) return { ok: false, reason: `no public key ${fp} (${where(loaded, home, 'encrypt')})` };
  const key = found.key.isPrivate() ? found.key.toPublic() : found.key;
  if (key.keyPacket.version === 6) return { ok: false, reason: `key ${fp} is a v6 key, which gpg 2.2 and sops cannot use` };
  try {
    const keyID = wanted.exact ? found.sub.getKeyID() : undefined;
    // Pick the cipher as for the key, but drop AEAD: v3 PKESK + SEIPD v1 is what gpg 2.2 and go-crypto read.
    const sk = await openpgp.generateSessionKey({ encryptionKeys: key, config: CONFIG });
    const message = await openpgp.createMessage({ binary: dataKey, format: 'binary', date: ctx.now() });
    const armored = await openpgp.encrypt({
      message,
      encryptionKeys: key,
      ...(keyID ? { encryptionKeyIDs: [keyID] } : {}),
      sessionKey: { data: sk.data, algorithm: sk.algorithm },
      format: 'armored',
      config: CONFIG,
    });
    return { ok: true, value: armored.trim() };
  } catch (e) {
    return { ok: false, reason: `cannot encrypt to key ${fp}: ${(e as Error).message}` };
  }
}

/** Unwraps an armored message with the first secret key that matches one of its recipients. */
export async function decryptWithOpenPgp(armored: string, ctx: KeyContext, home: string): Promise<FallbackResult<Uint8Array>> {
  let message: openpgp.Message<string>;
  try {
    message = await openpgp.readMessage({ armoredMessage: armored, config: CONFIG });
  } catch (e) {
    return { ok: false, reason: `enc is not a readable armored OpenPGP message: ${(e as Error).message}` };
  }
  const ids = message.getEncryptionKeyIDs();
  const loaded = await cachedKeys(ctx, home, 'decrypt');
  const usable: openpgp.PrivateKey[] = [];
  const locked: string[] = [];
  for (const key of loaded.keys) {
    if (!key.isPrivate()) continue;
    const hits = ids.flatMap((id) => key.getKeys(id));
    if (hits.length === 0) continue;
    const ready = hits.some((k) => {
      const p = k.keyPacket as openpgp.SecretKeyPacket | openpgp.SecretSubkeyPacket;
      return typeof p.isDecrypted === 'function' && p.isDecrypted() === true && !p.isDummy();
    });
    if (ready) usable.push(key);
    else locked.push(key.getFingerprint().toUpperCase());
  }
  if (usable.length === 0) {
    const idList = ids.map((id) => id.toHex().toUpperCase()).join(', ');
    if (locked.length > 0) {
      return {
        ok: false,
        reason: `secret key ${locked.join(', ')} is passphrase-protected or a stub; the built-in OpenPGP code cannot ask for a passphrase (use gpg, or export the key without a passphrase)`,
      };
    }
    return { ok: false, reason: `no secret key for key ID ${idList} (${where(loaded, home, 'decrypt')})` };
  }
  try {
    const { data } = await openpgp.decrypt({ message, decryptionKeys: usable, format: 'binary', config: CONFIG });
    if (data.length === 0) return { ok: false, reason: 'the message decrypted to zero bytes' };
    return { ok: true, value: data };
  } catch (e) {
    return { ok: false, reason: `decryption failed: ${(e as Error).message}` };
  }
}
