import type { ExecutionContext } from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParseError, SopsError } from '../../src/errors.js';
import { encodeJson, jsonStore, quoteJsonString } from '../../src/stores/json.js';
import { bool, bytes, comment, entry, float, get, int, map, nul, seq, str, time } from '../../src/tree/types.js';
import type { MapNode, Node } from '../../src/tree/types.js';
import { sharedTest, test, vectorsDir } from '../helpers/shared.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const load = (s: string) => jsonStore.load(enc.encode(s));
const emit = (doc: MapNode, metadata?: MapNode, indent?: number) =>
  dec.decode(jsonStore.emit(metadata ? { documents: [doc], metadata } : { documents: [doc] }, indent === undefined ? undefined : { indent }));

test('keeps key order, integer-like keys and duplicates', (t) => {
  const { documents } = load('{"b": 1, "10": 2, "a": 3, "2": 4, "a": 5}');
  t.deepEqual(documents[0], map([entry('b', int(1)), entry('10', int(2)), entry('a', int(3)), entry('2', int(4)), entry('a', int(5))]));
});

test('numbers: int64 -> int (BigInt), everything else float (sops 3.13.2)', (t) => {
  const d = load('{"a": 9223372036854775807, "b": -9223372036854775808, "c": 9223372036854775808, "d": 1.0, "e": 1e2, "f": -0, "g": 0.5, "h": 12345678901234567890}').documents[0];
  t.deepEqual(get(d, 'a'), int(9223372036854775807n));
  t.deepEqual(get(d, 'b'), int(-9223372036854775808n));
  t.deepEqual(get(d, 'c'), float(9223372036854775808));
  t.deepEqual(get(d, 'd'), float(1));
  t.deepEqual(get(d, 'e'), float(100));
  t.deepEqual(get(d, 'f'), int(0)); // Go ParseInt("-0") = 0
  t.deepEqual(get(d, 'g'), float(0.5));
  t.deepEqual(get(d, 'h'), float(12345678901234567000));
});

test('scalars, nesting, empty containers', (t) => {
  const d = load('{"s": "x", "t": true, "f": false, "n": null, "m": {}, "l": [], "x": [1, [2], {"k": "v"}]}').documents[0];
  t.deepEqual(
    d,
    map([
      entry('s', str('x')), entry('t', bool(true)), entry('f', bool(false)), entry('n', nul()), entry('m', map()), entry('l', seq()),
      entry('x', seq([int(1), seq([int(2)]), map([entry('k', str('v'))])])),
    ]),
  );
});

test('strings: every escape, surrogate pairs, lone surrogates and invalid UTF-8 become U+FFFD', (t) => {
  const d = load(String.raw`{"a": "\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "b": "\ud800x", "c": "\udc00\ud800\udc00", "d": "é😀"}`).documents[0];
  t.deepEqual(get(d, 'a'), str('"\\/\b\f\n\r\t\u00e9\u{1F600}'));
  t.deepEqual(get(d, 'b'), str('\ufffdx'));
  t.deepEqual(get(d, 'c'), str('\ufffd\u{10000}'));
  t.deepEqual(get(d, 'd'), str('é😀'));
  // Go decodes each invalid byte to one U+FFFD (a truncated 3-byte sequence gives two)
  const raw = new Uint8Array([...enc.encode('{"k": "a'), 0xe2, 0x82, 0x41, 0xff, ...enc.encode('"}')]);
  t.deepEqual(get(jsonStore.load(raw).documents[0], 'k'), str('a\ufffd\ufffdA\ufffd'));
});

test('content after the top-level object is ignored', (t) => {
  t.deepEqual(load('{"a": 1} trailing {[ garbage').documents[0], map([entry('a', int(1))]));
});

