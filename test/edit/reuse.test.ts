// `tsops encrypt --reuse OLD.enc.yaml new.yaml`: encrypt a new plaintext as the next version of
// an encrypted file, keeping its data key, recipients and the ciphertext of every unchanged
// value, so that the git diff shows only what changed (plus lastmodified and mac).
import test, { type ExecutionContext } from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { norm } from '../helpers/interop.js';
import { runOracle } from '../helpers/oracle.js';
import { sharedTest } from '../helpers/shared.js';
import { lineChanges, workspace, type Workspace } from './_support.js';

const PLAIN = [
  '# database settings',
  'db:',
  '    host: db.internal',
  '    port: 5432',
  '    password: s3cret',
  '    replicas:',
  '        - r1.internal',
  '        - r2.internal',
  'api_key: k-123',
  'debug: false',
  'ratio: 0.25',
  '',
].join('\n');

/** OLD.enc.yaml (from PLAIN) and new.yaml (PLAIN with `edit` applied) in a workspace. */
async function setup(t: ExecutionContext, edit: (plain: string) => string): Promise<{ ws: Workspace; old: string; next: string }> {
  const ws = workspace(t);
  const old = await ws.encryptTo('OLD.enc.yaml', PLAIN);
  const next = edit(PLAIN);
  ws.write('new.yaml', next);
  return { ws, old, next };
}

/** Every removed/added line is one of the expected value lines (by key prefix), lastmodified or mac. */
function assertDiffOnly(t: ExecutionContext, before: string, after: string, prefixes: string[], expectAdded = prefixes, expectRemoved = prefixes): void {
  const { removed, added } = lineChanges(before, after);
  const ok = (l: string) => prefixes.some((p) => l.startsWith(p)) || /^ {4}(lastmodified|mac): /.test(l);
  t.deepEqual(removed.filter((l) => !ok(l)), [], 'no other line removed');
  t.deepEqual(added.filter((l) => !ok(l)), [], 'no other line added');
  for (const p of expectRemoved) t.true(removed.some((l) => l.startsWith(p)), `the ${p} line was replaced`);
  for (const p of expectAdded) t.true(added.some((l) => l.startsWith(p)), `a new ${p} line`);
  t.true(added.some((l) => l.startsWith('    mac: ENC[')), 'a new mac');
}

test('one value changed: only that value, lastmodified and mac differ', async (t) => {
  const { ws, old, next } = await setup(t, (p) => p.replace('password: s3cret', 'password: n3w-s3cret'));
  const r = await ws.run(['encrypt', '--reuse', 'OLD.enc.yaml', 'new.yaml']);
  t.is(r.code, 0, r.stderr);
  assertDiffOnly(t, old, r.out, ['    password: ENC[']);
  t.true(lineChanges(old, r.out).removed.length <= 3, 'at most 3 lines replaced');
  ws.write('result.enc.yaml', r.out);
  t.is(await ws.decrypt('result.enc.yaml'), next);
  // same data key: the recipients block is unchanged
  const a = parseYaml(old) as { sops: { age: unknown } };
  const b = parseYaml(r.out) as { sops: { age: unknown } };
  t.deepEqual(b.sops.age, a.sops.age);
});

test('identical plaintext: the output is byte-identical to OLD', async (t) => {
  const { ws, old } = await setup(t, (p) => p);
  const r = await ws.run(['encrypt', '--reuse', 'OLD.enc.yaml', 'new.yaml']);
  t.is(r.code, 0, r.stderr);
  t.is(r.out, old);
  // also when the new plaintext is only formatted differently
  ws.write('reformatted.yaml', PLAIN.replace(/^ {4}/gm, '  ').replace(/^ {6}- /gm, '    - ') + '\n\n');
  const r2 = await ws.run(['encrypt', '--reuse', 'OLD.enc.yaml', 'reformatted.yaml']);
  t.is(r2.code, 0, r2.stderr);
  t.is(r2.out, old);
});

