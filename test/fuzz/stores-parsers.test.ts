// Fuzz: hostile input to every store (YAML, JSON, dotenv, INI, binary) and to the engine.
// Arbitrary bytes and grammar-aware mutations of valid plain and encrypted files go through
// store.load (plain and encrypted mode), store.emit of whatever loaded, and the library's
// encrypt/decrypt. The only acceptable outcomes: a result, or a SopsError (ParseError, ...)
// with a documented exit code; never a TypeError, RangeError or other raw JS error, never a
// hang (each case must finish within CASE_MS). A smaller sample runs through the real CLI.
// `npm test` runs a fixed seed; `npm run fuzz` runs many more cases (fuzzParams).
import test from 'ava';
import fc from 'fast-check';
import { decryptBytes, encryptBytes, ExitCode, isSopsError, storeFor } from '../../src/index.js';
import type { FormatName } from '../../src/stores/types.js';
import { ageWorkspace, STACK_LINE } from '../helpers/cli.js';
import { fuzzParams } from '../helpers/fuzz.js';
import { propertyKeys } from '../helpers/roundtrip.js';

/** A single parse or emit must never take longer than this (a hang or a blow-up). */
const CASE_MS = 2000;
const CODES = new Set<number>(Object.values(ExitCode));
const te = new TextEncoder();

/** Valid plaintext seeds per format: the shapes mutations start from. */
const SEEDS: Record<Exclude<FormatName, 'binary'>, string[]> = {
  yaml: [
    'a: 1\nb:\n    c: [1, 2, {d: e}]\n    f: "x\\ny"\n# comment\ng: !!binary aGVsbG8=\nh: &x {i: j}\nk: *x\n',
    'list:\n    - a\n    - b: c\n      d: |\n        text\n---\nsecond: doc\n',
    'n: 9223372036854775807\nf: 1.5e+300\nt: 2024-01-01T00:00:00Z\nnull_: ~\nq: \'single\'\n',
  ],
  json: ['{"a": 1, "b": {"c": [1, 2.5, {"d": "e"}], "f": "x\\ny\\u00e9"}, "t": true, "n": null}\n', '{"big": 9223372036854775808, "neg": -9223372036854775808, "e": 1e300, "s": "\\ud83d\\ude00"}'],
  dotenv: ['A=1\nB=two words\n# comment\nC=with=equals\nD="quoted"\nE=multi\\nline\n'],
  ini: ['[section]\na = 1\nb = two words\n; comment\n[other]\nc = x=y\nd = "quoted"\n', 'top = 1\n[s]\nk=v\n'],
};

/** Tokens that matter to each grammar, inserted by the mutator. */
const TOKENS: Record<FormatName, string[]> = {
  yaml: [':', ': ', '- ', '? ', '[', ']', '{', '}', ',', '&a ', '*a', '!!binary ', '!!int ', '!!str ', '<<: ', '|', '>', '"', "'", '#', '\n', '\r\n', '\t', '---\n', '...\n', '%YAML 1.1\n', '\ufeff', '\u0000', '\\', 'sops:', 'ENC[AES256_GCM,data:', '9223372036854775808', '-0', '.nan', '0x1F', '1e309'],
  json: ['{', '}', '[', ']', ',', ':', '"', '\\', '\\u', '\\ud800', 'true', 'null', '-', '1e999', '9223372036854775808', '0.0', '\n', '\r\n', '\ufeff', '\u0000', '"sops":', 'ENC[AES256_GCM,'],
  dotenv: ['=', '\n', '\r\n', '#', 'sops_', 'sops_mac=', '\\n', '"', '\u0000', '\ufeff', 'ENC[AES256_GCM,'],
  ini: ['[', ']', '=', ':', ';', '#', '\n', '\r\n', ' ', '"', '[sops]\n', 'sops_', '\u0000', '\ufeff', '\\', 'ENC[AES256_GCM,'],
  binary: ['{', '}', '"data":', '"sops":', '\u0000', '\ufeff', 'ENC[AES256_GCM,'],
};

type Mutation = { at: number; kind: 'insert'; token: number } | { at: number; kind: 'delete' | 'dup'; len: number } | { at: number; kind: 'flip'; byte: number };

const mutation = fc.oneof(
  fc.record({ at: fc.nat(), kind: fc.constant('insert' as const), token: fc.nat() }),
  fc.record({ at: fc.nat(), kind: fc.constantFrom('delete' as const, 'dup' as const), len: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ at: fc.nat(), kind: fc.constant('flip' as const), byte: fc.integer({ min: 0, max: 255 }) }),
);

function mutate(src: Uint8Array, muts: Mutation[], tokens: string[]): Uint8Array {
  let b = Buffer.from(src);
  for (const m of muts) {
    const at = b.length ? m.at % (b.length + 1) : 0;
    if (m.kind === 'insert') b = Buffer.concat([b.subarray(0, at), Buffer.from(tokens[m.token % tokens.length]!), b.subarray(at)]);
    else if (m.kind === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + m.len))]);
    else if (m.kind === 'dup') b = Buffer.concat([b.subarray(0, at + m.len), b.subarray(at)]);
    else if (m.kind === 'flip' && at < b.length) b[at] = m.byte;
  }
  return new Uint8Array(b);
}