test('top level must be an object', (t) => {
  const e = t.throws(() => load('[1, 2]'), { instanceOf: ParseError });
  t.regex(e!.message, /top-level object .*not arrays/);
  t.regex(e!.hint!, /wrap/);
  t.is(e!.exitCode, 2);
  t.throws(() => load('"str"'), { instanceOf: ParseError, message: /Got "str" of type string/ });
  t.throws(() => load('42 junk'), { instanceOf: ParseError, message: /Got 42 of type int/ });
  t.throws(() => load('1e400'), { instanceOf: ParseError, message: /not other JSON types/ });
  t.throws(() => load('null'), { instanceOf: ParseError, message: /<nil>/ });
  t.throws(() => load('   '), { instanceOf: ParseError, message: /empty/ });
});

test('syntax errors name line and column', (t) => {
  const cases: Array<[string, RegExp]> = [
    ['{\n  "a": 1,\n  }', /invalid character '}' looking for beginning of object key string \(line 3, column 3\)/],
    ['{"a" 1}', /after object key \(line 1, column 6\)/],
    ['{"a": 1 "b": 2}', /after object key:value pair/],
    ['{"a": [1 2]}', /after array element/],
    ['{"a": tru}', /in literal true \(expecting 'e'\)/],
    ['{"a": 01}', /invalid character '1' after object key:value pair/],
    ['{"a": -}', /in numeric literal/],
    ['{"a": 1.}', /after decimal point/],
    ['{"a": "\\x"}', /in string escape code/],
    ['{"a": "\\u12g4"}', /hexadecimal character escape/],
    ['{"a": "x\ny"}', /invalid character '\\n' in string literal/],
    ['{"a": 1e400}', /value out of range/],
    ['{"a": [1, 2', /unexpected end of JSON input/],
    ['{"a": "abc', /unexpected end of JSON input/],
    ['\ufeff{}', /invalid character '\ufeff' looking for beginning of value/],
  ];
  for (const [src, re] of cases) {
    const e = t.throws(() => load(src), { instanceOf: ParseError }, src);
    t.regex(e!.message, re, src);
  }
});

test('deep nesting is a ParseError, not a crash', (t) => {
  // beyond 10,000 levels: the limit; below it, on a small stack (the CLI uses a big one): the guard
  t.throws(() => load('{"a":' + '['.repeat(10001)), { instanceOf: ParseError, message: /exceeded max depth|nested too deeply/ });
  t.notThrows(() => load('{"a":' + '['.repeat(999) + ']'.repeat(999) + '}'));
});

test('metadata: top-level sops object is returned and removed', (t) => {
  const f = load('{"a": 1, "sops": {"version": "3.13.2"}, "b": 2}');
  t.deepEqual(f.documents[0], map([entry('a', int(1)), entry('b', int(2))]));
  t.deepEqual(f.metadata, map([entry('version', str('3.13.2'))]));
  t.is(load('{"a": {"sops": {}}}').metadata, undefined);
  t.throws(() => load('{"sops": {}, "sops": {}}'), { instanceOf: ParseError, message: /duplicate sops/ });
  t.throws(() => load('{"sops": 1}'), { instanceOf: ParseError, message: /not a mapping/ });
});

test('emit: tab indentation, "key": value, {} and [], trailing newline, sops last', (t) => {
  const doc = map([entry('a', str('x')), entry('m', map()), entry('l', seq()), entry('n', seq([int(1), map([entry('k', nul())])]))]);
  t.is(emit(doc), '{\n\t"a": "x",\n\t"m": {},\n\t"l": [],\n\t"n": [\n\t\t1,\n\t\t{\n\t\t\t"k": null\n\t\t}\n\t]\n}\n');
  t.is(emit(map([entry('a', int(1))]), map([entry('version', str('v'))])), '{\n\t"a": 1,\n\t"sops": {\n\t\t"version": "v"\n\t}\n}\n');
  t.is(emit(map()), '{}\n');
});

