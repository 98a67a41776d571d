// Which values get encrypted (the six selection flags, two rules, --mac-only-encrypted) and
// for whom (SOPS_AGE_RECIPIENTS, SOPS_PGP_FP, .sops.yaml creation rules, --config, SOPS_CONFIG).
import test, { type ExecutionContext } from 'ava';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ageKeygen, ageWorkspace, assertCleanFailure, listDir, tempDir, type AgeWorkspace } from '../helpers/cli.js';
import { generateKey, hasGpg, makeGnupgHome } from '../helpers/gpg.js';

const PLAIN = '# keep\npublic: p1\n# secret\npassword: s1\nname_enc: e1\napi_unenc: u1\nnested:\n    password: s2\n    other: o2\n';
const LEAVES = ['public', 'password', 'name_enc', 'api_unenc', 'nested.password', 'nested.other'] as const;

type Doc = Record<string, unknown> & { sops: Record<string, unknown> };

/** Leaf paths (dotted) whose values are still in clear text. */
function clearLeaves(doc: Doc): string[] {
  const nested = doc.nested as Record<string, unknown>;
  const get = (p: string) => (p.startsWith('nested.') ? nested[p.slice(7)] : doc[p]);
  return LEAVES.filter((p) => !String(get(p)).startsWith('ENC[AES256_GCM,'));
}

interface SelectionCase {
  flag: string;
  value: string;
  clear: string[];
  clearComments: string[];
}

const CASES: SelectionCase[] = [
  { flag: 'unencrypted-suffix', value: '_unenc', clear: ['api_unenc'], clearComments: [] },
  { flag: 'encrypted-suffix', value: '_enc', clear: ['public', 'password', 'api_unenc', 'nested.password', 'nested.other'], clearComments: ['keep', 'secret'] },
  { flag: 'encrypted-regex', value: '^pass', clear: ['public', 'name_enc', 'api_unenc', 'nested.other'], clearComments: ['keep', 'secret'] },
  { flag: 'unencrypted-regex', value: '^pub', clear: ['public'], clearComments: [] },
  { flag: 'encrypted-comment-regex', value: 'secret', clear: ['public', 'name_enc', 'api_unenc', 'nested.password', 'nested.other'], clearComments: ['keep', 'secret'] },
  { flag: 'unencrypted-comment-regex', value: 'keep', clear: ['public'], clearComments: ['keep'] },
];

for (const c of CASES) {
  test(`--${c.flag} ${c.value} leaves exactly ${c.clear.join(', ')} in clear text and records the rule`, async (t) => {
    const ws = ageWorkspace(t);
    ws.write('s.yaml', PLAIN);
    const enc = await ws.encrypted('s.yaml', [`--${c.flag}`, c.value]);
    const doc = parseYaml(enc) as Doc;
    t.deepEqual(clearLeaves(doc), c.clear);
    for (const word of ['keep', 'secret']) {
      t.is(enc.includes(`# ${word}\n`), c.clearComments.includes(word), `comment "# ${word}" clear?`);
    }
    const field = c.flag.replace(/-/g, '_');
    t.is(doc.sops[field], c.value, 'the metadata records the rule');
    for (const other of CASES.map((x) => x.flag.replace(/-/g, '_')).filter((f) => f !== field)) t.false(other in doc.sops, `${other} in metadata`);
    ws.write('s.enc.yaml', enc);
    const d = await ws.run(['decrypt', 's.enc.yaml']);
    t.is(d.code, 0, d.stderr);
    t.is(d.out, PLAIN);
  });
}

test('without a rule, values of keys ending in _unencrypted stay clear and unencrypted_suffix is recorded', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('s.yaml', 'a: 1\nb_unencrypted: 2\n');
  const doc = parseYaml(await ws.encrypted('s.yaml')) as Doc;
  t.regex(String(doc.a), /^ENC\[/);
  t.is(doc.b_unencrypted, 2);
  t.is(doc.sops.unencrypted_suffix, '_unencrypted');
});

test('two selection rules are exit 8, from flags or a flag plus .sops.yaml; the same field overrides', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('s.yaml', PLAIN);
  const two = await ws.run(['encrypt', '--age', ws.key.recipient, '--encrypted-regex', '^pass', '--unencrypted-suffix', '_unenc', 's.yaml']);
  assertCleanFailure(t, two, { code: 8, message: /encrypted_regex|unencrypted_suffix/, secrets: ['s1', 's2'] });
  const cfg = join(ws.home, 'cfg.yaml');
  ws.write('../cfg.yaml', `creation_rules:\n  - age: ${ws.key.recipient}\n    encrypted_regex: ^pass\n`);
  const mixed = await ws.run(['encrypt', '--config', cfg, '--unencrypted-regex', '^pub', 's.yaml']);
  assertCleanFailure(t, mixed, { code: 8 });
  const same = await ws.run(['encrypt', '--config', cfg, '--encrypted-regex', '^name', 's.yaml']);
  t.is(same.code, 0, same.stderr);
  const doc = parseYaml(same.out) as Doc;
  t.is(doc.sops.encrypted_regex, '^name');
  t.deepEqual(clearLeaves(doc), ['public', 'password', 'api_unenc', 'nested.password', 'nested.other']);
  t.deepEqual(listDir(ws.dir), ['s.yaml']);
});

