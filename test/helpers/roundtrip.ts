/**
 * The encrypt/decrypt round-trip property shared by test/property/roundtrip-*.test.ts:
 * for a plaintext file x, decrypt(encrypt(x)) is byte for byte what the store emits for the
 * plaintext tree (emit(load(x))), the MAC verifies, the decrypted data is the loaded data, and
 * the decrypted text reads back to that data.
 * A plaintext the store rejects must be rejected by encrypt with the same exit code.
 *
 * Assertions use node:assert so that fast-check sees a thrown error, shrinks the input and
 * reports the seed and the minimal counterexample.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decryptBytes, decryptTree, encryptBytes, generateAgeIdentity, isSopsError, loadPlain, makeKeyContext, storeFor } from '../../src/index.js';
import type { KeyContext } from '../../src/index.js';
import { formatGoFloat } from '../../src/crypto/scalar.js';
import type { FormatName } from '../../src/stores/types.js';
import type { MapNode, Node } from '../../src/tree/types.js';

/** Runs per format: the brief asks for about 200, within a few seconds. */
export const NUM_RUNS = 200;

interface Keys {
  recipient: string;
  ctx: KeyContext;
}
let keys: Promise<Keys> | undefined;

/** One age identity for every run of the process, in a context that sees nothing else. */
export function propertyKeys(): Promise<Keys> {
  keys ??= generateAgeIdentity().then(({ identity, recipient }) => ({
    recipient,
    ctx: makeKeyContext({ env: { SOPS_AGE_KEY: identity }, homeDir: '/nonexistent-tsops-home', userConfigDir: '/nonexistent-tsops-home/.config' }),
  }));
  return keys;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
function asText(b: Uint8Array): string | undefined {
  try {
    return utf8.decode(b);
  } catch {
    return undefined;
  }
}

/** Byte equality with a readable diff: as text when both sides are UTF-8, else as bytes. */
export function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  const a = asText(actual);
  const e = asText(expected);
  if (a !== undefined && e !== undefined) assert.equal(a, e, what);
  else assert.deepEqual(Buffer.from(actual), Buffer.from(expected), what);
}

/**
 * The data of a tree in the form in which sops data is identical: numbers as their MAC text
 * (an integral float that comes back as an int is the same value, `-0` is not `0`), byte
 * strings that are valid UTF-8 as strings (decrypting `type:str` gives a string). Comments
 * are left out: where a comment lands is checked by the byte comparison (an encrypted comment
 * that cannot be decrypted would show up there as `ENC[...]`).
 */
export function comparable(n: Node): unknown {
  switch (n.kind) {
    case 'map':
      return { map: n.items.flatMap((i) => (i.kind === 'entry' ? [[i.key, comparable(i.value)]] : [])) };
    case 'seq':
      return { seq: n.items.flatMap((i) => (i.kind === 'comment' ? [] : [comparable(i)])) };
    case 'int':
      return { num: n.value.toString() };
    case 'float':
      return { num: formatGoFloat(n.value) };
    case 'bytes': {
      const s = asText(n.value);
      return s === undefined ? { bytes: Buffer.from(n.value).toString('hex') } : { str: s };
    }
    case 'null':
      return { null: true };
    default:
      return { [n.kind]: n.value };
  }
}

/**
 * The round-trip property for one plaintext. With `mustLoad`, a plaintext the store rejects
 * is a failure (for hand-built files that are meant to be valid).
 */
export async function checkRoundTrip(format: FormatName, x: Uint8Array, mustLoad = false): Promise<void> {
  const { recipient, ctx } = await propertyKeys();
  const store = storeFor(format);
  let docs: MapNode[];
  try {
    docs = loadPlain(x, format, 'the input').documents;
  } catch (e) {
    if (!isSopsError(e) || mustLoad) throw e;
    // The plaintext is not a valid file: encryption refuses it the same way.
    await assert.rejects(encryptBytes(x, { inputType: format, age: [recipient], keyContext: ctx }), (err: unknown) => {
      assert.ok(isSopsError(err), `encrypt threw a non-SopsError: ${String(err)}`);
      assert.equal(err.exitCode, e.exitCode, `encrypt failed with exit ${err.exitCode} (${err.message}), load with ${e.exitCode} (${e.message})`);
      return true;
    });
    return;
  }
  const expected = store.emit({ documents: docs });
  const enc = await encryptBytes(x, { inputType: format, age: [recipient], keyContext: ctx });
  // decryptTree verifies the MAC (no ignoreMac): a mismatch throws exit 51.
  const res = await decryptTree(enc, { inputType: format, keyContext: ctx });
  assert.deepEqual(res.documents.map(comparable), docs.map(comparable), 'decrypted tree differs from the plaintext tree');
  const dec = await decryptBytes(enc, { inputType: format, keyContext: ctx });
  assertSameBytes(dec, expected, 'decrypt(encrypt(x)) differs from emit(load(x))');
  // The decrypted file is a valid plaintext again, with the same data (it can be re-encrypted).
  let again: MapNode[];
  try {
    again = loadPlain(dec, format, 'the decrypted output').documents;
  } catch (e) {
    throw new assert.AssertionError({ message: `the decrypted output cannot be read back: ${(e as Error).message}\n${new TextDecoder().decode(dec)}` });
  }
  assert.deepEqual(again.map(comparable), docs.map(comparable), 'the decrypted output reads back to other data');
}