test('emit: indent option gives N spaces (0 = newlines only); < -1 is an error', (t) => {
  const doc = map([entry('a', seq([int(1)]))]);
  t.is(emit(doc, undefined, 2), '{\n  "a": [\n    1\n  ]\n}\n');
  t.is(emit(doc, undefined, 0), '{\n"a": [\n1\n]\n}\n');
  t.is(emit(doc, undefined, -1), '{\n\t"a": [\n\t\t1\n\t]\n}\n');
  t.throws(() => emit(doc, undefined, -2), { instanceOf: SopsError });
});

test('emit: scalars as Go encoding/json writes them', (t) => {
  const doc = map([
    entry('f1', float(1)), entry('f2', float(0.5)), entry('f3', float(1e21)), entry('f4', float(1e-7)), entry('f5', float(-0)),
    entry('f6', float(123456789012345680000)), entry('i', int(-9223372036854775808n)), entry('b', bool(false)),
    entry('t', time('2024-01-01T10:00:00.5+02:00')), entry('n', nul()),
  ]);
  t.is(
    emit(doc),
    '{\n\t"f1": 1,\n\t"f2": 0.5,\n\t"f3": 1e+21,\n\t"f4": 1e-7,\n\t"f5": -0.0,\n\t"f6": 123456789012345680000,\n\t"i": -9223372036854775808,\n\t"b": false,\n\t"t": "2024-01-01T10:00:00.5+02:00",\n\t"n": null\n}\n',
  );
  t.throws(() => emit(map([entry('x', float(NaN))])), { instanceOf: SopsError, message: /unsupported value: NaN/ });
  t.throws(() => emit(map([entry('x', float(-Infinity))])), { instanceOf: SopsError, message: /unsupported value: -Inf/ });
});

test('emit: Go string escaping', (t) => {
  t.is(quoteJsonString('<a href="x">&\u2028\u2029\u0000\u001f\u007f\b\f\n\r\t\\é😀'), '"\\u003ca href=\\"x\\"\\u003e\\u0026\\u2028\\u2029\\u0000\\u001f\u007f\\b\\f\\n\\r\\t\\\\é😀"');
  t.is(quoteJsonString(new Uint8Array([0x61, 0xe2, 0x82, 0xff, 0x3c])), '"a\\ufffd\\ufffd\\ufffd\\u003c"');
  t.is(quoteJsonString('\ud800'), '"\ufffd"');
  t.is(encodeJson(bytes(enc.encode('ok')), null), '"ok"');
});

test('emit: comments are dropped', (t) => {
  const doc = map([comment(' top'), entry('a', seq([comment('x'), int(1)])), entry('m', map([comment('only')]))]);
  t.is(emit(doc), '{\n\t"a": [\n\t\t1\n\t],\n\t"m": {}\n}\n');
});

test('emit: refuses a "sops" data key next to metadata and more than one document', (t) => {
  t.throws(() => emit(map([entry('sops', str('x'))]), map()), { instanceOf: SopsError, message: /reserved/ });
  t.throws(() => jsonStore.emit({ documents: [map(), map()] }), { instanceOf: SopsError });
});

test('emitValue: indented, no trailing newline', (t) => {
  t.is(dec.decode(jsonStore.emitValue(map([entry('a', seq([int(1)]))]))), '{\n\t"a": [\n\t\t1\n\t]\n}');
  t.is(dec.decode(jsonStore.emitValue(seq([str('x')]), { indent: 2 })), '[\n  "x"\n]');
  t.is(dec.decode(jsonStore.emitValue(int(5))), '5');
  t.is(dec.decode(jsonStore.emitValue(float(2.5))), '2.5');
  t.is(dec.decode(jsonStore.emitValue(bool(true))), 'true');
  t.is(dec.decode(jsonStore.emitValue(nul())), 'null');
  t.is(dec.decode(jsonStore.emitValue(str('<'))), '"\\u003c"');
});

