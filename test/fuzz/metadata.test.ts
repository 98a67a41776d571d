// Fuzz: the sops metadata block. (1) Random metadata trees (every field sops ever wrote, every
// key type, values of every type, nested anywhere) through readMetadata: a Metadata or a
// SopsError with exit 1, never a raw error. (2) Text mutations of the metadata block of the
// real sops files in ../shared/vectors (sops 3.3.1 to 3.13.1; YAML, JSON, dotenv, INI in both
// layouts, binary) through the stores and the metadata reader. (3) Text mutations of the
// metadata of tsops-encrypted age files, in the 3.13 layout and the 3.9 one (empty key lists),
// for every format, through the whole decryption: the original plaintext or a clean error
// (1, 2, 25, 51, 128) without plaintext.
import test from 'ava';
import fc from 'fast-check';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decrypt, encrypt } from '../../src/api.js';
import { loadEncrypted } from '../../src/engine.js';
import { SopsError } from '../../src/errors.js';
import { makeKeyContext } from '../../src/io/context.js';
import { KEY_TYPES } from '../../src/keys/registry.js';
import { readMetadata } from '../../src/stores/metadata.js';
import { formatFromPath, storeFor, type FormatName } from '../../src/stores/index.js';
import { RULE_FIELDS } from '../../src/tree/select.js';
import type { MapNode, Node } from '../../src/tree/types.js';
import { ageKeygen } from '../helpers/cli.js';
import { fuzzParams } from '../helpers/fuzz.js';
import { sharedTest, vectorsDir } from '../helpers/shared.js';
import { applyEdits, edits } from './enc-mutate.js';

const FIELDS = [
  ...KEY_TYPES,
  'key_groups',
  'lastmodified',
  'mac',
  'version',
  'shamir_threshold',
  'mac_only_encrypted',
  ...RULE_FIELDS,
  'attention',
];
const KEY_FIELDS = ['arn', 'role', 'context', 'created_at', 'enc', 'aws_profile', 'fp', 'recipient', 'resource_id', 'vault_url', 'name', 'version', 'vault_address', 'engine_path', 'key_name', 'key_id', 'region'];

const scalar: fc.Arbitrary<Node> = fc.oneof(
  fc.string({ maxLength: 30 }).map((value) => ({ kind: 'str' as const, value })),
  fc.constantFrom('2024-01-01T00:00:00Z', '3.13.2', '1.14', 'true', '1', '-3', '', '2024-13-45T99:99:99Z', '(a+)+$', '[').map((value) => ({ kind: 'str' as const, value })),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((value) => ({ kind: 'int' as const, value })),
  fc.double().map((value) => ({ kind: 'float' as const, value })),
  fc.boolean().map((value) => ({ kind: 'bool' as const, value })),
  fc.constant({ kind: 'null' as const }),
  fc.constant({ kind: 'time' as const, value: '2024-01-01T00:00:00Z' }),
  fc.uint8Array({ maxLength: 8 }).map((value) => ({ kind: 'bytes' as const, value })),
);

const { node } = fc.letrec<{ node: Node; keyEntry: MapNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('keyEntry'), { maxLength: 3 }).map((items): Node => ({ kind: 'seq', items })),
    fc.array(tie('node'), { maxLength: 3 }).map((items): Node => ({ kind: 'seq', items })),
    tie('keyEntry'),
  ),
  keyEntry: fc
    .array(fc.tuple(fc.oneof(fc.constantFrom(...KEY_FIELDS), fc.string({ maxLength: 8 })), tie('node')), { maxLength: 5 })
    .map((es): MapNode => ({ kind: 'map', items: es.map(([key, value]) => ({ kind: 'entry' as const, key, value })) })),
}));

const metadataTree: fc.Arbitrary<MapNode> = fc
  .array(fc.tuple(fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...FIELDS) }, { weight: 1, arbitrary: fc.string({ maxLength: 8 }) }), node), { maxLength: 10 })
  .map((es) => ({ kind: 'map', items: es.map(([key, value]) => ({ kind: 'entry' as const, key, value })) }));

function cleanOr(codes: readonly number[], fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof SopsError)) throw new Error(`raw error: ${e instanceof Error ? e.stack : String(e)}`);
    if (!codes.includes(e.exitCode)) throw new Error(`exit ${e.exitCode}: ${e.message}`);
  }
}

test('random metadata trees: readMetadata gives metadata or a SopsError with exit 1', (t) => {
  fc.assert(
    fc.property(metadataTree, (m) => cleanOr([1], () => readMetadata(m))),
    fuzzParams(3000),
  );
  t.pass();
});

// --- real sops files ------------------------------------------------------------------------------

