// `tsops set` / `tsops unset` (and the legacy `--set '["a"] "v"' -i FILE`). First the set/unset
// scenarios of getsops/sops functional-tests/src/lib.rs with the same inputs and checks, all
// run with a fresh age key (--age to encrypt, SOPS_AGE_KEY_FILE to decrypt), three also with the
// vector PGP key behind functional-tests/.sops.yaml's catch-all rule as sops runs them, where the
// real sops 3.9.2 engine must decrypt every file set/unset wrote. Then tsops's own guarantees:
// minimal git diffs, no rewrite when nothing changes, sops's exit codes.
import test, { type ExecutionContext } from 'ava';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ageKeygen, baseEnv, runCli, tempDir, type CliOptions } from '../helpers/cli.js';
import { hasGpg, makeGnupgHome, VECTOR_FP, VECTOR_KEY_FILE } from '../helpers/gpg.js';
import { norm } from '../helpers/interop.js';
import { runOracle, type OracleOptions } from '../helpers/oracle.js';
import { sharedTest } from '../helpers/shared.js';
import { assertOnlyChanged, assertSmallGitDiff, assertUntouched, fileState, freeze, gitInit, numstat, workspace } from './_support.js';

type Mode = 'age' | 'pgp';

interface Ctx {
  mode: Mode;
  /** sops's functional-tests/ (the working directory; holds .sops.yaml in pgp mode). */
  dir: string;
  /** sops's TMP_DIR: where prepare_temp_file writes. */
  tmp: string;
  env: Record<string, string>;
  /** Recipient flags for encrypt: none for pgp (the .sops.yaml rule), --age for age. */
  keyArgs: string[];
  oracleKeys: Pick<OracleOptions, 'ageKey' | 'pgpKeyFiles'>;
}

function setup(t: ExecutionContext, mode: Mode): Ctx {
  const home = tempDir(t);
  const dir = join(home, 'functional-tests');
  mkdirSync(dir);
  const tmp = tempDir(t, 'sops-functional-tests');
  if (mode === 'pgp') {
    if (!hasGpg()) throw new Error('gpg is required for the pgp variant of the functional tests');
    writeFileSync(join(dir, '.sops.yaml'), `creation_rules:\n    - pgp: ${VECTOR_FP}\n`);
    const gnupg = makeGnupgHome(t, { importVectorKey: true });
    return { mode, dir, tmp, env: { ...baseEnv(home), GNUPGHOME: gnupg }, keyArgs: [], oracleKeys: { pgpKeyFiles: [VECTOR_KEY_FILE] } };
  }
  const key = ageKeygen(home);
  return { mode, dir, tmp, env: { ...baseEnv(home), SOPS_AGE_KEY_FILE: key.keyFile }, keyArgs: ['--age', key.recipient], oracleKeys: { ageKey: key.identity } };
}

function prepareTempFile(ctx: Ctx, name: string, contents: string): string {
  const p = join(ctx.tmp, name);
  writeFileSync(p, contents);
  return p;
}

function sops(ctx: Ctx, args: string[], opts: Omit<CliOptions, 'env' | 'cwd'> = {}) {
  return runCli(args, { cwd: ctx.dir, env: ctx.env, ...opts });
}

/** `sops encrypt -i FILE` (or the legacy `-e -i`) with the mode's recipients. */
async function encryptInPlace(t: ExecutionContext, ctx: Ctx, file: string, legacy = false): Promise<void> {
  const r = await sops(ctx, [legacy ? '-e' : 'encrypt', ...ctx.keyArgs, '-i', file]);
  t.is(r.code, 0, `sops didn't exit successfully: ${r.stderr}`);
}

/** assert_encrypted!: the value under `key` is a string starting with ENC[. */
function assertEncrypted(t: ExecutionContext, m: unknown, key: string): void {
  const v = (m as Record<string, unknown> | undefined)?.[key];
  t.is(typeof v, 'string', `value under ${key} is not a string`);
  t.true((v as string).startsWith('ENC['), `value under ${key} is not encrypted`);
}

