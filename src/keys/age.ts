/**
 * The `age` key kind: metadata list `age`, entries `{recipient, enc}` where `enc` is an
 * armored age file holding the data key (sops-format.md §7.2). Encrypts to X25519
 * (`age1...`), post-quantum hybrid (`age1pq1...`) and SSH (`ssh-ed25519`, `ssh-rsa`)
 * recipients; decrypts with every identity {@link loadAgeIdentities} finds.
 */
import type { Recipient } from 'age-encryption';
import { ExitCode, SopsError } from '../errors.js';
import { clone, entry, map, str, type CommentNode, type Entry, type MapNode } from '../tree/types.js';
import { KeyUnavailableError, type KeyContext, type KeyKind, type MasterKey } from './types.js';
import { loadAgeIdentities, type AgeIdentitySet } from './age-identities.js';
import { parseSshPublicKey, sshRecipient } from './age-ssh.js';
import { isValidHybridRecipient, x25519RecipientBytes } from './bech32.js';
import { importPackage } from '../packages.js';
import { isArmoredAgeFile, nativeAgeDecrypt, nativeAgeEncrypt } from './age-native.js';

/** `age-encryption`, loaded on first use: the common X25519 case never needs it. */
const ageLib = (): Promise<typeof import('age-encryption')> => importPackage('age-encryption');

/** What kind of recipient a string is, judged by its prefix as sops does. */
export type AgeRecipientKind = 'x25519' | 'hybrid' | 'plugin' | 'ssh' | 'unknown';

/** Classifies a (trimmed) recipient string. */
export function ageRecipientKind(recipient: string): AgeRecipientKind {
  if (recipient.startsWith('age1pq1')) return 'hybrid';
  if (recipient.startsWith('age1')) return recipient.split('1').length > 2 ? 'plugin' : 'x25519';
  if (recipient.startsWith('ssh-')) return 'ssh';
  return 'unknown';
}

const badRecipient = (recipient: string, why: string, hint?: string): SopsError =>
  new SopsError(`invalid age recipient ${JSON.stringify(recipient)}: ${why}`, ExitCode.Generic, {
    hint: hint ?? 'use an age public key (age1...), a post-quantum one (age1pq1...), or an SSH public key (ssh-ed25519 AAAA... / ssh-rsa AAAA...)',
  });

/** Parses a recipient into something `Encrypter.addRecipient` takes; throws a SopsError naming it. */
function parseRecipient(recipient: string): string | Recipient {
  switch (ageRecipientKind(recipient)) {
    case 'x25519':
    case 'hybrid':
      // the checks age-encryption's Encrypter.addRecipient makes, without loading it
      if (!(ageRecipientKind(recipient) === 'hybrid' ? isValidHybridRecipient(recipient) : x25519RecipientBytes(recipient))) {
        throw badRecipient(recipient, 'not a valid Bech32-encoded age public key');
      }
      return recipient;
    case 'plugin':
      throw badRecipient(recipient, 'age plugin recipients (age1<plugin>1...) are not supported by tsops',
        'use a native age or SSH recipient, or real sops with the age plugin installed');
    case 'ssh':
      try {
        return sshRecipient(parseSshPublicKey(recipient));
      } catch (e) {
        throw badRecipient(recipient, (e as Error).message);
      }
    default:
      throw badRecipient(recipient, 'unknown recipient type');
  }
}

function advice(recipient: string, ctx: KeyContext): string {
  const keys = `${ctx.userConfigDir}/sops/age/keys.txt`;
  switch (ageRecipientKind(recipient)) {
    case 'ssh':
      return 'point SOPS_AGE_SSH_PRIVATE_KEY_FILE at the unencrypted private key of this SSH key';
    case 'plugin':
      return 'age plugin identities are not supported by tsops; decrypt this file with sops and the age plugin';
    case 'hybrid':
      return `put the AGE-SECRET-KEY-PQ-1... identity of this recipient in ${keys} or SOPS_AGE_KEY_FILE, or set SOPS_AGE_KEY or SOPS_AGE_KEY_CMD`;
    default:
      return `put the AGE-SECRET-KEY-1... identity of this recipient in ${keys} or SOPS_AGE_KEY_FILE, or set SOPS_AGE_KEY or SOPS_AGE_KEY_CMD`;
  }
}

function noMatchReason(recipient: string, found: AgeIdentitySet, ctx: KeyContext): string {
  const head = found.identities.length === 0
    ? `no age identities found for recipient ${recipient}`
    : `no age identity matches recipient ${recipient}`;
  const parts = [`${head}; looked in ${found.searched.join(', ')}`];
  if (found.notSet.length) parts.push(`not set: ${found.notSet.join(', ')}`);
  if (found.problems.length) parts.push(`problems: ${found.problems.join('; ')}`);
  parts.push(advice(recipient, ctx));
  return parts.join('; ');
}

const NO_MATCH = "no identity matched any of the file's recipients";

/** One `sops.age[i]` entry. */
export class AgeMasterKey implements MasterKey {
  readonly type = 'age';
  enc: string;
  /** Fields other than recipient/enc, kept as they were for re-emitting. */
  private readonly extra: Array<Entry | CommentNode>;

