// Property: random YAML files survive plaintext -> encrypt -> decrypt byte for byte
// (decrypt(encrypt(x)) == emit(load(x))), with the MAC verified, the data unchanged and the
// decrypted text reading back to the same data (see test/helpers/roundtrip.ts).
// Documents: nesting, lists, lists of maps, comments (head, inline, in lists), every scalar
// type (str, int64, float incl. -0/NaN/Inf, bool, null, timestamp, !!binary bytes), unicode,
// odd keys, several documents, several indentations, and texts written by another YAML
// library (flow style, other quoting).
import test from 'ava';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { canonicalTime } from '../../src/crypto/scalar.js';
import { storeFor, toJS } from '../../src/index.js';
import { bool, bytes, comment, entry, float, int, map, nul, seq, str, time } from '../../src/tree/types.js';
import type { CommentNode, Entry, MapNode, Node } from '../../src/tree/types.js';
import { ODD_KEYS, ODD_STRINGS, FLOAT_EDGES, INT_EDGES, anyString, assertRoundTrips, checkRoundTrip, invalidUtf8 } from '../helpers/roundtrip.js';

const yaml = storeFor('yaml');
const dec = new TextDecoder();

// ---- scalars ----

const strLeaf = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...ODD_STRINGS) },
  { weight: 3, arbitrary: anyString(16) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom('', ' ', 'a', '  b', 'c ', '#', '- x', 'ü'), { maxLength: 4 }).map((ls) => ls.join('\n')) },
).map(str);

const intLeaf = fc.oneof(fc.constantFrom(...INT_EDGES), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), fc.integer({ min: -1000, max: 1000 }).map(BigInt)).map(int);

const floatLeaf = fc.oneof(fc.constantFrom(...FLOAT_EDGES), fc.double()).map(float);

// RFC 3339 timestamps in the canonical form tsops keeps (fraction without trailing zeros, Z or an offset).
const timeLeaf = fc
  .tuple(
    fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }),
    fc.constantFrom('Z', '+02:00', '-05:30', '+00:00'),
    fc.constantFrom('', '.5', '.123456789', '.000000001'),
  )
  .map(([d, zone, frac]) => time(canonicalTime(d.toISOString().slice(0, 19) + frac + zone)!));

const leaf: fc.Arbitrary<Node> = fc.oneof(
  { weight: 6, arbitrary: strLeaf },
  { weight: 2, arbitrary: intLeaf },
  { weight: 2, arbitrary: floatLeaf },
  { weight: 1, arbitrary: fc.boolean().map(bool) },
  { weight: 1, arbitrary: fc.constant(nul()) },
  { weight: 1, arbitrary: timeLeaf },
  { weight: 1, arbitrary: invalidUtf8(8).map(bytes) },
);

// ---- comments: printable text on one line (YAML allows nothing else in a comment) ----

const commentText = fc
  .oneof(fc.constantFrom('', ' ', ' note', '#', ' # double', ' key: value', ' - item', ' ünï 🎉', ' trailing  ', 'no space'), anyString(12))
  .map((s) => s.replace(/[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g, '?'));
const headComment = commentText.map((c): CommentNode => comment(c));

// ---- trees ----

const key = fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...ODD_KEYS) }, { weight: 1, arbitrary: anyString(8) });

type Item = { key: string; value: Node; head: CommentNode[]; inline?: string };

const { node } = fc.letrec<{ node: Node; map: Node; seq: Node }>((tie) => ({
  node: fc.oneof({ maxDepth: 4, depthIdentifier: 'yaml' }, leaf, leaf, tie('map'), tie('seq')),
  map: fc
    .tuple(
      fc.uniqueArray(
        fc.record({ key, value: tie('node'), head: fc.array(headComment, { maxLength: 2 }), inline: fc.option(commentText, { nil: undefined }) }),
        { maxLength: 5, selector: (i) => i.key },
      ),
      fc.array(headComment, { maxLength: 1 }),
    )
    .map(([items, foot]) => map([...(items as Item[]).flatMap(mapItem), ...foot])),
  seq: fc
    .array(fc.record({ value: tie('node'), head: fc.array(headComment, { maxLength: 1 }), inline: fc.option(commentText, { nil: undefined }) }), { maxLength: 4 })
    .map((items) => seq(items.flatMap((i) => [...i.head, ...inlineFor(i.value, i.inline), i.value]))),
}));

/** An inline comment (`k: v # c`) of a scalar: in the tree it comes just before its item. */
function inlineFor(value: Node, text: string | undefined): CommentNode[] {
  return text !== undefined && value.kind !== 'map' && value.kind !== 'seq' ? [comment(text, true)] : [];
}

function mapItem(i: Item): Array<Entry | CommentNode> {
  return [...i.head, ...inlineFor(i.value, i.inline), entry(i.key, i.value)];
}

/**
 * Known bugs, kept out of the random documents and asserted on their own in oracle-yaml.test.ts
 * (see there for details):
 * - in a list, a string with a line break that starts with a space or a line break is written
 *   as a `|4` block at the wrong column: such strings get an `x` in front;
 * - U+2028/U+2029 are written as line breaks (as go-yaml does) but read back as text: they
 *   become `?`;
 * - a comment after the last item of a nested mapping, before a list in a list, or at the start
 *   of a mapping or list that is a list item lands elsewhere in the encrypted file (an
 *   encrypted one then does not decrypt): left out.
 */