/** In pgp mode (a sharedTest): real sops 3.9.2 decrypts `file` to `expected`. */
async function oracleAgrees(t: ExecutionContext, ctx: Ctx, file: string, format: 'yaml' | 'json', expected: unknown): Promise<void> {
  if (ctx.mode !== 'pgp') return;
  const r = await runOracle(readFileSync(file), { format, asJson: true, ...ctx.oracleKeys });
  t.is(r.code, 0, `sops 3.9.2 could not decrypt ${file}: ${r.stderr}`);
  t.deepEqual(norm(JSON.parse(r.stdout)), norm(expected));
}

/**
 * Registers a scenario with the age key; `pgp` adds the variant with the vector PGP key behind
 * the .sops.yaml catch-all rule, whose files the real sops 3.9.2 engine must decrypt too (the
 * variant is a sharedTest: the key and the oracle live in ../shared). One process per tsops run
 * makes these the slow tests, so only some scenarios run both ways.
 */
function scenario(title: string, fn: (t: ExecutionContext, ctx: Ctx) => Promise<void>, pgp = false): void {
  test(`${title} (age)`, (t) => fn(t, setup(t, 'age')));
  if (pgp) sharedTest(`${title} (pgp, checked by sops 3.9.2)`, (t) => fn(t, setup(t, 'pgp')));
}

const AB_JSON = '{"a": 2, "b": "ba"}';

scenario('set_json_file_update', async (t, ctx) => {
  const file = prepareTempFile(ctx, 'test_set_update.json', AB_JSON);
  await encryptInPlace(t, ctx, file);
  const r = await sops(ctx, ['set', file, '["a"]', '{"aa": "aaa"}']);
  t.is(r.code, 0, r.stderr);
  const data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  assertEncrypted(t, data.a, 'aa');
  await oracleAgrees(t, ctx, file, 'json', { a: { aa: 'aaa' }, b: 'ba' });
});

scenario('set_json_file_update_idempotent_write', async (t, ctx) => {
  const file = prepareTempFile(ctx, 'test_set_update_idempotent_write.json', AB_JSON);
  await encryptInPlace(t, ctx, file);
  const before = readFileSync(file, 'utf8');
  const r = await sops(ctx, ['set', '--output-type', 'yaml', file, '["b"]', '"ba"']);
  t.is(r.code, 0, r.stderr);
  const after = readFileSync(file, 'utf8');
  t.not(before, after);
  t.true(after.startsWith('a: '));
  const d = await sops(ctx, ['decrypt', '--input-type', 'yaml', '--output-type', 'yaml', file]);
  t.is(d.out, 'a: 2\nb: ba\n');
  await oracleAgrees(t, ctx, file, 'yaml', { a: 2, b: 'ba' });
}, true);

scenario('set_json_file_update_idempotent_nowrite', async (t, ctx) => {
  const file = prepareTempFile(ctx, 'test_set_update_idempotent_nowrite.json', AB_JSON);
  await encryptInPlace(t, ctx, file);
  const before = readFileSync(file, 'utf8');
  const r = await sops(ctx, ['set', '--output-type', 'yaml', '--idempotent', file, '["b"]', '"ba"']);
  t.is(r.code, 0, r.stderr);
  t.is(readFileSync(file, 'utf8'), before);
});

/** The three set_json_file_insert variants: the value as an argument, in a file, on stdin. */
for (const how of ['argument', 'value_file', 'value_stdin'] as const) {
  const title = how === 'argument' ? 'set_json_file_insert' : `set_json_file_insert_with_${how}`;
  scenario(title, async (t, ctx) => {
    const file = prepareTempFile(ctx, `test_${title}.json`, AB_JSON);
    await encryptInPlace(t, ctx, file);
    const value = '{"cc": "ccc"}';
    const r =
      how === 'argument'
        ? await sops(ctx, ['set', file, '["c"]', value])
        : how === 'value_file'
          ? await sops(ctx, ['set', '--value-file', file, '["c"]', prepareTempFile(ctx, 'insert_value_file.json', value)])
          : await sops(ctx, ['set', '--value-stdin', file, '["c"]'], { input: value });
    t.is(r.code, 0, r.stderr);
    const data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    assertEncrypted(t, data.c, 'cc');
    await oracleAgrees(t, ctx, file, 'json', { a: 2, b: 'ba', c: { cc: 'ccc' } });
  });
}

