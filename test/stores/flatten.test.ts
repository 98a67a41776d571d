import test from 'ava';
import fc from 'fast-check';
import { ParseError, SopsError } from '../../src/errors.js';
import {
  byteStringToLeaf,
  bytesToByteString,
  compareBytewise,
  flatten,
  formatFloatG,
  goValToString,
  leafToByteString,
  textToByteString,
  unflatten,
} from '../../src/stores/flatten.js';
import { bool, bytes, comment, entry, float, int, map, nul, seq, str, time } from '../../src/tree/types.js';
import type { MapNode, Node } from '../../src/tree/types.js';

const metadata = (): MapNode =>
  map([
    entry('key_groups', seq([map([entry('age', seq([map([entry('enc', str('A\nB')), entry('recipient', str('age1x'))])]))])])),
    entry('lastmodified', str('2024-01-01T00:00:00Z')),
    entry('pgp', seq([map([entry('created_at', str('t')), entry('fp', str('FP'))])])),
    entry('shamir_threshold', int(2)),
    entry('version', str('3.13.2')),
  ]);

test('flatten joins keys with __map_ and __list_ in tree order', (t) => {
  const flat = flatten(metadata());
  t.deepEqual(
    flat.map((e) => e.key),
    [
      'key_groups__list_0__map_age__list_0__map_enc',
      'key_groups__list_0__map_age__list_0__map_recipient',
      'lastmodified',
      'pgp__list_0__map_created_at',
      'pgp__list_0__map_fp',
      'shamir_threshold',
      'version',
    ],
  );
  t.deepEqual(flat[0].value, str('A\nB'));
  t.deepEqual(flat[5].value, int(2));
});

test('flatten adds the prefix to every key', (t) => {
  t.deepEqual(
    flatten(map([entry('a', seq([str('x')])), entry('b', str('y'))]), 'sops_').map((e) => e.key),
    ['sops_a__list_0', 'sops_b'],
  );
});

test('flatten skips comments, does not count them as list elements, and drops empty containers', (t) => {
  const tree = map([comment('c'), entry('l', seq([comment('x'), str('a'), comment('y'), str('b')])), entry('e', map()), entry('s', seq())]);
  t.deepEqual(flatten(tree), [entry('l__list_0', str('a')), entry('l__list_1', str('b'))]);
});

test('flatten reports key collisions', (t) => {
  const tree = map([entry('a__map_b', str('1')), entry('a', map([entry('b', str('2'))]))]);
  const e = t.throws(() => flatten(tree), { instanceOf: SopsError });
  t.regex(e!.message, /collision "a__map_b"/);
});

test('unflatten rebuilds the tree with sorted keys (as sops)', (t) => {
  const items = [
    entry('key1__list_0', str('foo')),
    entry('key2__list_0', str('foo')),
    entry('key2__list_1__map_foo', str('bar')),
    entry('key2__list_1__map_baz', str('bam')),
    entry('key3__map_foo', str('bar')),
    entry('key3__map_baz', str('bam')),
    comment('ignored'),
  ];
  t.deepEqual(
    unflatten(items),
    map([
      entry('key1', seq([str('foo')])),
      entry('key2', seq([str('foo'), map([entry('baz', str('bam')), entry('foo', str('bar'))])])),
      entry('key3', map([entry('baz', str('bam')), entry('foo', str('bar'))])),
    ]),
  );
});

test('unflatten sorts list indices numerically', (t) => {
  const items = Array.from({ length: 12 }, (_, i) => entry(`l__list_${11 - i}`, str(String(11 - i))));
  const l = unflatten(items).items[0];
  t.deepEqual(l, entry('l', seq(Array.from({ length: 12 }, (_, i) => str(String(i))))));
});

test('unflatten errors: duplicate, type mismatch, incomplete list', (t) => {
  t.throws(() => unflatten([entry('a', str('1')), entry('a', str('2'))]), { instanceOf: ParseError, message: /duplicate/ });
  t.throws(() => unflatten([entry('a', str('1')), entry('a__map_b', str('2'))]), { instanceOf: ParseError, message: /type mismatch/ });
  t.throws(() => unflatten([entry('a__list_0', str('1')), entry('a__map_b', str('2'))]), { instanceOf: ParseError, message: /type mismatch/ });
  t.throws(() => unflatten([entry('a__list_1', str('1'))]), { instanceOf: ParseError, message: /incomplete list/ });
  t.throws(() => unflatten([entry('a__list_0', str('1')), entry('a__list_2', str('1'))]), { instanceOf: ParseError, message: /incomplete list/ });
});

