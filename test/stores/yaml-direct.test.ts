/**
 * The direct YAML writer (stores/yaml/direct.ts) against the full go-yaml emulation (go-yaml
 * nodes, events and the emitter): for every tree it takes, the text must be exactly the
 * emulation's; everything else it declines.
 */
import test from 'ava';
import fc from 'fast-check';
import { directYaml } from '../../src/stores/yaml/direct.js';
import { emitYamlEvents } from '../../src/stores/yaml/emit.js';
import { clampIndent } from '../../src/stores/yaml/emitter.js';
import { bool, bytes, comment, entry, float, int, map, nul, seq, str, time, type CommentNode, type Entry, type MapNode, type Node } from '../../src/tree/types.js';
import { FLOAT_EDGES, INT_EDGES, ODD_KEYS, ODD_STRINGS, anyString, invalidUtf8 } from '../helpers/roundtrip.js';

/** Both writers on the same documents: the direct one's text (if it took them) must be the emulation's. */
function compare(roots: MapNode[], indent: number): boolean {
  const direct = directYaml(roots, clampIndent(indent));
  if (direct === undefined) return false;
  const full = emitYamlEvents(roots, indent);
  if (direct !== full) throw new Error(`direct writer differs (indent ${indent}):\n--- direct\n${direct}\n--- emulation\n${full}`);
  return true;
}

const LONG_KEYS = ['k'.repeat(128), 'k'.repeat(129), 'ü'.repeat(43), 'ü'.repeat(64), 'ü'.repeat(65), '日'.repeat(42), '日'.repeat(43), 'multi\nline key', 'x\n'];

const leaf: fc.Arbitrary<Node> = fc.oneof(
  { weight: 40, arbitrary: fc.constantFrom(...ODD_STRINGS).map(str) },
  { weight: 30, arbitrary: anyString(16).map(str) },
  { weight: 10, arbitrary: fc.array(fc.constantFrom('', ' ', 'a', '  b', 'c ', '#', '- x', 'ü', '\r', '\u2028'), { maxLength: 4 }).map((ls) => str(ls.join('\n'))) },
  { weight: 10, arbitrary: fc.constantFrom(...INT_EDGES).map(int) },
  { weight: 10, arbitrary: fc.oneof(fc.constantFrom(...FLOAT_EDGES), fc.double()).map(float) },
  { weight: 10, arbitrary: fc.boolean().map(bool) },
  { weight: 10, arbitrary: fc.constant(nul()) },
  { weight: 10, arbitrary: fc.constantFrom('2024-01-01T00:00:00Z', '2024-01-01T10:00:00.5+02:00').map(time) },
  { weight: 10, arbitrary: fc.constantFrom('text', 'ünï', '').map((s) => bytes(new TextEncoder().encode(s))) },
  { weight: 1, arbitrary: invalidUtf8(8).map(bytes) },
);

const commentText = fc.oneof(fc.constantFrom('', ' ', ' note', '#', ' # double', ' key: value', ' ünï 🎉', 'two\nlines', 'cr\rx', 'nel\u0085x'), anyString(8));
const commentArb: fc.Arbitrary<CommentNode> = fc.tuple(commentText, fc.boolean()).map(([t, inline]) => comment(t, inline));

const key = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...ODD_KEYS) }, { weight: 2, arbitrary: anyString(8) }, { weight: 1, arbitrary: fc.constantFrom(...LONG_KEYS) });

/** Mostly comment-free collections (the common case); sometimes comments anywhere, rarely inline ones. */
const comments = fc.oneof({ weight: 6, arbitrary: fc.constant<CommentNode[]>([]) }, { weight: 3, arbitrary: fc.array(commentArb.map((c) => comment(c.text)), { minLength: 1, maxLength: 2 }) }, { weight: 1, arbitrary: fc.array(commentArb, { maxLength: 2 }) });

const { node, mapping } = fc.letrec<{ node: Node; mapping: MapNode; sequence: Node }>((tie) => ({
  node: fc.oneof({ maxDepth: 4, depthIdentifier: 'direct' }, leaf, leaf, tie('mapping'), tie('sequence')),
  mapping: fc
    .tuple(fc.array(fc.tuple(comments, key, tie('node')), { maxLength: 5 }), fc.oneof({ weight: 8, arbitrary: fc.constant<CommentNode[]>([]) }, { weight: 1, arbitrary: comments }))
    .map(([items, foot]) => map([...items.flatMap(([cs, k, v]): Array<Entry | CommentNode> => [...cs, entry(k, v)]), ...foot])),
  sequence: fc
    .array(fc.tuple(fc.oneof({ weight: 10, arbitrary: fc.constant<CommentNode[]>([]) }, { weight: 1, arbitrary: comments }), tie('node')), { maxLength: 4 })
    .map((items) => seq(items.flatMap(([cs, v]) => [...cs, v]))),
}));

test('the direct writer writes what the emulation writes, for every tree it takes', (t) => {
  let taken = 0;
  let runs = 0;
  fc.assert(
    fc.property(fc.array(mapping, { minLength: 1, maxLength: 3 }), fc.constantFrom(1, 2, 3, 4, 5, 8, 9, 10), (roots, indent) => {
      runs++;
      if (compare(roots, indent)) taken++;
    }),
    { seed: 7, numRuns: 3000 },
  );
  // the common case must be exercised, not declined
  t.log(`${taken} of ${runs} trees taken by the direct writer`);
  t.true(taken > runs / 3, `the direct writer took ${taken} of ${runs} trees`);
});

test('the direct writer on the shapes of real files: nesting, lists of maps, head comments, empty collections', (t) => {
  const doc = map([
    comment(' top'),
    entry('a', map([comment(' first'), entry('b', str('x')), comment(' c1'), comment(' c2'), entry('c', seq([str('1'), map([entry('d', int(1)), entry('e', seq([seq([str('z')]), map([])]))])]))])),
    entry('lit', str('line 1\nline 2\n')),
    entry('list', seq([str('multi\nline'), map([entry('k', str('v\nw'))])])),
    entry('empty', map([])),
    entry('none', seq([])),
    entry('k'.repeat(129), str('long key')),
    entry('bin', bytes(new Uint8Array([104, 105]))),
  ]);
  for (const indent of [2, 3, 4, 7]) t.true(compare([doc, map([entry('second', nul())]), map([])], indent));
  // declined: inline, foot and in-list comments, a comment opening a list item's mapping, !!binary
  t.is(directYaml([map([comment(' inline', true), entry('a', str('x'))])], 4), undefined);
  t.is(directYaml([map([entry('a', str('x')), comment(' foot')])], 4), undefined);
  t.is(directYaml([map([entry('a', seq([comment(' c'), str('x')]))])], 4), undefined);
  t.is(directYaml([map([entry('a', seq([map([comment(' c'), entry('b', str('x'))])]))])], 4), undefined);
  t.is(directYaml([map([entry('a', bytes(new Uint8Array([0xff])))])], 4), undefined);
});