/**
 * fc.assert with the fixed seed of a file; the report carries seed, path and minimal case.
 * For exploring, TSOPS_PROPERTY_SEED and TSOPS_PROPERTY_RUNS override seed and run count.
 */
export async function assertRoundTrips(format: FormatName, arb: fc.Arbitrary<string | Uint8Array>, seed: number, numRuns = NUM_RUNS): Promise<void> {
  const envSeed = process.env.TSOPS_PROPERTY_SEED;
  const envRuns = process.env.TSOPS_PROPERTY_RUNS;
  await fc.assert(
    fc.asyncProperty(arb, (x) => checkRoundTrip(format, typeof x === 'string' ? new TextEncoder().encode(x) : x)),
    { seed: envSeed ? Number(envSeed) : seed, numRuns: envRuns ? Number(envRuns) : numRuns, includeErrorInReport: true },
  );
}

// ---- building blocks for generators ----

/** Odd keys: spaces, `:`, `#`, quotes, integer-like, duplicate-looking, YAML-special (`<<`). */
export const ODD_KEYS = [
  'a', 'A', 'a ', ' a', 'a b', 'key with spaces', 'a:b', 'a: b', 'k#v', '#hash', 'a #b', '"dq"', "'sq'", 'it\'s', 'q"uote',
  '0', '1', '01', '-1', '1.0', '1e3', '0x1F', '123', 'true', 'True', 'false', 'null', '~', 'yes', 'no', 'on', 'y', 'n',
  '2024-01-01', '', ' ', '-', '- a', '? q', '[x]', '{y}', '*al', '&an', '!tag', '%p', '@at', '`bt', '|', '>', '\\', '=', '<', '<<',
  'ü', 'ключ', '日本', '🎉', 'sops_like', 'x_unencrypted', 'y_unencrypted', 'data',
];

/** Strings that look like other types or need quoting. */
export const ODD_STRINGS = [
  '', ' ', '  lead', 'trail  ', '\ttab', 'a\u0000b\u0007c', 'yes', 'no', 'on', 'off', 'y', 'n', 'true', 'False', 'null', '~',
  'NULL', '123', '-17', '+5', '0x1F', '0o17', '017', '08', '1_000', '1.5', '1e3', '.5', '.inf', '-.Inf', '.nan', 'NaN',
  '2024-01-01', '2024-01-01T00:00:00Z', '12:30:00', '- dash', ': colon', 'a: b', '# hash', 'a #b', '"double"', "'single'",
  '\\backslash', 'C:\\path', 'multi\nline', 'multi\nline\n', 'trailing\n\n', '\nlead newline', '\n\ntwo lead', ' x\n', '\n',
  '\r\n', 'cr\rhere', 'ends with space \n', '\u00a0nbsp', '\u2028ls', '\u0085nel', '\ufeffbom', 'ünïcödé 🎉', '日本語',
  '---', '--- x', '...', '=', '<<', '!tag', '&anchor', '*alias', '@at', '`tick', '%pct', '{flow}', '[flow]', '|', '>', '?',
  'ENC[not encrypted]', 'x'.repeat(120), 'word '.repeat(30),
];

/** int64 edges and neighbours. */
export const INT_EDGES = [0n, 1n, -1n, 2n ** 53n, 2n ** 53n + 1n, -(2n ** 53n) - 1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 31n, -(2n ** 31n) - 1n];

/** Floats that stress formatting: -0, huge, tiny, subnormal, NaN, infinities. */
export const FLOAT_EDGES = [-0, 0.5, 1.5, -2.5, 1e21, 1e20, 1.5e-7, 1e-6, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 0.1, 1 / 3, 123456789.125, NaN, Infinity, -Infinity];

/** Strings without surrogate halves (a lone half cannot be written as UTF-8). */
export const anyString = (maxLength: number): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ unit: 'grapheme', maxLength }),
    fc.string({ unit: 'binary', maxLength }).map((s) => s.replace(/[\ud800-\udfff]/g, '\ufffd')),
    fc.string({ unit: 'grapheme-ascii', maxLength }),
  );

/** Bytes that are not valid UTF-8 (at least one byte >= 0x80 in a bad place). */
export const invalidUtf8 = (maxLength: number): fc.Arbitrary<Uint8Array> =>
  fc
    .tuple(fc.uint8Array({ maxLength }), fc.constantFrom(0xff, 0xfe, 0x80, 0xc0, 0xed), fc.nat())
    .map(([b, bad, at]) => {
      const out = new Uint8Array(b.length + 1);
      const i = b.length === 0 ? 0 : at % (b.length + 1);
      out.set(b.subarray(0, i), 0);
      out[i] = bad;
      out.set(b.subarray(i), i + 1);
      return out;
    })
    .filter((b) => asText(b) === undefined);