sharedTest('vector format.enc.json (sops 3.13): load and emit byte for byte', (t: ExecutionContext) => {
  const raw = readFileSync(join(vectorsDir, 'format.enc.json'));
  const f = jsonStore.load(raw);
  t.deepEqual(f.documents[0].items.map((i) => (i.kind === 'entry' ? i.key : '#')), ['foo']);
  const md = f.metadata!;
  t.deepEqual(get(md, 'version'), str('3.13.1'));
  t.deepEqual(get(md, 'lastmodified'), str('2026-05-22T20:16:18Z'));
  const pgp0 = (get(md, 'pgp') as { items: MapNode[] }).items[0];
  t.deepEqual(get(pgp0, 'fp'), str('FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4'));
  t.deepEqual(get(pgp0, 'created_at'), str('2026-05-22T20:16:08Z'));
  const armor = (get(pgp0, 'enc') as { value: string }).value;
  t.true(armor.startsWith('-----BEGIN PGP MESSAGE-----\n\nwcBMA'));
  t.true(armor.endsWith('\n=7UUe\n-----END PGP MESSAGE-----'));
  t.deepEqual(Buffer.from(jsonStore.emit(f)), raw);
});

sharedTest('vector example.json (sops 3.5.0): loads; re-emitted only gains the trailing newline', (t: ExecutionContext) => {
  const raw = readFileSync(join(vectorsDir, 'example.json'));
  const f = jsonStore.load(raw);
  t.deepEqual(
    f.documents[0].items.map((i) => (i.kind === 'entry' ? i.key : '#')),
    ['firstName', 'lastName', 'age', 'address', 'phoneNumbers', 'anEmptyValue'],
  );
  t.deepEqual(get(f.metadata!, 'kms'), nul());
  t.is((get(f.metadata!, 'pgp') as { items: unknown[] }).items.length, 2);
  t.deepEqual(Buffer.from(jsonStore.emit(f)), Buffer.concat([raw, Buffer.from('\n')]));
});

// ---- property: random trees survive emit -> load ----

const jsonKey = fc.string({ unit: 'binary', maxLength: 6 }).map((k) => k.replace(/[\ud800-\udfff]/g, 'x'));
const jsonString = fc.string({ unit: 'binary', maxLength: 12 }).map((k) => k.replace(/[\ud800-\udfff]/g, 'x'));
// A float that Go writes in a form that does not parse back as int64.
const jsonFloat = fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0) && (!Number.isInteger(x) || Math.abs(x) >= 1e21));
const leaf = fc.oneof(
  jsonString.map(str),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(int),
  jsonFloat.map(float),
  fc.boolean().map(bool),
  fc.constant(nul()),
);
const tree = fc.letrec<{ node: Node; map: MapNode; seq: Node }>((tie) => ({
  node: fc.oneof({ maxDepth: 3, depthIdentifier: 'j' }, leaf, tie('map'), tie('seq')),
  map: fc.array(fc.tuple(jsonKey, tie('node')), { maxLength: 4 }).map((es) => map(es.map(([k, v]) => entry(k, v)))),
  seq: fc.array(tie('node'), { maxLength: 4 }).map((xs) => seq(xs)),
})).map;
const metaTree = fc.option(tree, { nil: undefined });

test('property: load(emit(tree)) is the tree (fixed seed)', (t) => {
  fc.assert(
    fc.property(
      tree.map((m) => map(m.items.filter((i) => i.kind === 'entry' && i.key !== 'sops'))),
      metaTree,
      fc.option(fc.integer({ min: -1, max: 4 }), { nil: undefined }),
      (doc, metadata, indent) => {
        const out = jsonStore.emit(metadata ? { documents: [doc], metadata } : { documents: [doc] }, indent === undefined ? undefined : { indent });
        const back = jsonStore.load(out);
        t.deepEqual(back.documents[0], doc);
        t.deepEqual(back.metadata, metadata);
      },
    ),
    { numRuns: 300, seed: 1337 },
  );
});
