import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sharedTest, test, vectorsDir } from '../helpers/shared.js';
import { yamlStore } from '../../src/stores/yaml.js';
import {
  bool, bytes, comment, entry, float, int, map, nul, seq, str, time,
  type CommentNode, type Entry, type MapNode, type Node,
} from '../../src/tree/types.js';

const roundTrip = (text: string): string => Buffer.from(yamlStore.emit(yamlStore.load(Buffer.from(text)))).toString();

// What `sops decrypt` prints for each plaintext (go-yaml re-emission, produced by the real
// go.yaml.in/yaml/v3 code through sops's store logic).
const PLAIN_INPUTS: Array<[string, string]> = [
  ['comments.yaml', '# first comment in file\nlorem: ipsum\n# this-is-a-comment\ndolor: sit\n'],
  ['comments_list.yaml', 'lorem:\n    - foo\n    #this-is-a-comment\n    - bar\n'],
  ['plainfile.yaml', 'hello: world\n'],
];

sharedTest('plaintext vectors re-emit as sops prints them', (t) => {
  for (const [name, expected] of PLAIN_INPUTS) {
    t.is(roundTrip(readFileSync(join(vectorsDir, name), 'utf8')), expected, name);
  }
});

sharedTest('encrypted vectors: metadata comes back, and files written by sops >= 3.10 re-emit byte for byte', (t) => {
  const files = ['comments.enc.yaml', 'comments_unencrypted_comments.yaml', 'example.yaml', 'format.enc.yaml', 'multiple_keys.yaml', 'no_mac.yaml'];
  for (const name of files) {
    const data = readFileSync(join(vectorsDir, name));
    const f = yamlStore.load(data);
    t.truthy(f.metadata, name);
    t.is(f.documents.length, 1, name);
    t.false(f.documents[0]!.items.some((i) => i.kind === 'entry' && i.key === 'sops'), name);
    const lm = f.metadata!.items.find((i): i is Entry => i.kind === 'entry' && i.key === 'lastmodified');
    t.is(lm?.value.kind, 'str', name);
    // Loading what we write gives the same tree again.
    t.deepEqual(yamlStore.load(yamlStore.emit(f)), f, name);
  }
  for (const name of ['example.yaml', 'format.enc.yaml']) {
    const data = readFileSync(join(vectorsDir, name), 'utf8');
    t.is(roundTrip(data), data, name);
  }
  // Written by sops 3.6 (go-yaml v2 layout): re-emitted in the v3 layout, as sops 3.13 would.
  const old = roundTrip(readFileSync(join(vectorsDir, 'comments.enc.yaml'), 'utf8'));
  t.regex(old, /\n {4}lastmodified: "2020-10-07T15:49:13Z"\n/);
  t.regex(old, /\n {4}pgp:\n {8}- created_at: "2019-08-29T21:52:32Z"\n {10}enc: \|\n {12}-----BEGIN PGP MESSAGE-----\n/);
});

test('emit(load(x)) is stable and load(emit(load(x))) is the same tree', (t) => {
  const text = [
    '# top', 'a: 1 # one', 'b:', '  # inside b', '  c: [1, 2]', '  d: {}', 'list:', '- x: 1', '  y: two', '- - nested', '# end', '---', 'second: doc', '',
  ].join('\n');
  const once = roundTrip(text);
  t.is(roundTrip(once), once);
  t.deepEqual(yamlStore.load(Buffer.from(once)), yamlStore.load(Buffer.from(text)));
});

// ---- property: random trees survive emit -> load unchanged ----

// NEL, LS and PS are line breaks for go-yaml's writer but not for YAML 1.2 readers: sops
// mangles them, so they are left out.
const safeString = (maxLength: number): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ unit: 'grapheme', maxLength }).map((s) => s.replace(/[\u2028\u2029\u0085]/g, 'x')),
    fc.string({ unit: 'binary', maxLength }).map((s) => s.replace(/[\ud800-\udfff\u2028\u2029\u0085]/g, 'x')),
    fc.constantFrom('yes', 'no', 'on', 'true', '1', '0x1F', '08', '1e3', '2024-01-01', '<<', '~', '', ' a', 'a ', 'a: b', '#x', '- x',
      'ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:comment]', 'multi\nline', 'multi\nline\n', '\ttab', 'é😀'),
  );
