import type { ExecutionContext } from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParseError, SopsError } from '../../src/errors.js';
import { dotenvStore } from '../../src/stores/dotenv.js';
import { bool, bytes, comment, entry, float, get, int, map, nul, seq, str, time } from '../../src/tree/types.js';
import type { CommentNode, Entry, MapNode } from '../../src/tree/types.js';
import { sharedTest, test, vectorsDir } from '../helpers/shared.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const load = (s: string) => dotenvStore.load(enc.encode(s));
const emit = (doc: MapNode, metadata?: MapNode) => dec.decode(dotenvStore.emit(metadata ? { documents: [doc], metadata } : { documents: [doc] }));

test('sops test vector: plain file', (t) => {
  const plain = 'VAR1=val1\nVAR2=val2\n#comment\nVAR3_unencrypted=val3\nVAR4=val4\\nval4\n';
  const doc = map([
    entry('VAR1', str('val1')), entry('VAR2', str('val2')), comment('comment'), entry('VAR3_unencrypted', str('val3')), entry('VAR4', str('val4\nval4')),
  ]);
  const f = load(plain);
  t.deepEqual(f, { documents: [doc] });
  t.is(emit(doc), plain);
});

test('no trimming, no quotes, no export, first = splits, \\r kept, blank lines dropped', (t) => {
  const f = load('K = "v"\n\nexport A=b=c\r\n =x\nE=\n\n#  spaced comment\n#\nU=${HOME}');
  t.deepEqual(
    f.documents[0],
    map([
      entry('K ', str(' "v"')), entry('export A', str('b=c\r')), entry(' ', str('x')), entry('E', str('')),
      comment('  spaced comment'), comment(''), entry('U', str('${HOME}')),
    ]),
  );
});

test('a line without = is a ParseError naming the line, not its content', (t) => {
  const e = t.throws(() => load('A=1\n\nsecretvalue\n'), { instanceOf: ParseError });
  t.regex(e!.message, /line 3/);
  t.notRegex(e!.message, /secretvalue/);
  t.is(e!.exitCode, 2);
});

test('values that are not UTF-8 stay bytes', (t) => {
  const f = dotenvStore.load(new Uint8Array([0x4b, 0x3d, 0xff, 0x5c, 0x6e, 0x0a]));
  t.deepEqual(get(f.documents[0], 'K'), bytes(new Uint8Array([0xff, 0x0a])));
  t.deepEqual(dotenvStore.emit(f), new Uint8Array([0x4b, 0x3d, 0xff, 0x5c, 0x6e, 0x0a]));
});

test('sops_ keys anywhere are metadata: prefix stripped, unflattened, all strings', (t) => {
  const f = load('sops_version=3.13.2\nA=1\nsops_pgp__list_0__map_enc=L1\\nL2\nsops_shamir_threshold=2\n#c\nsops_mac_only_encrypted=true\n');
  t.deepEqual(f.documents[0], map([entry('A', str('1')), comment('c')]));
  t.deepEqual(
    f.metadata,
    map([
      entry('mac_only_encrypted', str('true')),
      entry('pgp', seq([map([entry('enc', str('L1\nL2'))])])),
      entry('shamir_threshold', str('2')),
      entry('version', str('3.13.2')),
    ]),
  );
});

test('bad flattened metadata is a ParseError', (t) => {
  t.throws(() => load('sops_pgp__list_1__map_fp=x\n'), { instanceOf: ParseError, message: /incomplete list/ });
  t.throws(() => load('sops_mac=x\nsops_mac=y\n'), { instanceOf: ParseError, message: /duplicate/ });
});

test('emit: non-string leaves with Go formatting', (t) => {
  const doc = map([
    entry('i', int(42)), entry('f', float(2)), entry('g', float(1e6)), entry('h', float(0.5)), entry('b', bool(true)),
    entry('t', time('2024-01-01T10:00:00.25Z')), entry('n', nul()),
  ]);
  t.is(emit(doc), 'i=42\nf=2.0\ng=1E+06\nh=0.5\nb=true\nt=2024-01-01T10:00:00Z\nn=<nil>\n');
});

test('emit: nested values are refused with a hint', (t) => {
  for (const v of [map([entry('a', str('b'))]), seq([str('x')])]) {
    const e = t.throws(() => emit(map([entry('K', v)])), { instanceOf: SopsError });
    t.regex(e!.message, /complex value .*offending key K/);
    t.regex(e!.hint!, /flat/);
    t.is(e!.exitCode, 4);
  }
});

