// Fuzz: --extract (and set/unset) tree paths. Random path strings against a model of sops's own
// parser (cmd/sops/main.go parseTreePath: split at `[`, skip empty pieces, `]` at the end,
// quoted key or strconv.Atoi index): the same steps, or exit 91 where sops errors or panics.
// Random paths against random trees: the value the model finds, or exit 1 (sops: "component
// ... not found", "... is not a slice", "out of bounds"; where sops panics on a key into a list,
// tsops exits 1 cleanly). Long paths on deep trees answer at once. The real CLI with random
// paths on a real file: the value, or a clean 91/1.
import test from 'ava';
import fc from 'fast-check';
import { SopsError } from '../../src/errors.js';
import { getAtPath, parseTreePath, type PathStep } from '../../src/tree/path.js';
import type { MapNode, Node } from '../../src/tree/types.js';
import { ageWorkspace, assertCleanFailure } from '../helpers/cli.js';
import { fuzzParams } from '../helpers/fuzz.js';

type Model = { steps: PathStep[] } | { error: 'error' | 'panic' };

/** sops's parseTreePath, restated (Go: error or panic; int64 indexes). */
function model(text: string): Model {
  const steps: PathStep[] = [];
  for (const c of text.split('[')) {
    if (c === '') continue;
    if (!c.endsWith(']')) return { error: 'error' };
    const inner = c.slice(0, -1);
    if (inner === '') return { error: 'panic' }; // component[0] out of range
    if (inner[0] === '"' || inner[0] === "'") {
      if (inner.length < 2) return { error: 'panic' }; // component[1:0]
      steps.push(inner.slice(1, -1));
      continue;
    }
    if (!/^[+-]?\d+$/.test(inner)) return { error: 'error' };
    const n = BigInt(inner);
    if (n >= 2n ** 63n || n < -(2n ** 63n)) return { error: 'error' };
    steps.push(Number(n));
  }
  return { steps };
}

const pieces = fc.oneof(
  fc.constantFrom('[', ']', '"', "'", '[]', '[0]', '[1]', '[-1]', '[+2]', '["a"]', "['b']", '["]', "[']", '["a]', '[99999999999999999999]', '[9223372036854775807]', '[007]', '["é"]', '["😀"]', '[" "]', '[\n]', 'x', '0]'),
  fc.string({ maxLength: 4 }),
);
const pathText = fc.array(pieces, { maxLength: 8 }).map((a) => a.join(''));

test('random path strings: the steps sops reads, or exit 91 where sops fails or panics', (t) => {
  fc.assert(
    fc.property(pathText, (text) => {
      const m = model(text);
      let got: PathStep[];
      try {
        got = parseTreePath(text);
      } catch (e) {
        if (!(e instanceof SopsError)) throw new Error(`raw error: ${String(e)}`);
        return 'error' in m && e.exitCode === 91;
      }
      return 'steps' in m && JSON.stringify(got) === JSON.stringify(m.steps);
    }),
    fuzzParams(5000),
  );
  t.pass();
});

const KEYS = ['a', 'b', '0', '', 'é', 'a b'];
const tree = fc.letrec<{ node: Node; map: MapNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small' },
    fc.string({ maxLength: 5 }).map((value): Node => ({ kind: 'str', value })),
    fc.integer().map((v): Node => ({ kind: 'int', value: BigInt(v) })),
    fc.constant<Node>({ kind: 'null' }),
    fc.array(fc.oneof({ weight: 4, arbitrary: tie('node') }, { weight: 1, arbitrary: fc.constant({ kind: 'comment' as const, text: ' c' }) }), { maxLength: 4 }).map((items): Node => ({ kind: 'seq', items })),
    tie('map'),
  ),
  map: fc
    .array(fc.tuple(fc.constantFrom(...KEYS), tie('node')), { maxLength: 4 })
    .map((es): MapNode => ({ kind: 'map', items: es.map(([key, value]) => ({ kind: 'entry' as const, key, value })) })),
})).map;
const steps = fc.array(fc.oneof(fc.constantFrom(...KEYS), fc.integer({ min: -1, max: 4 })), { maxLength: 5 });

/** The walk sops does (comments are not list elements in tsops: see docs/reliability.md, tampering). */
function walk(root: Node, path: readonly PathStep[]): Node | undefined {
  let cur: Node = root;
  for (const s of path) {
    if (typeof s === 'string') {
      if (cur.kind !== 'map') return undefined;
      const e = cur.items.find((i) => i.kind === 'entry' && i.key === s);
      if (!e || e.kind !== 'entry') return undefined;
      cur = e.value;
    } else {
      if (cur.kind !== 'seq') return undefined;
      const elems = cur.items.filter((i): i is Node => i.kind !== 'comment');
      if (s < 0 || s >= elems.length) return undefined;
      cur = elems[s]!;
    }
  }
  return cur;
}

test('random paths on random trees: the value found, or exit 1', (t) => {
  fc.assert(
    fc.property(tree, steps, (root, path) => {
      const want = walk(root, path);
      try {
        return getAtPath(root, path) === want;
      } catch (e) {
        if (!(e instanceof SopsError)) throw new Error(`raw error: ${String(e)}`);
        return want === undefined && e.exitCode === 1;
      }
    }),
    fuzzParams(5000),
  );
  t.pass();
});

test('a 100,000-step path and a 10,000-level tree answer at once', (t) => {
  let root: Node = { kind: 'str', value: 'leaf' };
  for (let i = 0; i < 10000; i++) root = { kind: 'map', items: [{ kind: 'entry', key: 'a', value: root }] };
  const started = performance.now();
  const deep = parseTreePath('["a"]'.repeat(10000));
  t.deepEqual(getAtPath(root, deep), { kind: 'str', value: 'leaf' });
  const long = parseTreePath('["a"]'.repeat(100000));
  const e = t.throws(() => getAtPath(root, long), { instanceOf: SopsError });
  t.is(e.exitCode, 1);
  t.true(e.message.length < 600, 'the message stays short');
  t.true(performance.now() - started < 3000, `took ${Math.round(performance.now() - started)} ms`);
});

const FILE = 'a: S3cr3t-Value-1\nb:\n    - x\n    - {c: Nested-Val-4}\n"0": zero\n';
const CLI_PATHS = fc.oneof(pathText, fc.constantFrom('["a"]', '["b"][1]["c"]', '["0"]', '["b"][1]', '["b"]["c"]', '["a"][0]', '[0]', '["b"][5]', '["b"][-1]'));

test('the real CLI: decrypt --extract with random paths prints the value or fails cleanly (91 / 1)', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('s.yaml', FILE);
  ws.write('e.yaml', await ws.encrypted('s.yaml'));
  const paths = fc.sample(CLI_PATHS, { numRuns: fuzzParams(20, 0.01).numRuns ?? 20, seed: fuzzParams(1).seed ?? 1 });
  for (const p of [...new Set(paths)]) {
    const r = await ws.run(['decrypt', '--extract', p, 'e.yaml']);
    const m = model(p);
    if (r.code === 0) {
      t.true('steps' in m, `accepted ${JSON.stringify(p)}`);
      continue;
    }
    assertCleanFailure(t, r, { code: 'error' in m ? 91 : 1, secrets: ['S3cr3t-Value-1', 'Nested-Val-4'] });
  }
  const ok = await ws.run(['decrypt', '--extract', '["b"][1]["c"]', 'e.yaml']);
  t.is(ok.out, 'Nested-Val-4');
});