// go-yaml writes integral floats below 1e6 like integers (`2`), which read back as ints (as with sops).
const floatLeaf = fc.double({ noNaN: false }).filter((x) => Object.is(x, -0) || !(Number.isInteger(x) && Math.abs(x) < 1e6)).map(float);
const timeLeaf = fc
  .record({ ms: fc.integer({ min: 0, max: 253402300799999 }), nanos: fc.integer({ min: 0, max: 999999 }), off: fc.integer({ min: -14 * 60, max: 14 * 60 }) })
  .map(({ ms, nanos, off }) => {
    const d = new Date(ms);
    const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
    const frac = (String(d.getUTCMilliseconds()).padStart(3, '0') + String(nanos).padStart(6, '0')).replace(/0+$/, '');
    const zone = off === 0 ? 'Z' : `${off < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
    return time(`${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${frac ? '.' + frac : ''}${zone}`);
  });
const invalidUtf8 = fc.uint8Array({ maxLength: 90 }).map((b) => bytes(new Uint8Array([...b, 0xff])));
const leaf: fc.Arbitrary<Node> = fc.oneof(
  safeString(20).map(str),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(int),
  floatLeaf,
  fc.boolean().map(bool),
  fc.constant(nul()),
  timeLeaf,
  invalidUtf8,
);
const commentText = fc.oneof(fc.constantFrom('', ' c', 'x', ' two words', '#', ' ENC[AES256_GCM,data:AA==,type:comment]'), safeString(10).map((s) => s.replace(/[\r\n]/g, ' ').replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]/g, '?')));
// (comments are written as they are: a control character in one makes the file unreadable to go-yaml, and to tsops)
const isScalar = (n: Node): boolean => n.kind !== 'map' && n.kind !== 'seq';

/**
 * Comments where sops's YAML layout round-trips them: head comments before an item, inline
 * comments just before a scalar item (go-yaml writes them after that item's value), trailing
 * comments at the end of a mapping or after a scalar sequence item.
 */
function withComments<T extends Entry | Node>(items: T[], heads: string[][], inlines: Array<string | undefined>, trailing: string[]): Array<T | CommentNode> {
  const out: Array<T | CommentNode> = [];
  items.forEach((it, i) => {
    for (const h of heads[i] ?? []) out.push(comment(h));
    const value = it.kind === 'entry' ? (it as Entry).value : (it as Node);
    const inl = inlines[i];
    if (inl !== undefined && isScalar(value)) out.push(comment(inl, true));
    out.push(it);
  });
  const last = items[items.length - 1];
  // A trailing comment after a mapping or sequence item of a sequence is written after that
  // block, at the parent's level, and reads back there (as with sops).
  if (last && (last.kind === 'entry' || isScalar(last as Node))) for (const c of trailing) out.push(comment(c));
  return out;
}

const commentPlan = (n: number) =>
  fc.record({
    heads: fc.array(fc.array(commentText, { maxLength: 2 }), { minLength: n, maxLength: n }),
    inlines: fc.array(fc.option(commentText, { nil: undefined }), { minLength: n, maxLength: n }),
    trailing: fc.array(commentText, { maxLength: 2 }),
  });

const tree = fc.letrec<{ node: Node; map: MapNode; seq: Node }>((tie) => ({
  node: fc.oneof({ maxDepth: 3, depthIdentifier: 'y', withCrossShrink: true }, leaf, tie('map'), tie('seq')),
  map: fc
    .uniqueArray(fc.tuple(safeString(12), tie('node')), { maxLength: 4, selector: ([k]) => k })
    .chain((pairs) => commentPlan(pairs.length).map((p) => map(withComments(pairs.map(([k, v]) => entry(k, v)), p.heads, p.inlines, p.trailing) as MapNode['items']))),
  seq: fc
    .array(tie('node'), { maxLength: 4 })
    .chain((items) => commentPlan(items.length).map((p) => seq(withComments(items, p.heads, p.inlines, p.trailing)))),
}));

const isCollection = (n: Node): boolean => n.kind === 'map' || n.kind === 'seq';
/** A key go-yaml writes as `? key` (multi-line or longer than 128 bytes). */
const complexKey = (k: string): boolean => /[\n\r\u0085\u2028\u2029]/.test(k) || Buffer.byteLength(k) > 128;
const stripComments = (n: Node): Node =>
  n.kind === 'map' ? map(n.items.filter((i): i is Entry => i.kind === 'entry').map((e) => entry(e.key, sanitizeValue(e.key, e.value))))
    : n.kind === 'seq' ? seq(n.items.filter((i): i is Node => i.kind !== 'comment').map((i) => (isCollection(i) ? stripComments(i) : i))) : n;
const sanitizeValue = (key: string, v: Node): Node => (complexKey(key) && isCollection(v) ? stripComments(v) : sanitize(v));

/**
 * Drops the comment layouts that sops itself does not write back in place: comments inside a
 * collection that is a sequence item (they move before the `-`) or the value of a `? key`, and
 * trailing comments after a nested block (they end up inside it).
 */
function sanitize(n: Node): Node {
  if (n.kind === 'seq') return seq(n.items.map((i) => (i.kind !== 'comment' && isCollection(i) ? stripComments(i) : i)));
  if (n.kind !== 'map') return n;
  const items = n.items.map((i) => (i.kind === 'entry' ? entry(i.key, sanitizeValue(i.key, i.value)) : i));
  let end = items.length;
  while (end > 0 && items[end - 1]!.kind === 'comment') end--;
  const last = items[end - 1];
  const nestedLast = last?.kind === 'entry' && (last.value.kind === 'map' || last.value.kind === 'seq');
  return map(nestedLast ? items.slice(0, end) : items);
}

const documentArb = (tree.map as fc.Arbitrary<MapNode>).map((m) => sanitize(map(m.items.filter((i) => !(i.kind === 'entry' && i.key === 'sops')))) as MapNode);

test('property: emit -> load gives back the same tree (fixed seed, 300 runs)', (t) => {
  fc.assert(
    fc.property(fc.array(documentArb, { minLength: 1, maxLength: 3 }), fc.constantFrom(2, 3, 4, 8), (documents, indent) => {
      const out = yamlStore.emit({ documents }, { indent });
      const back = yamlStore.load(out);
      t.deepEqual(back.documents, documents);
      return true;
    }),
    { seed: 20240101, numRuns: 300 },
  );
});