test('emit: metadata flattened with sops_ and newlines escaped, after the data', (t) => {
  const md = map([
    entry('lastmodified', str('2024-01-01T00:00:00Z')),
    entry('pgp', seq([map([entry('enc', str('-----BEGIN\n\nX\n-----END')), entry('fp', str('F'))])])),
    entry('shamir_threshold', int(2)),
  ]);
  t.is(
    emit(map([comment(' top'), entry('A', str('a\nb'))]), md),
    '# top\nA=a\\nb\nsops_lastmodified=2024-01-01T00:00:00Z\nsops_pgp__list_0__map_enc=-----BEGIN\\n\\nX\\n-----END\nsops_pgp__list_0__map_fp=F\nsops_shamir_threshold=2\n',
  );
  t.throws(() => emit(map([entry('sops_x', str('1'))]), md), { instanceOf: SopsError, message: /reserved key prefix/ });
});

test('emitValue: strings only', (t) => {
  t.is(dec.decode(dotenvStore.emitValue(str('hé'))), 'hé');
  t.deepEqual(dotenvStore.emitValue(bytes(new Uint8Array([0xff]))), new Uint8Array([0xff]));
  t.throws(() => dotenvStore.emitValue(int(1)), { instanceOf: SopsError, message: /only supports emitting strings/ });
  t.throws(() => dotenvStore.emitValue(map()), { instanceOf: SopsError });
});

sharedTest('vector format.enc.env (sops 3.13): load and emit byte for byte', (t: ExecutionContext) => {
  const raw = readFileSync(join(vectorsDir, 'format.enc.env'));
  const f = dotenvStore.load(raw);
  t.deepEqual(f.documents[0].items.map((i) => (i.kind === 'entry' ? i.key : '#')), ['foo ']); // the key keeps its space
  const md = f.metadata!;
  t.deepEqual(get(md, 'version'), str('3.13.1'));
  t.deepEqual(get(md, 'unencrypted_suffix'), str('_unencrypted'));
  const pgp0 = (get(md, 'pgp') as { items: MapNode[] }).items[0];
  t.deepEqual(get(pgp0, 'fp'), str('FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4'));
  t.deepEqual(get(pgp0, 'created_at'), str('2026-05-22T20:15:26Z'));
  const armor = (get(pgp0, 'enc') as { value: string }).value;
  t.true(armor.startsWith('-----BEGIN PGP MESSAGE-----\n\nwcBMA'));
  t.true(armor.endsWith('\n=5coz\n-----END PGP MESSAGE-----'));
  t.deepEqual(Buffer.from(dotenvStore.emit(f)), raw);
});

// ---- property: flat files survive emit -> load ----

// Keys: no "=", no newline, not starting with "#" or "sops_". Values: no literal backslash-n
// (it would read back as a newline). Comments: no newline.
const dkey = fc.string({ unit: 'binary', maxLength: 8 }).filter((k) => !/[=\n\ud800-\udfff]/.test(k) && !k.startsWith('#') && !k.startsWith('sops_'));
const dval = fc.string({ unit: 'binary', maxLength: 12 }).filter((v) => !v.includes('\\n') && !/[\ud800-\udfff]/.test(v));
const dcomment = fc.string({ unit: 'binary', maxLength: 8 }).filter((c) => !/[\n\ud800-\udfff]/.test(c));
const item = fc.oneof(fc.tuple(dkey, dval).map(([k, v]): Entry => entry(k, str(v))), dcomment.map((c): CommentNode => comment(c)));
const mkey = fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/);
const mval = fc.string({ maxLength: 40 }).filter((v) => !v.includes('\\n'));
const metadata = fc.option(
  fc.uniqueArray(fc.tuple(mkey, fc.oneof(mval.map(str), fc.array(mval.map(str), { minLength: 1, maxLength: 3 }).map((xs) => seq(xs)))), {
    minLength: 1, maxLength: 4, selector: ([k]) => k,
  }).map((es) => map(es.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => entry(k, v)))),
  { nil: undefined },
);

test('property: load(emit(file)) is the file (fixed seed)', (t) => {
  fc.assert(
    fc.property(fc.array(item, { maxLength: 8 }), metadata, (items, md) => {
      const doc = map(items);
      const back = dotenvStore.load(dotenvStore.emit(md ? { documents: [doc], metadata: md } : { documents: [doc] }));
      t.deepEqual(back.documents[0], doc);
      t.deepEqual(back.metadata, md);
    }),
    { numRuns: 300, seed: 2024 },
  );
});