const VECTORS = vectorsDir
  ? readdirSync(vectorsDir)
      .filter((f) => /\.(ya?ml|json|env|ini|txt)$/.test(f))
      .map((f) => ({ name: f, text: readFileSync(join(vectorsDir, f), 'utf8') }))
      .filter((v) => /^sops:|"sops":|^\[sops\]|^sops_/m.test(v.text))
  : [];

/** Where the metadata block starts in an encrypted file's text. */
function metadataStart(text: string): number {
  const m = /^sops:|^\t"sops":|^ {4}"sops":|^\[sops\]|^sops_/m.exec(text);
  return m ? m.index : 0;
}

/** Applies the edits to the metadata block only (the values above it stay as they are). */
function mutateMetadata(text: string, e: Parameters<typeof applyEdits>[1]): string {
  const at = metadataStart(text);
  return text.slice(0, at) + applyEdits(text.slice(at), e);
}

const format = (name: string): FormatName => (name.endsWith('.txt') ? 'binary' : formatFromPath(name));

sharedTest(`mutated metadata of ${VECTORS.length} real sops files (3.3.1-3.13.1, every store): loaded or exit 1/2`, (t) => {
  t.true(VECTORS.length >= 10, 'the vectors are there');
  for (const v of VECTORS) cleanOr([], () => loadEncrypted(new TextEncoder().encode(v.text), storeFor(format(v.name)), v.name));
  fc.assert(
    fc.property(fc.constantFrom(...VECTORS), edits, (v, e) => {
      const text = mutateMetadata(v.text, e);
      cleanOr([1, 2], () => loadEncrypted(new TextEncoder().encode(text), storeFor(format(v.name)), v.name));
    }),
    fuzzParams(3000),
  );
});

// --- whole decryption of tsops files -----------------------------------------------------------------

const SECRET = 'S3cr3t-Value-1';
const PLAINS: Record<FormatName, string> = {
  yaml: `a: ${SECRET}\nb:\n    - 1\n    - x\nc_unencrypted: visible\n`,
  json: `{"a": "${SECRET}", "b": [1, "x"], "c_unencrypted": "visible"}`,
  dotenv: `A=${SECRET}\nB=x\nC_unencrypted=visible\n`,
  ini: `[s]\na = ${SECRET}\nb = x\nc_unencrypted = visible\n`,
  binary: `${SECRET}\n`,
};

let home = '';
let ctx: ReturnType<typeof makeKeyContext>;
const files: Array<{ format: FormatName; layout: string; text: string; reference: string }> = [];

test.before(async () => {
  home = mkdtempSync(join(tmpdir(), 'tsops-fuzz-md-'));
  const k = ageKeygen(home);
  ctx = makeKeyContext({ env: { SOPS_AGE_KEY: k.identity }, homeDir: home });
  for (const f of Object.keys(PLAINS) as FormatName[]) {
    const text = await encrypt(PLAINS[f], { inputType: f, age: [k.recipient], keyContext: ctx });
    const reference = await decrypt(text, { inputType: f, keyContext: ctx });
    files.push({ format: f, layout: '3.13', text, reference });
  }
  // the 3.9 layout: empty lists of the other key types, an explicit shamir_threshold and mac_only_encrypted: false
  const y = files.find((f) => f.format === 'yaml')!;
  const old = y.text.replace(/^sops:\n/m, 'sops:\n    kms: []\n    gcp_kms: []\n    azure_kv: []\n    hc_vault: []\n    pgp: []\n    shamir_threshold: 0\n    mac_only_encrypted: false\n');
  files.push({ format: 'yaml', layout: '3.9', text: old, reference: await decrypt(old, { inputType: 'yaml', keyContext: ctx }) });
});
test.after.always(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

test('mutated metadata of tsops files in every store and layout: the same plaintext, or exit 1/2/25/51/128 without it', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.nat(), edits, async (i, e) => {
      const f = files[i % files.length]!;
      const text = mutateMetadata(f.text, e);
      let out: string;
      try {
        out = await decrypt(text, { inputType: f.format, keyContext: ctx });
      } catch (err) {
        if (!(err instanceof SopsError)) throw new Error(`${f.format} ${f.layout}: raw error: ${err instanceof Error ? err.stack : String(err)}`);
        if (![1, 2, 25, 51, 128].includes(err.exitCode)) throw new Error(`${f.format}: exit ${err.exitCode}: ${err.message}`);
        if (`${err.message} ${err.hint ?? ''}`.includes(SECRET)) throw new Error(`secret in the message: ${err.message}`);
        return;
      }
      if (out !== f.reference) throw new Error(`${f.format} ${f.layout}: accepted changed metadata with a different result:\n${out}`);
    }),
    fuzzParams(800, 0.2),
  );
  t.true(files.length === 6);
});
