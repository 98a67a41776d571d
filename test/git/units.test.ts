// The pure parts of the git workflow: path_regex -> gitattributes patterns, the three-way tree
// merge, the tree diff, the .gitattributes block, and the plaintext guard's rule resolution.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storeFor } from '../../src/stores/index.js';
import type { MapNode } from '../../src/tree/types.js';
import { compileRe2 } from '../../src/config/regex.js';
import { FALLBACK_GLOBS, globsForRegex, underDirectory } from '../../src/git/globs.js';
import { mergeDocuments } from '../../src/git/tree-merge.js';
import { diffDocuments, renderChanges } from '../../src/git/tree-diff.js';
import { attributesBlock, BLOCK_END, BLOCK_START, withBlock } from '../../src/git/setup.js';
import { assertEncryptsSomething, effectiveRule } from '../../src/git/plaintext-guard.js';

const yaml = (text: string): MapNode[] => storeFor('yaml').load(new TextEncoder().encode(text), 'plain').documents;
const emit = (docs: MapNode[]): string => Buffer.from(storeFor('yaml').emit({ documents: docs })).toString('utf8');

test('globsForRegex maps literal directories and extensions, and gives up on what it cannot cover', (t) => {
  const cases: Array<[string, string[] | undefined]> = [
    ['^secrets/.*\\.yaml$', ['secrets/**/*.yaml']],
    ['secrets/.*\\.ya?ml$', ['**/*secrets/**/*.yaml', '**/*secrets/**/*.yml']],
    ['\\.enc\\.(json|yaml)$', ['*.enc.json', '*.enc.yaml']],
    ['(?:dev|prod)/.*\\.env$', ['*.env']],
    ['^prod/', ['prod/**']],
    ['^secrets\\.yaml$', ['/secrets.yaml']],
    ['^a/b\\.json$|^c/', ['a/b.json', 'c/**']],
    ['^dev/[^/]+\\.env$', ['dev/**/*.env']],
    ['.*', undefined],
    ['prod', undefined],
    ['(?i)^secrets/', undefined],
    ['', undefined],
  ];
  for (const [re, want] of cases) t.deepEqual(globsForRegex(re), want, re);
  t.is(underDirectory('*.yaml', 'infra'), 'infra/**/*.yaml');
  t.is(underDirectory('/secrets.yaml', 'infra'), 'infra/secrets.yaml');
  t.is(underDirectory('**/*secrets/**', 'infra'), 'infra/**/*secrets/**');
  t.true(FALLBACK_GLOBS.includes('*.json'));
});

test('every path a regex matches is covered by its patterns (checked with git check-attr)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tsops-globs-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  spawnSync('git', ['init', '-q', dir]);
  const regexes = ['^secrets/.*\\.yaml$', 'secrets/.*\\.ya?ml$', '\\.enc\\.(json|yaml)$', '^prod/', '/prod/.*\\.json$', 'config/secrets\\.yaml$'];
  const paths = [
    'secrets/a.yaml', 'secrets/x/y/a.yaml', 'secrets/a.yml', 'team/mysecrets/a.yaml', 'a/b/secrets/c.yml', 'x.enc.json', 'd/x.enc.yaml',
    'prod/any/file.bin', 'prod/a', 'a/prod/b.json', 'x/prod/y/z.json', 'config/secrets.yaml', 'app/config/secrets.yaml', 'README.md', 'a.yaml',
  ];
  for (const re of regexes) {
    writeFileSync(join(dir, '.gitattributes'), globsForRegex(re)!.map((g) => `${g} diff=tsops\n`).join(''));
    const out = spawnSync('git', ['check-attr', 'diff', '--', ...paths], { cwd: dir, encoding: 'utf8' }).stdout;
    for (const p of paths) {
      if (!compileRe2(re).test(p)) continue;
      t.true(out.includes(`${p}: diff: tsops\n`), `${re} matches ${p} but its patterns do not`);
    }
  }
});