for (const [title, path, expected] of [
  ['set_yaml_file_update', '["a"]', { a: { aa: 'aaa' }, b: 'ba' }],
  ['set_yaml_file_insert', '["c"]', { a: 2, b: 'ba', c: { cc: 'ccc' } }],
] as const) {
  scenario(title, async (t, ctx) => {
    const file = prepareTempFile(ctx, `test_${title}.yaml`, 'a: 2\nb: ba');
    await encryptInPlace(t, ctx, file);
    const r = await sops(ctx, ['set', file, path, `{"${path[2]!.repeat(2)}": "${path[2]!.repeat(3)}"}`]);
    t.is(r.code, 0, r.stderr);
    const data = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>;
    assertEncrypted(t, data[path[2]!], path[2]!.repeat(2));
    await oracleAgrees(t, ctx, file, 'yaml', expected);
  });
}

for (const compat of [false, true]) {
  scenario(compat ? 'set_yaml_file_string_compat' : 'set_yaml_file_string', async (t, ctx) => {
    const file = prepareTempFile(ctx, compat ? 'test_set_string_compat.yaml' : 'test_set_string.yaml', 'a: 2\nb: ba');
    await encryptInPlace(t, ctx, file, compat);
    const s = await sops(ctx, compat ? ['--set', '["a"] "aaa"', '-i', file] : ['set', file, '["a"]', '"aaa"']);
    t.is(s.code, 0, s.stderr);
    await oracleAgrees(t, ctx, file, 'yaml', { a: 'aaa', b: 'ba' });
    const d = await sops(ctx, compat ? ['-d', '-i', file] : ['decrypt', '-i', file]);
    t.is(d.code, 0, d.stderr);
    const data = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>;
    t.is(data.a, 'aaa');
  }, compat);
}

for (const format of ['json', 'yaml'] as const) {
  scenario(`unset_${format}_file`, async (t, ctx) => {
    // sops writes the same JSON text into both files (a flow mapping is valid YAML)
    const file = prepareTempFile(ctx, `test_unset.${format}`, '{"a": 2, "b": "ba", "c": [1,2]}');
    await encryptInPlace(t, ctx, file);
    const parse = (s: string) => (format === 'json' ? JSON.parse(s) : parseYaml(s)) as Record<string, unknown>;
    // removal of a tree branch
    let r = await sops(ctx, ['unset', file, '["a"]']);
    t.is(r.code, 0, r.stderr);
    let content = readFileSync(file, 'utf8');
    t.false('a' in parse(content));
    t.true('b' in parse(content));
    await oracleAgrees(t, ctx, file, format, { b: 'ba', c: [1, 2] });
    // idempotent unset
    r = await sops(ctx, ['unset', '--idempotent', file, '["a"]']);
    t.is(r.code, 0, r.stderr);
    t.is(readFileSync(file, 'utf8'), content);
    // removal of a list item (sops removes [1] from the JSON file and [0] from the YAML one)
    r = await sops(ctx, ['unset', file, format === 'json' ? '["c"][1]' : '["c"][0]']);
    t.is(r.code, 0, r.stderr);
    content = readFileSync(file, 'utf8');
    t.is((parse(content).c as unknown[]).length, 1);
    await oracleAgrees(t, ctx, file, format, { b: 'ba', c: [format === 'json' ? 1 : 2] });
    // idempotent unset of a list item
    r = await sops(ctx, ['unset', '--idempotent', file, '["c"][1]']);
    t.is(r.code, 0, r.stderr);
    t.is(readFileSync(file, 'utf8'), content);
  }, format === 'yaml');
}

// ---- beyond the sops scenarios ----

const HUNDRED = Array.from({ length: 100 }, (_, i) => `key${String(i).padStart(3, '0')}: value-${i}`).join('\n') + '\n';

