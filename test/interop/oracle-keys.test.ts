// Key kinds and key groups of files tsops encrypts, checked with the real sops 3.9.2 engine:
// age (a fresh library identity and one from `age-keygen`), PGP through gpg (the getsops/sops
// functional-test key imported into a temporary GNUPGHOME; the oracle gets the same .asc, or
// that GNUPGHOME), age and PGP in one group, and Shamir 2-of-3 over three key groups.
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decrypt, encrypt, generateAgeIdentity, makeKeyContext, type KeyContext } from '../../src/index.js';
import type { FormatName } from '../../src/stores/types.js';
import { hasGpg, makeGnupgHome, tempDir, VECTOR_FP, VECTOR_KEY_FILE } from '../helpers/gpg.js';
import { ageContext, assertOracleOk, norm, oracleYamlData, sharedAgeKey, tsopsDecryptCode } from '../helpers/interop.js';
import { runOracle } from '../helpers/oracle.js';
import { sharedTest } from '../helpers/shared.js';

const DOC = 'db:\n    user: admin\n    password: hunter2\nport: 5432\nlist: [a, {b: c}]\n';
const DOC_DATA = norm({ db: { user: 'admin', password: 'hunter2' }, port: 5432, list: ['a', { b: 'c' }] });

/** A key context for gpg in `home` (nothing else: no age keys, no user home). */
function gpgContext(home: string, extra: Record<string, string> = {}): KeyContext {
  return makeKeyContext({ env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GNUPGHOME: home, ...extra }, homeDir: '/nonexistent-tsops-home' });
}

sharedTest('age: a fresh library identity and an age-keygen identity both work in sops 3.9.2', async (t) => {
  const lib = await generateAgeIdentity();
  const dir = tempDir(t, 'tsops-agekeygen-');
  const keyFile = join(dir, 'keys.txt');
  const gen = spawnSync('age-keygen', ['-o', keyFile], { encoding: 'utf8' });
  if (gen.status !== 0) return t.fail(`age-keygen failed: ${gen.stderr}`);
  const recipient = /age1[0-9a-z]+/.exec(gen.stderr)![0];
  const identity = /AGE-SECRET-KEY-1[0-9A-Z]+/.exec(readFileSync(keyFile, 'utf8'))![0];
  for (const [who, key] of [['library', lib], ['age-keygen', { identity, recipient }]] as const) {
    const enc = await encrypt(DOC, { inputType: 'yaml', age: [key.recipient], keyContext: ageContext(key.identity) });
    const r = await runOracle(enc, { format: 'yaml', ageKey: key.identity });
    assertOracleOk(t, r, `the file for the ${who} identity`);
    t.deepEqual(oracleYamlData(r.stdout), DOC_DATA);
  }
  // tsops reads the age-keygen file through SOPS_AGE_KEY_FILE.
  const enc = await encrypt(DOC, { inputType: 'yaml', age: [recipient], keyContext: ageContext(identity) });
  const ctx = makeKeyContext({ env: { SOPS_AGE_KEY_FILE: keyFile }, homeDir: '/nonexistent-tsops-home' });
  t.is(await decrypt(enc, { inputType: 'yaml', keyContext: ctx }), 'db:\n    user: admin\n    password: hunter2\nport: 5432\nlist:\n    - a\n    - b: c\n');
});

const PLAINS: Array<[FormatName, string]> = [
  ['yaml', DOC],
  ['json', '{"db": {"user": "admin", "password": "hunter2"}, "port": 5432}'],
  ['dotenv', '# comment\nUSER=admin\nPASSWORD=hunter2\n'],
  ['ini', '[db]\nuser = admin\npassword = hunter2\n'],
  ['binary', 'raw bytes\nof a file\n'],
];

sharedTest('pgp through gpg: every format decrypts in sops 3.9.2 with the vector key (.asc) and with the GNUPGHOME', async (t) => {
  if (!hasGpg()) return t.fail('gpg is required for the PGP interop tests');
  const home = makeGnupgHome(t, { importVectorKey: true });
  const ctx = gpgContext(home);
  for (const [format, plain] of PLAINS) {
    const enc = await encrypt(plain, { inputType: format, pgp: [VECTOR_FP], keyContext: ctx });
    t.regex(enc, /-----BEGIN PGP MESSAGE-----/);
    const r = await runOracle(enc, { format, pgpKeyFiles: [VECTOR_KEY_FILE] });
    assertOracleOk(t, r, `the ${format} file`);
    if (format === 'dotenv' || format === 'binary') t.is(r.stdout, plain, format);
    if (format === 'yaml') t.deepEqual(oracleYamlData(r.stdout), DOC_DATA);
    if (format === 'json') t.deepEqual(norm(JSON.parse(r.stdout)), norm(JSON.parse(plain)));
  }
  // sops's gpg-binary path, in the GNUPGHOME that encrypted.
  const enc = await encrypt(DOC, { inputType: 'yaml', pgp: [VECTOR_FP], keyContext: ctx });
  const r = await runOracle(enc, { format: 'yaml', gnupghome: home });
  assertOracleOk(t, r, 'the file (gnupghome mode)');
  t.deepEqual(oracleYamlData(r.stdout), DOC_DATA);
  t.is((await tsopsDecryptCode(enc, 'yaml', ctx)).code, 0);
});

