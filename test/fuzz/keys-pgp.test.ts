// Fuzzing the PGP key material that the built-in OpenPGP fallback (src/keys/pgp-openpgp.ts)
// parses: key blocks named by TSOPS_PGP_PUBLIC_KEY_FILE / TSOPS_PGP_PRIVATE_KEY_FILE and the
// armored message in `enc`. Mutated real keys and messages (getsops/sops's functional-test key
// and a file sops wrote) and random bytes: the fallback always answers { ok } or a reason, never
// throws, never hangs, and through the key kind a failure is a clean DataKeyError (exit 128).
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataKeyError } from '../../src/errors.js';
import { unwrapDataKey } from '../../src/keys/datakey.js';
import { decryptWithOpenPgp, encryptWithOpenPgp } from '../../src/keys/pgp-openpgp.js';
import { keyFromMetadata } from '../../src/keys/registry.js';
import type { KeyContext } from '../../src/keys/types.js';
import { entry, map, str } from '../../src/tree/types.js';
import { fuzzParams } from '../helpers/fuzz.js';
import { sharedTest } from '../helpers/shared.js';
import { firstPgpEnc, VECTOR_DIR, VECTOR_FP, VECTOR_KEY_FILE } from '../helpers/gpg.js';
import { makeKeyContext } from '../helpers/key-context.js';


const KEY_PATH = '/fuzz/keys.asc';

/** A context whose only key file is `bytes` (in memory), gpg nowhere, a fresh cache. */
function ctxWithKeyFile(bytes: Uint8Array, which: 'public' | 'private'): KeyContext {
  const base = makeKeyContext({
    env: { [which === 'public' ? 'TSOPS_PGP_PUBLIC_KEY_FILE' : 'TSOPS_PGP_PRIVATE_KEY_FILE']: KEY_PATH, SOPS_GPG_EXEC: '/nonexistent/gpg', GNUPGHOME: '/nonexistent/gnupg' },
    homeDir: '/nonexistent/home',
  });
  return { ...base, cache: new Map(), readFile: async (p: string) => (p === KEY_PATH ? bytes : undefined) };
}

/** Byte edits: set one byte, cut, or splice random bytes in. */
function mutatedBytes(base: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.tuple(fc.nat({ max: base.length - 1 }), fc.integer({ min: 0, max: 255 })).map(([i, v]) => {
      const b = Uint8Array.from(base);
      b[i] = v;
      return b;
    }),
    fc.nat({ max: base.length }).map((n) => base.subarray(0, n)),
    fc.tuple(fc.nat({ max: base.length }), fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([i, ins]) => Uint8Array.from([...base.subarray(0, i), ...ins, ...base.subarray(i)])),
    fc.uint8Array({ maxLength: 400 }),
  );
}

/** Re-armors binary OpenPGP data as `kind` (without a checksum line: openpgp accepts that). */
const armor = (kind: string, bin: Uint8Array): string =>
  `-----BEGIN PGP ${kind}-----\n\n${Buffer.from(bin).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PGP ${kind}-----\n`;

const dearmor = (text: string): Uint8Array => {
  const body = text.split(/\r?\n\r?\n/)[1]!.split('\n').filter((l) => !l.startsWith('=') && !l.startsWith('-----')).join('');
  return new Uint8Array(Buffer.from(body, 'base64'));
};

function assertReason(r: { ok: boolean; reason?: string }, what: string): void {
  if (r.ok) return;
  if (typeof r.reason !== 'string' || r.reason.length === 0) throw new Error(`${what}: no reason`);
}

sharedTest('public key blocks (mutated vector key, random bytes): encrypt answers ok or a reason, never throws', async (t) => {
  const armored = readFileSync(VECTOR_KEY_FILE, 'utf8');
  const firstBlock = /-----BEGIN PGP PRIVATE KEY BLOCK-----[\s\S]*?-----END PGP PRIVATE KEY BLOCK-----/.exec(armored)?.[0] ?? armored;
  const bin = dearmor(firstBlock);
  const input = fc.oneof(
    mutatedBytes(bin),
    mutatedBytes(bin).map((b) => new Uint8Array(Buffer.from(armor('PUBLIC KEY BLOCK', b)))),
    fc.string({ maxLength: 300 }).map((s) => new Uint8Array(Buffer.from(`-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n${s}\n-----END PGP PUBLIC KEY BLOCK-----\n`))),
  );
  await fc.assert(
    fc.asyncProperty(input, async (bytes) => {
      const r = await encryptWithOpenPgp(VECTOR_FP, new Uint8Array(32).fill(9), ctxWithKeyFile(bytes, 'public'), '/nonexistent/gnupg');
      assertReason(r, 'encryptWithOpenPgp');
      if (r.ok && !r.value.startsWith('-----BEGIN PGP MESSAGE-----')) throw new Error('ok without a message');
    }),
    fuzzParams(300, 0.1),
  );
  t.pass();
});

sharedTest('secret key blocks and enc messages (mutated): decrypt answers the right key or a reason; the kind gives DataKeyError', async (t) => {
  const keyText = readFileSync(VECTOR_KEY_FILE);
  const vector = readFileSync(join(VECTOR_DIR, 'example.yaml'), 'utf8');
  const enc = firstPgpEnc(vector);
  const good = await decryptWithOpenPgp(enc, ctxWithKeyFile(keyText, 'private'), '/nonexistent/gnupg');
  if (!good.ok) throw new Error(`the vector does not decrypt: ${good.reason}`);
  const msgBin = dearmor(enc);
  const keyBin = dearmor(keyText.toString('utf8'));
  const encInput = fc.oneof(
    mutatedBytes(msgBin).map((b) => armor('MESSAGE', b)),
    fc.string({ maxLength: 300 }),
    fc.constantFrom(enc.replace(/\n/g, '\r\n'), enc.replace('MESSAGE', 'SIGNATURE'), enc.slice(0, enc.length / 2), ''),
  );
  const keyInput = fc.oneof(fc.constant(new Uint8Array(keyText)), mutatedBytes(keyBin), mutatedBytes(keyBin).map((b) => new Uint8Array(Buffer.from(armor('PRIVATE KEY BLOCK', b)))));
  await fc.assert(
    fc.asyncProperty(encInput, keyInput, async (e, key) => {
      const ctx = ctxWithKeyFile(key, 'private');
      const r = await decryptWithOpenPgp(e, ctx, '/nonexistent/gnupg');
      assertReason(r, 'decryptWithOpenPgp');
      if (r.ok && e === enc && Buffer.compare(Buffer.from(r.value), Buffer.from(good.value)) !== 0) throw new Error('a different data key');
      const k = keyFromMetadata('pgp', map([entry('fp', str(VECTOR_FP)), entry('created_at', str('2020-01-01T00:00:00Z')), entry('enc', str(e))]));
      try {
        await unwrapDataKey([[k]], undefined, ['pgp'], { ...ctx, cache: new Map() }, 'f.yaml');
      } catch (err) {
        if (!(err instanceof DataKeyError)) throw new Error(`not a DataKeyError: ${String(err)}`);
        const text = err.failures.map((f) => f.reason).join('\n');
        if (text.includes(Buffer.from(good.value).toString('base64'))) throw new Error('data key in the message');
      }
    }),
    fuzzParams(200, 0.1),
  );
  t.pass();
});