  constructor(readonly recipient: string, enc = '', extra: Array<Entry | CommentNode> = []) {
    this.enc = enc;
    this.extra = extra;
  }

  get id(): string {
    return this.recipient;
  }

  async encrypt(dataKey: Uint8Array, _ctx: KeyContext): Promise<void> {
    const recipient = parseRecipient(this.recipient.trim());
    try {
      const x25519 = typeof recipient === 'string' && ageRecipientKind(recipient) === 'x25519' ? x25519RecipientBytes(recipient) : undefined;
      if (x25519 && dataKey.length <= 1024) {
        this.enc = nativeAgeEncrypt(x25519, dataKey);
        return;
      }
      const { Encrypter, armor } = await ageLib();
      const e = new Encrypter();
      e.addRecipient(recipient);
      this.enc = armor.encode(await e.encrypt(dataKey));
    } catch (err) {
      throw new SopsError(`could not encrypt the data key to age recipient ${this.recipient}: ${(err as Error).message}`,
        ExitCode.Generic, { cause: err });
    }
  }

  async decrypt(ctx: KeyContext): Promise<Uint8Array> {
    if (this.enc === '') throw new KeyUnavailableError(`the age entry for ${this.recipient} has an empty enc field`);
    const dearmor = async (): Promise<Uint8Array> => {
      const { armor } = await ageLib();
      try {
        return armor.decode(this.enc);
      } catch (e) {
        throw new KeyUnavailableError(`the enc field for age recipient ${this.recipient} is not an armored age file (${(e as Error).message})`);
      }
    };
    // A malformed enc field is reported before identities are looked for.
    if (!isArmoredAgeFile(this.enc)) await dearmor();
    const found = await loadAgeIdentities(ctx, this.recipient);
    if (found.identities.length === 0) throw new KeyUnavailableError(noMatchReason(this.recipient, found, ctx));
    const native = nativeAgeDecrypt(this.enc, found.identities);
    if (native) return new Uint8Array(native.buffer, native.byteOffset, native.byteLength);
    const file = await dearmor();
    const { Decrypter } = await ageLib();
    const d = new Decrypter();
    for (const id of found.identities) d.addIdentity(id);
    try {
      return await d.decrypt(file);
    } catch (e) {
      const msg = (e as Error).message;
      if (msg === NO_MATCH) throw new KeyUnavailableError(noMatchReason(this.recipient, found, ctx));
      throw new KeyUnavailableError(`age could not decrypt the data key for ${this.recipient}: ${msg}`);
    }
  }

  toMetadata(): MapNode {
    return map([entry('recipient', str(this.recipient)), entry('enc', str(this.enc)), ...this.extra.map(copyItem)]);
  }
}

const copyItem = (i: Entry | CommentNode): Entry | CommentNode =>
  i.kind === 'entry' ? entry(i.key, clone(i.value)) : { ...i };

function stringField(e: MapNode, key: string): string | undefined {
  for (const it of e.items) {
    if (it.kind !== 'entry' || it.key !== key) continue;
    if (it.value.kind === 'null') return undefined;
    if (it.value.kind !== 'str') throw new SopsError(`age key metadata: field ${JSON.stringify(key)} is not a string`);
    return it.value.value;
  }
  return undefined;
}

/** The `age` key kind. */
export const ageKind: KeyKind = {
  type: 'age',
  fromMetadata(e: MapNode): MasterKey {
    const recipient = stringField(e, 'recipient');
    if (!recipient?.trim()) throw new SopsError('age key metadata: field "recipient" is missing or empty');
    const enc = stringField(e, 'enc') ?? '';
    const extra = e.items.filter((i) => i.kind !== 'entry' || (i.key !== 'recipient' && i.key !== 'enc')).map(copyItem);
    return new AgeMasterKey(recipient, enc, extra);
  },
  fromRecipient(recipient: string, _ctx: KeyContext): MasterKey {
    const r = recipient.trim();
    parseRecipient(r);
    return new AgeMasterKey(r);
  },
};

/** A new X25519 identity and its recipient (for demos and tests). */
export async function generateAgeIdentity(): Promise<{ identity: string; recipient: string }> {
  const { generateX25519Identity, identityToRecipient } = await ageLib();
  const identity = await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}

/** The recipient (`age1...` / `age1pq1...`) of an `AGE-SECRET-KEY-1...` / `AGE-SECRET-KEY-PQ-1...` identity. */
export async function ageRecipientOf(identity: string): Promise<string> {
  const id = identity.trim();
  if (!id.startsWith('AGE-SECRET-KEY-1') && !id.startsWith('AGE-SECRET-KEY-PQ-1')) {
    throw new SopsError('not an age identity (expected AGE-SECRET-KEY-1... or AGE-SECRET-KEY-PQ-1...)');
  }
  const { identityToRecipient } = await ageLib();
  try {
    return await identityToRecipient(id);
  } catch {
    throw new SopsError('malformed age identity (bad length or checksum)');
  }
}