/** Replaces a clear-text line of an encrypted file. */
function editClear(ws: AgeWorkspace, name: string, from: string, to: string): void {
  const text = ws.read(name);
  if (!text.includes(from)) throw new Error(`${from} not in ${name}`);
  ws.write(name, text.replace(from, to));
}

test('--mac-only-encrypted: the MAC ignores clear values, so editing them keeps the file valid', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('s.yaml', PLAIN);
  ws.write('only.enc.yaml', await ws.encrypted('s.yaml', ['--encrypted-regex', '^pass', '--mac-only-encrypted']));
  ws.write('all.enc.yaml', await ws.encrypted('s.yaml', ['--encrypted-regex', '^pass']));
  t.is((parseYaml(ws.read('only.enc.yaml')) as Doc).sops.mac_only_encrypted, true);
  t.false('mac_only_encrypted' in (parseYaml(ws.read('all.enc.yaml')) as Doc).sops);
  for (const f of ['only.enc.yaml', 'all.enc.yaml']) editClear(ws, f, 'public: p1', 'public: changed');
  const only = await ws.run(['decrypt', 'only.enc.yaml']);
  t.is(only.code, 0, only.stderr);
  t.is(only.out, PLAIN.replace('public: p1', 'public: changed'));
  assertCleanFailure(t, await ws.run(['decrypt', 'all.enc.yaml']), { code: 51, message: /MAC/, secrets: ['s1', 's2'] });
});

function ageRecipients(doc: Doc): string[] {
  return ((doc.sops.age ?? []) as Array<{ recipient: string }>).map((k) => k.recipient);
}

test('SOPS_AGE_RECIPIENTS gives the recipients; --age replaces them', async (t) => {
  const ws = ageWorkspace(t);
  const other = ageKeygen(tempDir(t), 'other.txt');
  ws.write('s.yaml', 'a: secret\n');
  const env = await ws.run(['encrypt', 's.yaml'], { extraEnv: { SOPS_AGE_RECIPIENTS: `${ws.key.recipient}, ${other.recipient}` } });
  t.is(env.code, 0, env.stderr);
  t.deepEqual(ageRecipients(parseYaml(env.out) as Doc), [ws.key.recipient, other.recipient]);
  ws.write('s.enc.yaml', env.stdout);
  const d = await ws.run(['decrypt', 's.enc.yaml'], { extraEnv: { SOPS_AGE_KEY_FILE: other.keyFile } });
  t.is(d.code, 0, d.stderr);
  t.is(d.out, 'a: secret\n');
  const flag = await ws.run(['encrypt', '--age', other.recipient, 's.yaml'], { extraEnv: { SOPS_AGE_RECIPIENTS: ws.key.recipient } });
  t.is(flag.code, 0, flag.stderr);
  t.deepEqual(ageRecipients(parseYaml(flag.out) as Doc), [other.recipient]);
});

test('SOPS_PGP_FP gives a PGP recipient (real gpg)', async (t) => {
  if (!hasGpg()) return t.fail('gpg is required');
  const ws = ageWorkspace(t);
  const gnupg = makeGnupgHome(t);
  const fp = generateKey(gnupg, 'tsops env <env@example.test>');
  ws.write('s.yaml', 'a: secret\n');
  const e = await ws.run(['encrypt', 's.yaml'], { extraEnv: { SOPS_PGP_FP: fp, GNUPGHOME: gnupg } });
  t.is(e.code, 0, e.stderr);
  const doc = parseYaml(e.out) as Doc;
  t.deepEqual((doc.sops.pgp as Array<{ fp: string }>).map((k) => k.fp), [fp]);
  t.is(doc.sops.age, undefined);
  ws.write('s.enc.yaml', e.stdout);
  const d = await ws.run(['decrypt', 's.enc.yaml'], { extraEnv: { GNUPGHOME: gnupg, SOPS_AGE_KEY_FILE: undefined } });
  t.is(d.code, 0, d.stderr);
  t.is(d.out, 'a: secret\n');
});

/** Two keys and a .sops.yaml in `dir` choosing between them by path. */
function twoRuleProject(t: ExecutionContext) {
  const ws = ageWorkspace(t);
  const prod = ageKeygen(tempDir(t), 'prod.txt');
  const config = `creation_rules:\n  - path_regex: secrets/dev/.*\\.yaml$\n    age: ${ws.key.recipient}\n  - path_regex: secrets/prod/.*\n    age: ${prod.recipient}\n    encrypted_regex: ^password$\n`;
  ws.write('secrets/dev/app.yaml', 'password: devpw\nuser: devuser\n');
  ws.write('secrets/prod/app.yaml', 'password: prodpw\nuser: produser\n');
  return { ws, prod, config };
}