test('set of one key in a 100-key file: git diff --numstat shows at most 3 changed lines', async (t) => {
  const ws = workspace(t);
  const before = await ws.encryptTo('big.yaml', HUNDRED);
  gitInit(ws);
  const r = await ws.run(['set', 'big.yaml', '["key042"]', '"changed"']);
  t.is(r.code, 0, r.stderr);
  assertSmallGitDiff(t, ws, 'big.yaml');
  assertOnlyChanged(t, before, ws.read('big.yaml'), ['key042: ENC[']);
  t.is(await ws.decrypt('big.yaml'), HUNDRED.replace('value-42\n', 'changed\n'));
  // unset of one key: one line fewer, lastmodified and mac
  const u = await ws.run(['unset', 'big.yaml', '["key007"]']);
  t.is(u.code, 0, u.stderr);
  const [added, deleted] = numstat(ws)['big.yaml'] ?? [0, 0];
  t.true(added <= 3 && deleted <= 4, `unset after set: +${added} -${deleted}`);
  t.false(ws.read('big.yaml').includes('key007:'));
});

test('set of the value already there leaves the file byte-identical, mtime and inode too (with and without --idempotent)', async (t) => {
  const ws = workspace(t);
  await ws.encryptTo('s.json', '{"a": 2, "b": "ba", "n": {"x": [1, 2.5, true]}}');
  const file = join(ws.dir, 's.json');
  const st = freeze(file);
  for (const [path, value, extra] of [
    ['["b"]', '"ba"', []],
    ['["a"]', '2', ['--idempotent']],
    ['["n"]', '{"x": [1, 2.5, true]}', []],
    ['["n"]["x"][2]', 'true', ['--idempotent']],
  ] as const) {
    const r = await ws.run(['set', ...extra, 's.json', path, value]);
    t.is(r.code, 0, r.stderr);
    assertUntouched(t, file, st);
  }
  // a different type is a change: 2 (int) -> "2" (string)
  const r = await ws.run(['set', 's.json', '["a"]', '"2"']);
  t.is(r.code, 0, r.stderr);
  t.not(fileState(file).bytes.toString(), st.bytes.toString());
  t.deepEqual(JSON.parse(await ws.decrypt('s.json')).a, '2');
});