sharedTest('age and pgp in one key group: either key alone decrypts in sops 3.9.2', async (t) => {
  if (!hasGpg()) return t.fail('gpg is required for the PGP interop tests');
  const home = makeGnupgHome(t, { importVectorKey: true });
  const age = await sharedAgeKey();
  const enc = await encrypt(DOC, { inputType: 'yaml', age: [age.recipient], pgp: [VECTOR_FP], keyContext: gpgContext(home) });
  t.regex(enc, /^ {4}age:$/m);
  t.regex(enc, /^ {4}pgp:$/m);
  const byAge = await runOracle(enc, { format: 'yaml', ageKey: age.identity });
  assertOracleOk(t, byAge, 'the file (age key only)');
  t.deepEqual(oracleYamlData(byAge.stdout), DOC_DATA);
  const byPgp = await runOracle(enc, { format: 'yaml', pgpKeyFiles: [VECTOR_KEY_FILE] });
  assertOracleOk(t, byPgp, 'the file (PGP key only)');
  t.deepEqual(oracleYamlData(byPgp.stdout), DOC_DATA);
});

sharedTest('shamir 2 of 3 age key groups: any two identities decrypt in sops 3.9.2, one does not (tsops agrees)', async (t) => {
  const ids = await Promise.all([generateAgeIdentity(), generateAgeIdentity(), generateAgeIdentity()]);
  const enc = await encrypt(DOC, {
    inputType: 'yaml',
    keyGroups: ids.map((i) => [{ type: 'age', recipient: i.recipient }]),
    shamirThreshold: 2,
    keyContext: ageContext(ids[0]!.identity),
  });
  t.regex(enc, /^ {4}shamir_threshold: 2$/m);
  t.is(enc.match(/^ {8}- age:$/gm)?.length, 3, 'three key groups');
  for (const pair of [[0, 1], [0, 2], [1, 2]]) {
    const keys = pair.map((i) => ids[i]!.identity);
    const r = await runOracle(enc, { format: 'yaml', ageKey: keys.join('\n') });
    assertOracleOk(t, r, `the file with identities ${pair.join('+')}`);
    t.deepEqual(oracleYamlData(r.stdout), DOC_DATA);
    t.is((await tsopsDecryptCode(enc, 'yaml', ageContext(...keys))).code, 0);
  }
  for (const one of [0, 2]) {
    const r = await runOracle(enc, { format: 'yaml', ageKey: ids[one]!.identity });
    t.is(r.code, 1);
    t.regex(r.stderr, /2 successful groups required, got 1/);
    t.is((await tsopsDecryptCode(enc, 'yaml', ageContext(ids[one]!.identity))).code, 128);
  }
});

sharedTest('shamir 2 of 3 with a PGP group and two age groups, in JSON and dotenv (flattened key_groups)', async (t) => {
  if (!hasGpg()) return t.fail('gpg is required for the PGP interop tests');
  const home = makeGnupgHome(t, { importVectorKey: true });
  const [a, b] = await Promise.all([generateAgeIdentity(), generateAgeIdentity()]);
  const groups = [[{ type: 'pgp', recipient: VECTOR_FP }], [{ type: 'age', recipient: a.recipient }], [{ type: 'age', recipient: b.recipient }]];
  for (const [format, plain] of PLAINS.filter(([f]) => f === 'json' || f === 'dotenv')) {
    const enc = await encrypt(plain, { inputType: format, keyGroups: groups, shamirThreshold: 2, keyContext: gpgContext(home) });
    // PGP + one age identity: two groups.
    const dir = tempDir(t, 'tsops-pgpage-');
    const ageFile = join(dir, 'age.key');
    writeFileSync(ageFile, b.identity + '\n');
    const r = await runOracle(enc, { format, ageKey: b.identity, pgpKeyFiles: [VECTOR_KEY_FILE] });
    assertOracleOk(t, r, `the ${format} file (PGP + age)`);
    if (format === 'dotenv') t.is(r.stdout, plain);
    else t.deepEqual(norm(JSON.parse(r.stdout)), norm(JSON.parse(plain)));
    t.is((await tsopsDecryptCode(enc, format, gpgContext(home, { SOPS_AGE_KEY_FILE: ageFile }))).code, 0);
    // The age identities alone: also two groups.
    const r2 = await runOracle(enc, { format, ageKey: `${a.identity}\n${b.identity}` });
    assertOracleOk(t, r2, `the ${format} file (two age identities)`);
  }
});
