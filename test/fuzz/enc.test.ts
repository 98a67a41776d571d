// Fuzz: the ENC[AES256_GCM,data:...,iv:...,tag:...,type:...] value grammar on the decrypt
// path. Random strings and mutations of real values (edits of characters, fields, brackets,
// padding, types) must either decrypt to exactly the original plaintext (GCM authenticates
// data, iv and tag; only the type tag is not authenticated, as in sops) or fail with a
// DecryptValueError (exit 25), never with a raw JavaScript error. The batch decryptor must
// agree with the one-by-one one on every input. Through the whole library and the real CLI,
// a file with a mutated value fails with 25 or 51 and shows no plaintext.
import test from 'ava';
import fc from 'fast-check';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decrypt, encrypt } from '../../src/api.js';
import { ValueCipher, parseEncryptedValue } from '../../src/crypto/cipher.js';
import { DecryptValueError, SopsError } from '../../src/errors.js';
import { makeKeyContext } from '../../src/io/context.js';
import { ageKeygen, assertCleanFailure, baseEnv, runCli } from '../helpers/cli.js';
import { fuzzParams } from '../helpers/fuzz.js';
import { applyEdits, edits } from './enc-mutate.js';

const KEY = Buffer.alloc(32, 7);
const AD = 'db:password:';
const PLAIN = Buffer.from('S3cr3t-Value-1');
const cipher = new ValueCipher(KEY);
const ORIGINALS = (['str', 'int', 'bytes'] as const).map((type) => cipher.encrypt(type === 'int' ? Buffer.from('123456') : PLAIN, type, AD));

const mutated = fc.tuple(fc.constantFrom(...ORIGINALS), edits).map(([s, e]) => applyEdits(s, e));
const anyValue = fc.oneof(
  { weight: 6, arbitrary: mutated },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 120 }).map((s) => `ENC[AES256_GCM,${s}]`) },
);

/** decrypt() as a result: the plaintext, or the exit code of a clean error (a raw error fails the test). */
function one(c: ValueCipher, text: string, ad: string): { type: string; plain: string } | { code: number } {
  try {
    const r = c.decrypt(text, ad);
    return { type: r.type, plain: Buffer.from(r.plain).toString('hex') };
  } catch (e) {
    if (!(e instanceof DecryptValueError)) throw new Error(`raw error for ${JSON.stringify(text)}: ${String(e)}`);
    return { code: e.exitCode };
  }
}

const originalPlain = (text: string): string | undefined => {
  const i = ORIGINALS.findIndex((o) => {
    try {
      const a = parseEncryptedValue(o);
      const b = parseEncryptedValue(text);
      return Buffer.compare(a.data, b.data) === 0 && Buffer.compare(a.iv, b.iv) === 0 && Buffer.compare(a.tag, b.tag) === 0;
    } catch {
      return false;
    }
  });
  return i < 0 ? undefined : Buffer.from(i === 1 ? '123456' : PLAIN).toString('hex');
};

test('random and mutated ENC values decrypt to the original plaintext or fail with exit 25', (t) => {
  fc.assert(
    fc.property(anyValue, (text) => {
      const r = one(cipher, text, AD);
      if ('code' in r) return r.code === 25;
      // accepted: only if data, iv and tag are the original ones (base64 spelled differently at most)
      return text === '' ? r.plain === '' : r.plain === originalPlain(text);
    }),
    fuzzParams(4000),
  );
  t.pass();
});

test('a value decrypts only under its own additional data (key path)', (t) => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (ad) => {
      const r = one(cipher, ORIGINALS[0]!, ad);
      return ad === AD ? !('code' in r) : 'code' in r && r.code === 25;
    }),
    fuzzParams(1000),
  );
  t.pass();
});

test('the batch decryptor accepts exactly what the one-by-one decryptor accepts, with the same result', (t) => {
  fc.assert(
    fc.property(fc.array(fc.oneof(anyValue, fc.constantFrom(...ORIGINALS)), { minLength: 32, maxLength: 80 }), (texts) => {
      const c = new ValueCipher(KEY);
      const batch = c.decryptMany(texts, texts.map(() => AD));
      return texts.every((text, i) => {
        const single = one(new ValueCipher(KEY), text, AD);
        const b = batch[i];
        if (!b) return true; // left to decrypt() by contract
        return !('code' in single) && single.type === b.type && single.plain === Buffer.from(b.plain).toString('hex');
      });
    }),
    fuzzParams(300, 0.1),
  );
  t.pass();
});