test('set creates intermediate maps, and appends to a list by an index past its end', async (t) => {
  const ws = workspace(t);
  await ws.encryptTo('s.yaml', 'a: 1\nlist:\n    - x\n');
  let r = await ws.run(['set', 's.yaml', '["new"]["deep"]["er"]', '{"k": [1, "two"]}']);
  t.is(r.code, 0, r.stderr);
  r = await ws.run(['set', 's.yaml', '["list"][7]', '"appended"']);
  t.is(r.code, 0, r.stderr);
  r = await ws.run(['set', 's.yaml', '["list"][0]', '"replaced"']);
  t.is(r.code, 0, r.stderr);
  r = await ws.run(['set', 's.yaml', '["list"][9]["m"]', '5']);
  t.is(r.code, 0, r.stderr);
  const expected = 'a: 1\nlist:\n    - replaced\n    - appended\n    - m: 5\nnew:\n    deep:\n        er:\n            k:\n                - 1\n                - two\n';
  t.is(await ws.decrypt('s.yaml'), expected);
  const enc = parseYaml(ws.read('s.yaml')) as { new: { deep: { er: { k: string[] } } }; list: string[] };
  t.regex(enc.new.deep.er.k[1]!, /^ENC\[AES256_GCM,.*type:str\]$/);
  t.regex(enc.list[1]!, /^ENC\[/);
});

test('set with an invalid JSON value: exit 7, file untouched', async (t) => {
  const ws = workspace(t);
  await ws.encryptTo('s.yaml', 'a: 1\n');
  const file = join(ws.dir, 's.yaml');
  const st = freeze(file);
  for (const bad of ['{bad', 'unquoted', '1 2']) {
    const r = await ws.run(['set', 's.yaml', '["a"]', bad]);
    t.is(r.code, 7, `value ${JSON.stringify(bad)}: ${r.stderr}`);
    t.regex(r.stderr, /^tsops: error: .*JSON/m);
  }
  const viaStdin = await ws.run(['set', '--value-stdin', 's.yaml', '["a"]'], { input: '{"x": ' });
  t.is(viaStdin.code, 7, viaStdin.stderr);
  assertUntouched(t, file, st);
});

// sops answers a set/unset path it cannot parse with exit 7 (ErrorInvalidSetFormat: "Invalid set
// index format", cmd/sops/main.go), not with --extract's 91.
test('set/unset with a bad path: exit 7, file untouched; unset of a missing key: exit 1 unless --idempotent', async (t) => {
  const ws = workspace(t);
  await ws.encryptTo('s.yaml', 'a: 1\nl: [1]\n');
  const file = join(ws.dir, 's.yaml');
  const st = freeze(file);
  for (const [cmd, bad] of [['set', 'a'], ['set', '[a]'], ['unset', '["a"]x']] as const) {
    const r = await ws.run([cmd, 's.yaml', bad, ...(cmd === 'set' ? ['1'] : [])]);
    t.is(r.code, 7, `${cmd} path ${JSON.stringify(bad)}: ${r.stderr}`);
    t.is(r.stderr.match(/^tsops: error: /gm)?.length, 1, r.stderr);
  }
  const missing = await ws.run(['unset', 's.yaml', '["nope"]']);
  t.is(missing.code, 1, missing.stderr);
  t.regex(missing.stderr, /not found/);
  const idem = await ws.run(['unset', '--idempotent', 's.yaml', '["nope"]["deeper"]']);
  t.is(idem.code, 0, idem.stderr);
  assertUntouched(t, file, st);
});

sharedTest('files written by set and unset (yaml, json, dotenv, ini) decrypt with sops 3.9.2', async (t) => {
  const ws = workspace(t);
  const cases = [
    { name: 's.yaml', format: 'yaml', plain: '# top\na: 1\nb:\n    c: [1, 2]\n', steps: [['set', '["b"]["d"]', '{"e": 1.5, "f": null}'], ['unset', '["b"]["c"][0]'], ['set', '["z"]', '"last"']], expected: { a: 1, b: { c: [2], d: { e: 1.5, f: null } }, z: 'last' } },
    { name: 's.json', format: 'json', plain: '{"a": 1, "b": {"c": [1, 2]}}', steps: [['set', '["b"]["c"][5]', 'false'], ['unset', '["a"]'], ['set', '["k"]', '"v"']], expected: { b: { c: [1, 2, false] }, k: 'v' } },
    { name: 's.env', format: 'dotenv', plain: 'A=1\nB=two\n', steps: [['set', '["B"]', '"zwei"'], ['set', '["C"]', '"3"'], ['unset', '["A"]']], expected: { B: 'zwei', C: '3' } },
    // the oracle verifies INI files (MAC included) but cannot print INI plaintext
    { name: 's.ini', format: 'ini', plain: '[sec]\nk = v\nx = y\n', steps: [['set', '["sec"]["k"]', '"w"'], ['unset', '["sec"]["x"]']], expected: undefined },
  ] as const;
  for (const c of cases) {
    await ws.encryptTo(c.name, c.plain);
    for (const [cmd, path, value] of c.steps) {
      const r = await ws.run([cmd, c.name, path, ...(value !== undefined ? [value] : [])]);
      t.is(r.code, 0, `${c.name} ${cmd} ${path}: ${r.stderr}`);
    }
    const o = await runOracle(readFileSync(join(ws.dir, c.name)), { format: c.format, ageKey: ws.key.identity, asJson: c.format === 'yaml' || c.format === 'dotenv' });
    t.is(o.code, 0, `sops 3.9.2 rejected ${c.name}: ${o.stderr}`);
    if (c.expected) t.deepEqual(norm(JSON.parse(o.stdout)), norm(c.expected), c.name);
    else t.is(await ws.decrypt(c.name), '[sec]\nk = w\n');
  }
});