test('keys added, removed and a list element changed; --output over OLD itself', async (t) => {
  const { ws, old, next } = await setup(t, (p) => p.replace('api_key: k-123\n', '').replace('r2.internal', 'r3.internal') + 'added: yes-it-is\n');
  const r = await ws.run(['encrypt', '--reuse', 'OLD.enc.yaml', '--output', 'OLD.enc.yaml', 'new.yaml']);
  t.is(r.code, 0, r.stderr);
  t.is(r.out, '');
  const after = ws.read('OLD.enc.yaml');
  assertDiffOnly(t, old, after, ['api_key: ENC[', '        - ENC[', 'added: ENC['], ['        - ENC[', 'added: ENC['], ['api_key: ENC[', '        - ENC[']);
  const { removed } = lineChanges(old, after);
  t.is(removed.filter((l) => l.startsWith('        - ENC[')).length, 1, 'only the changed list element');
  t.is(await ws.decrypt('OLD.enc.yaml'), next);
});

test('JSON: one value changed, and the identical plaintext gives the same bytes', async (t) => {
  const ws = workspace(t);
  const plain = '{\n\t"user": "admin",\n\t"pass": "one",\n\t"n": 1\n}\n';
  const old = await ws.encryptTo('old.enc.json', plain);
  ws.write('same.json', plain);
  ws.write('next.json', plain.replace('"one"', '"two"'));
  const same = await ws.run(['encrypt', '--reuse', 'old.enc.json', 'same.json']);
  t.is(same.code, 0, same.stderr);
  t.is(same.out, old);
  const next = await ws.run(['encrypt', '--reuse', 'old.enc.json', 'next.json']);
  t.is(next.code, 0, next.stderr);
  const { removed, added } = lineChanges(old, next.out);
  // The value and the mac always change; lastmodified too unless both writes fell in the same
  // second (it has second precision).
  const lm = added.some((l) => l.includes('"lastmodified"')) ? 1 : 0;
  t.is(removed.length, 2 + lm, removed.join('\n'));
  t.is(added.length, 2 + lm, added.join('\n'));
  t.true(added.some((l) => l.includes('"mac"')), added.join('\n'));
  t.true(added[0]!.startsWith('\t"pass": "ENC['), added.join('\n'));
  ws.write('r.enc.json', next.out);
  t.deepEqual(JSON.parse(await ws.decrypt('r.enc.json')), { user: 'admin', pass: 'two', n: 1 });
});

test('an OLD file no key here can open: exit 128, nothing written', async (t) => {
  const { ws } = await setup(t, (p) => p.replace('s3cret', 'other'));
  const r = await ws.run(['encrypt', '--reuse', 'OLD.enc.yaml', 'new.yaml'], { extraEnv: { SOPS_AGE_KEY_FILE: join(ws.home, 'missing.txt') } });
  t.is(r.code, 128, r.stderr);
  t.is(r.out, '');
  t.notRegex(r.stderr, /s3cret|other/);
});

sharedTest('the results decrypt with tsops and with sops 3.9.2 (yaml and json)', async (t) => {
  const { ws, next } = await setup(t, (p) => p.replace('port: 5432', 'port: 6543').replace('debug: false', 'debug: true'));
  const r = await ws.run(['encrypt', '--reuse', 'OLD.enc.yaml', 'new.yaml']);
  t.is(r.code, 0, r.stderr);
  assertDiffOnly(t, ws.read('OLD.enc.yaml'), r.out, ['    port: ENC[', 'debug: ENC[']);
  ws.write('result.enc.yaml', r.out);
  t.is(await ws.decrypt('result.enc.yaml'), next);
  const o = await runOracle(r.out, { format: 'yaml', ageKey: ws.key.identity, asJson: true });
  t.is(o.code, 0, o.stderr);
  t.deepEqual(norm(JSON.parse(o.stdout)), norm(parseYaml(next)));
  // --reuse converting: the YAML version as the old file, a JSON plaintext as the new one
  writeFileSync(join(ws.dir, 'next.json'), JSON.stringify({ ...(parseYaml(next) as object), extra: 'x' }));
  const j = await ws.run(['encrypt', '--reuse', 'result.enc.yaml', 'next.json']);
  t.is(j.code, 0, j.stderr);
  const oj = await runOracle(j.out, { format: 'json', ageKey: ws.key.identity });
  t.is(oj.code, 0, oj.stderr);
  t.deepEqual(norm(JSON.parse(oj.stdout)), norm({ ...(parseYaml(next) as object), extra: 'x' }));
  t.is(readFileSync(join(ws.dir, 'result.enc.yaml'), 'utf8'), r.out, 'OLD is not modified');
});