function avoidKnownBugs(n: Node, inList: boolean, root: boolean, listItem: boolean): Node {
  const text = (v: string) => v.replace(/[\u2028\u2029]/g, '?');
  if (n.kind === 'str') {
    const v = text(n.value);
    return str(inList && v.includes('\n') && /^[ \n]/.test(v) ? 'x' + v : v);
  }
  if (n.kind !== 'map' && n.kind !== 'seq') return n;
  let items: Array<Node | Entry | CommentNode> = n.items;
  // A collection that is a list item: no comments before its first item.
  if (listItem) items = items.slice(Math.max(0, items.findIndex((i) => i.kind !== 'comment')));
  if (n.kind === 'map') {
    let last = items.length;
    if (!root) while (last > 0 && items[last - 1]!.kind === 'comment' && !(items[last - 1] as CommentNode).inline) last--;
    return map(items.slice(0, last).map((i) => (i.kind === 'entry' ? entry(text(i.key), avoidKnownBugs(i.value, inList, false, false)) : (i as CommentNode))));
  }
  // No comment before a list inside a list.
  items = items.filter((i, k) => i.kind !== 'comment' || !items.slice(k).some((j) => j.kind === 'seq'));
  return seq(items.map((i) => (i.kind === 'comment' ? i : avoidKnownBugs(i as Node, true, false, true))));
}

/** A document: a mapping whose top level has no `sops` key (that one is the metadata). */
const documentArb = node
  .map((n) => (n.kind === 'map' ? n : map([entry('value', n)])))
  .map((n) => avoidKnownBugs(n, false, true, false) as MapNode)
  .map((m): MapNode => map(m.items.filter((i) => i.kind !== 'entry' || i.key !== 'sops')));

/** Plaintext written by tsops's own emitter (go-yaml's style), 1-3 documents, indent 2 or 4. */
const emitted = fc
  .tuple(fc.array(documentArb, { minLength: 1, maxLength: 3 }), fc.constantFrom(2, 4))
  .map(([documents, indent]) => dec.decode(yaml.emit({ documents }, { indent })));

/** The same kind of data written by the `yaml` package: flow collections, other quoting. */
const foreign = fc
  .tuple(
    documentArb,
    fc.record({
      collectionStyle: fc.constantFrom('any' as const, 'block' as const, 'flow' as const),
      defaultStringType: fc.constantFrom('PLAIN' as const, 'QUOTE_DOUBLE' as const, 'QUOTE_SINGLE' as const, 'BLOCK_LITERAL' as const),
      indent: fc.constantFrom(2, 3, 4),
    }),
  )
  .map(([doc, opts]) => {
    // Keep the types unambiguous for both parsers: strings, safe ints, finite floats, bools, null.
    const plain = JSON.parse(JSON.stringify(toJS(doc), (_k, v) => (typeof v === 'bigint' ? Number(v) : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v)));
    return stringify(plain, { ...opts, lineWidth: 0 });
  });

/** Hand-written quirks: anchors/aliases, merge keys, explicit tags, block scalars, documents. */
const quirks = fc.constantFrom(
  'a: &x {k: v, n: 1}\nb: *x\nc:\n  <<: *x\n  extra: 2\n',
  'a: !!str 123\nb: !!int "42"\nc: !!float 1\nd: !custom tagged\ne: !!binary aGVsbG8=\nf: !!binary //4=\n',
  'k: |+\n  keep\n\n\nn: >-\n  folded\n  text\n\n  para\n',
  '--- \na: 1\n...\n---\nb: [1, 2, {c: 3}]\n',
  '# only comments\n# here\na: 1 # inline\n# foot\n',
  'list:\n- a\n-   - b\n    - c\n- {d: e}\n- [f, [g]]\n',
  'empty:\nnull_tilde: ~\nbools: [true, True, TRUE, false]\nnums: [0x1F, 0o17, 017, 08, 1_000, +5, .5, 1., -0.0, 1e400, .NaN]\n',
  'ts: [2024-01-01, 2024-01-01T10:00:00.5+02:00, 2024-1-1 1:2:3, 2001-12-14 21:59:43.10 -5]\n',
  '"quoted key": 1\n\'single\': 2\n? complex\n: 3\n"": empty key\n',
  '{}\n',
  '',
  'a: 1\na: 2\n',
  '- not a mapping\n',
  'sops: 1\n',
);

test('property: YAML written in go-yaml style survives encrypt -> decrypt byte for byte (seed 4242)', async (t) => {
  await assertRoundTrips('yaml', emitted, 4242);
  t.pass();
});

test('property: YAML written by another library survives encrypt -> decrypt byte for byte (seed 777)', async (t) => {
  await assertRoundTrips('yaml', foreign, 777, 100);
  t.pass();
});

test('YAML quirks (aliases, merge keys, tags, block scalars, bad documents) survive or are refused alike', async (t) => {
  await assertRoundTrips('yaml', quirks, 1, 14 * 3);
  t.pass();
});

test('every odd string, as an encrypted and as a clear value, and every odd key survive', async (t) => {
  const strings = (): Entry[] => ODD_STRINGS.map((s, i) => entry(`s${i}`, str(s)));
  const doc = map([
    ...strings(),
    entry('clear_unencrypted', map(strings())),
    entry('keys', map(ODD_KEYS.map((k, i) => entry(k, int(i))))),
    entry('keys_unencrypted', map(ODD_KEYS.map((k) => entry(k, str(k))))),
    entry('numbers_unencrypted', seq([...INT_EDGES.map(int), ...FLOAT_EDGES.filter((f) => !Object.is(f, -0)).map(float), bool(true), nul()])),
  ]);
  await checkRoundTrip('yaml', yaml.emit({ documents: [doc] }), true);
  t.pass();
});