test('unflatten reads an unparsable list index as 0 (Go Atoi error ignored)', (t) => {
  t.deepEqual(unflatten([entry('a__list_x', str('v'))]), map([entry('a', seq([str('v')]))]));
});

test('unflatten of nothing is an empty mapping', (t) => {
  t.deepEqual(unflatten([]), map());
});

test('compareBytewise orders like Go sort.Strings', (t) => {
  t.deepEqual(['b', 'B', 'a_b', 'a', 'ab', '\u{1F600}', '\uFFFD'].sort(compareBytewise), ['B', 'a', 'a_b', 'ab', 'b', '\uFFFD', '\u{1F600}']);
});

test('goValToString matches Go (checked against strconv with Go 1.19)', (t) => {
  const floats: Array<[number, string]> = [
    [1.5, '1.5'], [2, '2.0'], [1e6, '1E+06'], [100000, '100000.0'], [1e-5, '1E-05'], [0.0001, '0.0001'],
    [123456789, '1.23456789E+08'], [-0, '-0.0'], [0, '0.0'], [NaN, 'NaN'], [Infinity, '+Inf'], [-Infinity, '-Inf'],
    [1e21, '1E+21'], [5e-324, '5E-324'], [0.1 + 0.2, '0.30000000000000004'], [999999, '999999.0'],
    [1234567.5, '1.2345675E+06'], [-2.5e-300, '-2.5E-300'],
  ];
  for (const [x, s] of floats) t.is(goValToString(float(x)), s, String(x));
  t.is(formatFloatG(1e6), '1E+06');
  t.is(formatFloatG(2), '2');
  t.is(goValToString(int(-9223372036854775808n)), '-9223372036854775808');
  t.is(goValToString(bool(true)), 'true');
  t.is(goValToString(bool(false)), 'false');
  t.is(goValToString(nul()), '<nil>');
  t.is(goValToString(time('2024-01-01T10:00:00.5+02:00')), '2024-01-01T10:00:00+02:00');
  t.is(goValToString(time('2024-01-01T00:00:00Z')), '2024-01-01T00:00:00Z');
  t.is(goValToString(str('s')), 's');
});

test('byte strings keep invalid UTF-8 as bytes', (t) => {
  const raw = new Uint8Array([0x61, 0xff, 0x62]);
  const leaf = byteStringToLeaf(bytesToByteString(raw));
  t.deepEqual(leaf, bytes(raw));
  t.deepEqual(byteStringToLeaf(textToByteString('h\u00e9\u{1F600}')), str('h\u00e9\u{1F600}'));
  t.deepEqual(byteStringToLeaf(textToByteString('\ufeffbom')), str('\ufeffbom'));
  t.is(leafToByteString(bytes(raw)), '\u0061\u00ff\u0062');
  t.is(leafToByteString(str('\u00e9')), '\u00c3\u00a9');
});

// Metadata-shaped trees: sorted keys, string leaves, no empty containers, no markers in keys.
const key = fc.string({ minLength: 1, maxLength: 8 }).filter((k) => !k.includes('__') && !k.startsWith('_') && !k.endsWith('_'));
const metaTree = fc.letrec<{ node: Node; tree: MapNode; list: Node }>((tie) => ({
  node: fc.oneof({ maxDepth: 3, depthIdentifier: 'm' }, fc.string().map(str), tie('tree'), tie('list')),
  tree: fc.uniqueArray(fc.tuple(key, tie('node')), { minLength: 1, maxLength: 4, selector: ([k]) => k }).map((es) =>
    map(es.sort(([a], [b]) => compareBytewise(a, b)).map(([k, v]) => entry(k, v))),
  ),
  list: fc.array(tie('node'), { minLength: 1, maxLength: 3 }).map((xs) => seq(xs)),
})).tree;

test('property: unflatten(flatten(tree)) is the tree', (t) => {
  fc.assert(
    fc.property(metaTree, (tree) => {
      t.deepEqual(unflatten(flatten(tree, 'p_').map((e) => entry(e.key.slice(2), e.value))), tree);
    }),
    { numRuns: 300, seed: 42 },
  );
});