test('mergeDocuments: different keys merge, the same change is fine, real conflicts are listed by key path', (t) => {
  const base = yaml('# head\na: 1\nb: {x: 1, w: 2}\nl: [1, 2, 3]\nc: keep\n');
  const ours = yaml('# head\na: 10\nb: {x: 1, w: 2, z: 3}\nl: [1, 20, 3]\nc: keep\nnn: new\n');
  const theirs = yaml('# head changed\na: 1\nb: {x: 5, w: 2}\nl: [1, 2, 30]\nd: added\nnn: new\n');
  const m = mergeDocuments(base, ours, theirs);
  t.deepEqual(m.conflicts, []);
  t.is(emit(m.documents), '# head changed\na: 10\nb:\n    x: 5\n    w: 2\n    z: 3\nl:\n    - 1\n    - 20\n    - 30\nd: added\nnn: new\n');

  const c = mergeDocuments(yaml('a: 1\nb: 1\nc: 1\nl: [1]\n'), yaml('a: 2\nb: 2\nl: [1, 2]\nn: 1\n'), yaml('a: 3\nc: 2\nl: [1, 3]\nn: 2\n'));
  t.deepEqual(c.conflicts, [
    { path: '["a"]', reason: 'changed differently on both sides' },
    { path: '["b"]', reason: 'changed in ours, deleted in theirs' },
    { path: '["c"]', reason: 'deleted in ours, changed in theirs' },
    { path: '["l"]', reason: 'list changed on both sides, with elements added or removed' },
    { path: '["n"]', reason: 'added on both sides with different values' },
  ]);
  const multi = mergeDocuments(yaml('a: 1\n---\nb: 1\n'), yaml('a: 2\n---\nb: 2\n'), yaml('a: 1\n---\nb: 3\n'));
  t.deepEqual(multi.conflicts, [{ path: 'document 2: ["b"]', reason: 'changed differently on both sides' }]);
  const empty = mergeDocuments([], yaml('a: 1\nb: 2\n'), yaml('a: 1\nc: 3\n'));
  t.deepEqual(empty.conflicts, []);
  t.is(emit(empty.documents), 'a: 1\nb: 2\nc: 3\n');
});

test('diffDocuments aligns lists and renders masked or shown values', (t) => {
  const changes = diffDocuments(yaml('l: [a, b, c]\nm: {k: 1}\n'), yaml('l: [x, a, b, c]\nm: {k: 1.5}\n'));
  t.is(renderChanges(changes), '+ ["l"][0]: <added string>\n~ ["m"]["k"]: <changed: int -> float>\n');
  t.is(renderChanges(changes, { showValues: true }), '+ ["l"][0]: "x"\n~ ["m"]["k"]: 1 -> 1.5\n');
  t.deepEqual(diffDocuments(yaml('a: 1\n'), yaml('a: 1\n')), []);
});

test('the .gitattributes block is added, replaced in place and removed without touching other lines', (t) => {
  const block = attributesBlock([{ ruleIndex: 0, pathRegex: '^s/', globs: ['s/**'], fallback: false }]);
  t.true(block.startsWith(`${BLOCK_START}\n`) && block.endsWith(`${BLOCK_END}\n`));
  const user = '*.png binary\n';
  const added = withBlock(user, block);
  t.is(added, user + block);
  t.is(withBlock(added, block), added);
  const other = attributesBlock([{ ruleIndex: 0, globs: ['*.yaml'], fallback: true }]);
  t.is(withBlock(added + '*.jpg binary\n', other), user + other + '*.jpg binary\n');
  t.is(withBlock(added + '*.jpg binary\n', undefined), user + '*.jpg binary\n');
  t.is(withBlock('no newline', block), `no newline\n${block}`);
});

test('the plaintext guard follows resolveSettings: a flag overrides the same field of the rule', (t) => {
  const rule = { keyGroups: [], encryptionRule: { field: 'encrypted_regex' as const, value: '^x$' } };
  t.deepEqual(effectiveRule({}, rule)?.rule, rule.encryptionRule);
  t.deepEqual(effectiveRule({ encrypted_regex: '^y$' }, rule)?.rule, { field: 'encrypted_regex', value: '^y$' });
  t.is(effectiveRule({ encrypted_suffix: '_s' }, rule), undefined, 'two selection rules: left to the encryption to refuse');
  t.is(effectiveRule({}, undefined)?.rule, undefined);
  t.throws(() => assertEncryptsSomething(yaml('a: 1\nb_unencrypted: 2\n'), { field: 'encrypted_regex', value: '^c$' }, { name: 'f', from: 'x' }), { message: /selects none of its 2 values/ });
  t.notThrows(() => assertEncryptsSomething(yaml('a: 1\n'), undefined, { name: 'f', from: 'x' }));
  t.notThrows(() => assertEncryptsSomething(yaml('a: ""\nb: null\n'), { field: 'encrypted_regex', value: '^c$' }, { name: 'f', from: 'x' }));
});