/** Runs `fn`; a result or a SopsError with a known exit code is fine, anything else fails the case. */
function tolerate<T>(what: string, fn: () => T): T | undefined {
  const start = performance.now();
  try {
    return fn();
  } catch (e) {
    if (!isSopsError(e)) throw new Error(`${what}: raw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, { cause: e });
    if (!CODES.has(e.exitCode)) throw new Error(`${what}: undocumented exit code ${e.exitCode} (${e.message})`);
    if (!e.message) throw new Error(`${what}: empty error message`);
    return undefined;
  } finally {
    const ms = performance.now() - start;
    if (ms > CASE_MS) throw new Error(`${what}: took ${ms.toFixed(0)} ms`);
  }
}

/** The engine's limit: key unwrapping and module loading share the CPU with the other tests. */
const ENGINE_CASE_MS = process.env.TSOPS_FUZZ_RUNS ? 120_000 : 15_000;

async function tolerateAsync(what: string, fn: () => Promise<unknown>): Promise<void> {
  const start = performance.now();
  try {
    await fn();
  } catch (e) {
    if (!isSopsError(e)) throw new Error(`${what}: raw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, { cause: e });
    if (!CODES.has(e.exitCode)) throw new Error(`${what}: undocumented exit code ${e.exitCode}`);
  } finally {
    const ms = performance.now() - start;
    if (ms > ENGINE_CASE_MS) throw new Error(`${what}: took ${ms.toFixed(0)} ms`);
  }
}

/** Parse in both modes, and emit whatever loaded (as its own format and as every other). */
function loadAndEmit(format: FormatName, data: Uint8Array): void {
  const store = storeFor(format);
  for (const mode of ['plain', 'encrypted'] as const) {
    const loaded = tolerate(`${format} load (${mode})`, () => store.load(data, mode));
    if (!loaded) continue;
    tolerate(`${format} emit`, () => store.emit(loaded));
    if (mode === 'plain' && loaded.documents.length === 1) {
      for (const out of ['yaml', 'json', 'dotenv', 'ini'] as const) tolerate(`${format} -> ${out} emit`, () => storeFor(out).emit({ documents: loaded.documents }));
    }
  }
}

const FORMATS: FormatName[] = ['yaml', 'json', 'dotenv', 'ini', 'binary'];

for (const format of FORMATS) {
  test(`${format}: arbitrary bytes load and emit cleanly`, (t) => {
    const bytes = fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 120 }).map((s) => te.encode(s)));
    fc.assert(fc.property(bytes, (b) => loadAndEmit(format, b)), fuzzParams(3000, 1));
    t.pass();
  });

  test(`${format}: mutated valid plain and encrypted files load, emit, encrypt and decrypt cleanly`, async (t) => {
    const { recipient, ctx } = await propertyKeys();
    const plain = format === 'binary' ? ['hello\nworld\n\u0000\u00ff'] : SEEDS[format];
    const seeds: Uint8Array[] = plain.map((s) => te.encode(s));
    for (const s of [...seeds]) seeds.push(await encryptBytes(s, { inputType: format, age: [recipient], keyContext: ctx }));
    // every seed is valid: it decrypts (this also loads the key code before the timed cases)
    for (const s of seeds.slice(plain.length)) await decryptBytes(s, { inputType: format, keyContext: ctx });
    await encryptBytes(seeds[0]!, { inputType: format, age: [recipient], keyContext: ctx });
    const tokens = TOKENS[format];
    const arb = fc.tuple(fc.nat(seeds.length - 1), fc.array(mutation, { minLength: 1, maxLength: 6 }));
    // the parsers: thousands of cases
    fc.assert(fc.property(arb, ([i, muts]) => loadAndEmit(format, mutate(seeds[i]!, muts, tokens))), fuzzParams(2000, 1));
    // the engine (key unwrapping per case costs more): fewer
    await fc.assert(
      fc.asyncProperty(arb, async ([i, muts]) => {
        const data = mutate(seeds[i]!, muts, tokens);
        await tolerateAsync(`${format} decrypt`, () => decryptBytes(data, { inputType: format, keyContext: ctx }));
        await tolerateAsync(`${format} encrypt`, () => encryptBytes(data, { inputType: format, age: [recipient], keyContext: ctx }));
      }),
      fuzzParams(150, 0.1),
    );
    t.pass();
  });
}

test('CLI sample: mutated files give a result or one clean error line, never a stack trace', async (t) => {
  const ws = ageWorkspace(t);
  const cases: Array<{ format: FormatName; data: Uint8Array }> = [];
  const seed = fc.sample(fc.tuple(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 4 })), { seed: fuzzParams(1).seed!, numRuns: 8 });
  for (const format of ['yaml', 'json', 'dotenv', 'ini'] as const) {
    const src = te.encode(SEEDS[format][0]!);
    for (const [, muts] of seed) cases.push({ format, data: mutate(src, muts, TOKENS[format]) });
  }
  const ext: Record<string, string> = { yaml: 'yaml', json: 'json', dotenv: 'env', ini: 'ini' };
  await Promise.all(
    cases.map(async ({ format, data }, i) => {
      const name = `c${i}.${ext[format]}`;
      ws.write(name, data);
      for (const args of [['encrypt', '--age', ws.key.recipient, name], ['decrypt', name]]) {
        const r = await ws.run(args);
        t.notRegex(r.stderr, STACK_LINE, `${args[0]} ${name}: no stack trace\n${r.stderr}`);
        if (r.code === 0) continue;
        t.true(CODES.has(r.code ?? -1), `${args[0]} ${name}: documented exit code ${r.code}`);
        t.regex(r.stderr, /^tsops: error: /m, `${args[0]} ${name}: one error line`);
        t.is(r.out, '', `${args[0]} ${name}: nothing on stdout`);
      }
    }),
  );
});