test('.sops.yaml creation rules pick the keys and rule by path_regex (config found upward from the cwd)', async (t) => {
  const { ws, prod, config } = twoRuleProject(t);
  ws.write('.sops.yaml', config);
  const dev = await ws.run(['encrypt', 'secrets/dev/app.yaml']);
  t.is(dev.code, 0, dev.stderr);
  const devDoc = parseYaml(dev.out) as Doc;
  t.deepEqual(ageRecipients(devDoc), [ws.key.recipient]);
  t.regex(String(devDoc.user), /^ENC\[/);
  // from a subdirectory: the config is found upward and path_regex is relative to its directory
  const sub = join(ws.dir, 'secrets', 'prod');
  const p = await ws.run(['encrypt', 'app.yaml'], { cwd: sub });
  t.is(p.code, 0, p.stderr);
  const prodDoc = parseYaml(p.out) as Doc;
  t.deepEqual(ageRecipients(prodDoc), [prod.recipient]);
  t.is(prodDoc.user, 'produser');
  t.regex(String(prodDoc.password), /^ENC\[/);
  t.is(prodDoc.sops.encrypted_regex, '^password$');
  // standard input is matched by --filename-override
  const s = await ws.run(['encrypt', '--filename-override', 'secrets/prod/other.yaml'], { input: 'password: x\n' });
  t.is(s.code, 0, s.stderr);
  t.deepEqual(ageRecipients(parseYaml(s.out) as Doc), [prod.recipient]);
});

test('.sops.yaml: no matching rule is exit 1 naming the file; --age still works (tsops difference)', async (t) => {
  const { ws, config } = twoRuleProject(t);
  ws.write('.sops.yaml', config);
  ws.write('elsewhere.yaml', 'password: nowhere\n');
  const r = await ws.run(['encrypt', 'elsewhere.yaml']);
  assertCleanFailure(t, r, { code: 1, message: /no matching creation rule.*elsewhere\.yaml/s, secrets: ['nowhere'] });
  const withKey = await ws.run(['encrypt', '--age', ws.key.recipient, 'elsewhere.yaml']);
  t.is(withKey.code, 0, withKey.stderr);
  t.deepEqual(ageRecipients(parseYaml(withKey.out) as Doc), [ws.key.recipient]);
});

test('--config and SOPS_CONFIG name the .sops.yaml; --config wins', async (t) => {
  const { ws, prod, config } = twoRuleProject(t);
  const cfgDir = join(ws.home, 'elsewhere');
  mkdirSync(cfgDir);
  ws.write('../elsewhere/my-sops.yaml', config.replace(/secrets\//g, 'work/secrets/'));
  const cfgPath = join(cfgDir, 'my-sops.yaml');
  // path_regex is relative to the config's directory: here the files are under work/
  const viaFlag = await ws.run(['encrypt', '--config', cfgPath, 'secrets/prod/app.yaml']);
  t.is(viaFlag.code, 0, viaFlag.stderr);
  t.deepEqual(ageRecipients(parseYaml(viaFlag.out) as Doc), [prod.recipient]);
  const viaEnv = await ws.run(['encrypt', 'secrets/dev/app.yaml'], { extraEnv: { SOPS_CONFIG: cfgPath } });
  t.is(viaEnv.code, 0, viaEnv.stderr);
  t.deepEqual(ageRecipients(parseYaml(viaEnv.out) as Doc), [ws.key.recipient]);
  // a .sops.yaml in the cwd is not used when --config or SOPS_CONFIG names another
  ws.write('.sops.yaml', `creation_rules:\n  - age: ${prod.recipient}\n`);
  const env2 = await ws.run(['encrypt', 'secrets/dev/app.yaml'], { extraEnv: { SOPS_CONFIG: cfgPath } });
  t.deepEqual(ageRecipients(parseYaml(env2.out) as Doc), [ws.key.recipient]);
  const both = join(ws.home, 'both.yaml');
  ws.write('../both.yaml', `creation_rules:\n  - age: ${prod.recipient}\n`);
  const wins = await ws.run(['encrypt', '--config', both, 'secrets/dev/app.yaml'], { extraEnv: { SOPS_CONFIG: cfgPath } });
  t.is(wins.code, 0, wins.stderr);
  t.deepEqual(ageRecipients(parseYaml(wins.out) as Doc), [prod.recipient], '--config wins over SOPS_CONFIG');
  assertCleanFailure(t, await ws.run(['encrypt', '--config', join(ws.home, 'missing.yaml'), 'secrets/dev/app.yaml']), { code: 1, message: /missing\.yaml/ });
});