// --- through the library and the CLI -----------------------------------------------------------

const PLAIN_JSON = JSON.stringify({ secret: 'S3cr3t-Value-1', num: 42, list: ['Alpha-Item-2', 'Beta-Item-3'], nested: { k: 'Nested-Val-4' }, plain_unencrypted: 'visible' });
const SECRETS = ['S3cr3t-Value-1', 'Alpha-Item-2', 'Beta-Item-3', 'Nested-Val-4'];

let home = '';
let ctx: ReturnType<typeof makeKeyContext>;
let enc = '';
let recipient = '';
let identity = '';
let reference = '';

test.before(async () => {
  home = mkdtempSync(join(tmpdir(), 'tsops-fuzz-enc-'));
  const k = ageKeygen(home);
  recipient = k.recipient;
  identity = k.identity;
  ctx = makeKeyContext({ env: { SOPS_AGE_KEY: identity }, homeDir: home });
  enc = await encrypt(PLAIN_JSON, { inputType: 'json', age: [recipient], keyContext: ctx });
  reference = await decrypt(enc, { inputType: 'json', keyContext: ctx });
});
test.after.always(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

/** The encrypted JSON with the value at `path` (a JSON path into the object) mutated. */
function mutateValue(path: readonly (string | number)[], e: Parameters<typeof applyEdits>[1]): string {
  const doc = JSON.parse(enc) as Record<string, unknown>;
  let cur: Record<string | number, unknown> = doc;
  for (const p of path.slice(0, -1)) cur = cur[p] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  cur[last] = applyEdits(String(cur[last]), e);
  return JSON.stringify(doc, null, 1);
}

const VALUE_PATHS: Array<Array<string | number>> = [['secret'], ['num'], ['list', 0], ['list', 1], ['nested', 'k'], ['plain_unencrypted'], ['sops', 'mac'], ['sops', 'lastmodified']];

test('a mutated value, MAC or lastmodified in a whole file: the same plaintext, or exit 25/51/1 without plaintext', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...VALUE_PATHS), edits, async (path, e) => {
      const text = mutateValue(path, e);
      let out: string;
      try {
        out = await decrypt(text, { inputType: 'json', keyContext: ctx });
      } catch (err) {
        if (!(err instanceof SopsError)) throw new Error(`raw error: ${String(err)}`);
        if (![1, 25, 51].includes(err.exitCode)) throw new Error(`exit ${err.exitCode}: ${err.message}`);
        for (const s of SECRETS) if (err.message.includes(s) || (err.hint ?? '').includes(s)) throw new Error(`secret in: ${err.message}`);
        return;
      }
      // accepted: a no-op spelling change, or a type tag change the format does not authenticate
      const norm = (s: string) => s.replace(/"(-?\d+)"/g, '$1');
      if (norm(out) !== norm(reference)) throw new Error(`accepted a changed file:\n${out}`);
    }),
    fuzzParams(600, 0.2),
  );
  t.pass();
});

test('the real CLI on files with mutated values: clean failures (25, 51), no stack trace, no plaintext', async (t) => {
  const dir = mkdtempSync(join(home, 'cli-'));
  const env = { ...baseEnv(home), SOPS_AGE_KEY: identity };
  const samples = fc.sample(fc.tuple(fc.constantFrom(...VALUE_PATHS.slice(0, 7)), edits), { numRuns: fuzzParams(16, 0.01).numRuns ?? 16, seed: fuzzParams(1).seed ?? 1 });
  let n = 0;
  for (const [path, e] of samples) {
    const text = mutateValue(path, e);
    const file = join(dir, `f${n++}.json`);
    writeFileSync(file, text);
    const r = await runCli(['decrypt', file], { env, cwd: dir });
    if (r.code === 0) {
      t.is(r.out.replace(/"(-?\d+)"/g, '$1').replace(/\s/g, ''), reference.replace(/\s/g, ''), `accepted ${JSON.stringify(text)}`);
      continue;
    }
    t.true(r.code === 25 || r.code === 51, `exit ${r.code}: ${r.stderr}`);
    assertCleanFailure(t, r, { code: r.code!, secrets: SECRETS });
  }
});
