import test from 'ava';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, ExitCode } from '../../src/errors.js';
import { explainMatch, matchCreationRule, targetPath } from '../../src/config/match.js';
import { parseConfig, type SopsConfig } from '../../src/config/schema.js';

const AGE1 = 'age18d4d4fnklzaztwra6v2c2dq3gdzt2vacskv2czpgu0t7u2wh6f9sny0v6q';
const AGE2 = 'age1vp4qsa59l7s67uu6qjr0pvjgcnsrmjg4aav6h3pfl02wedw5xsesuxmeth';
const ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

function config(text: string): SopsConfig {
  const { config, problems } = parseConfig(text);
  const errors = problems.filter((p) => p.severity === 'error');
  if (errors.length) throw new Error(JSON.stringify(errors));
  return config;
}

const layered = config(`creation_rules:
  - path_regex: ^secrets/prod/.*\\.ya?ml$
    age: ${AGE1}
  - path_regex: /staging/
    age: ${AGE2}
  - path_regex: \\.env$
    kms: ${ARN}
`);

test('target path: relative to the config directory, / separators', (t) => {
  const p = (filePath: string, cwd = '/repo', configPath = '/repo/.sops.yaml') => targetPath({ cwd, configPath, filePath });
  t.is(p('secrets/prod/db.yaml'), 'secrets/prod/db.yaml');
  t.is(p('/repo/secrets/prod/db.yaml'), 'secrets/prod/db.yaml');
  t.is(p('db.yaml', '/repo/secrets/prod'), 'secrets/prod/db.yaml'); // nested cwd, config found above
  t.is(p('../../app.env', '/repo/a/b'), 'app.env');
  t.is(p('/elsewhere/x.yaml'), '/elsewhere/x.yaml'); // outside: absolute
  t.is(p('/repository/x.yaml'), '/repository/x.yaml'); // a sibling with a common prefix is outside
  t.is(p('x.yaml', '/repo', 'conf/.sops.yaml'), '/repo/x.yaml'); // relative --config; the file is outside conf/
  t.is(p('/repo/conf/x.yaml', '/repo', 'conf/.sops.yaml'), 'x.yaml');
});

test('target path: Windows paths are normalized to /', (t) => {
  t.is(targetPath({ cwd: 'C:\\repo', configPath: 'C:\\repo\\.sops.yaml', filePath: 'secrets\\prod\\db.yaml' }), 'secrets/prod/db.yaml');
  t.is(targetPath({ cwd: 'C:\\repo\\secrets', configPath: 'C:\\repo\\.sops.yaml', filePath: 'prod/db.yaml' }), 'secrets/prod/db.yaml');
  t.is(targetPath({ cwd: 'c:\\Repo', configPath: 'C:\\repo\\.sops.yaml', filePath: 'x.yaml' }), 'x.yaml'); // case-insensitive
  t.is(targetPath({ cwd: 'C:\\repo', configPath: 'C:\\repo\\.sops.yaml', filePath: 'D:\\other\\x.yaml' }), 'D:/other/x.yaml');
  t.is(targetPath({ cwd: '\\\\server\\share\\repo', configPath: '.sops.yaml', filePath: 'a\\b.yaml' }), 'a/b.yaml');
  t.is(targetPath({ cwd: '/repo', configPath: '/repo/.sops.yaml', filePath: 'a\\b.yaml', platform: 'win32' }), 'a/b.yaml');
  // The same rules match on Windows.
  const m = matchCreationRule(layered, { cwd: 'C:\\repo', configPath: 'C:\\repo\\.sops.yaml', filePath: 'secrets\\prod\\db.yaml' });
  t.is(m!.rule.ruleIndex, 0);
});

test('first matching rule wins, search is unanchored, misses are explained', (t) => {
  const at = (filePath: string, cwd = '/repo') => matchCreationRule(layered, { cwd, configPath: '/repo/.sops.yaml', filePath });
  t.is(at('secrets/prod/db.yaml')!.rule.ruleIndex, 0);
  t.is(at('secrets/staging/db.yaml')!.rule.ruleIndex, 1);
  t.is(at('deploy/staging/app.env')!.rule.ruleIndex, 1); // /staging/ found in the middle
  t.is(at('app.env', '/repo/services/api')!.rule.ruleIndex, 2);
  t.is(at('secrets/prod/x.env')!.rule.ruleIndex, 2); // rule 0 wants .yaml
  const m = at('secrets/prod/x.env')!;
  t.is(m.relativePath, 'secrets/prod/x.env');
  t.deepEqual(m.misses, [
    { ruleIndex: 0, pathRegex: '^secrets/prod/.*\\.ya?ml$', reason: 'path_regex `^secrets/prod/.*\\.ya?ml$` does not match `secrets/prod/x.env`' },
    { ruleIndex: 1, pathRegex: '/staging/', reason: 'path_regex `/staging/` does not match `secrets/prod/x.env`' },
  ]);
  t.deepEqual(m.rule, { ruleIndex: 2, pathRegex: '\\.env$', keyGroups: [[{ type: 'kms', recipient: ARN }]], macOnlyEncrypted: false });
});

test('a rule without path_regex matches everything', (t) => {
  const c = config(`creation_rules:\n  - path_regex: ^dev/\n    age: ${AGE1}\n  - age: ${AGE2}\n    encrypted_suffix: _secret\n`);
  const m = matchCreationRule(c, { cwd: '/r', configPath: '/r/.sops.yaml', filePath: '/anywhere/at/all.json' })!;
  t.is(m.rule.ruleIndex, 1);
  t.is(m.rule.pathRegex, undefined);
  t.deepEqual(m.rule.encryptionRule, { field: 'encrypted_suffix', value: '_secret' });
});

test('no matching rule: ConfigError listing every rule', (t) => {
  const e = t.throws(() => matchCreationRule(layered, { cwd: '/repo', configPath: '/repo/.sops.yaml', filePath: 'docs/readme.md' }), { instanceOf: ConfigError })!;
  t.is(e.exitCode, ExitCode.Generic);
  t.is(e.message, 'no matching creation rules found in /repo/.sops.yaml: no rule\'s path_regex matches `docs/readme.md`');
  t.deepEqual(e.problems, [
    'creation_rules[0]: path_regex `^secrets/prod/.*\\.ya?ml$` does not match `docs/readme.md`',
    'creation_rules[1]: path_regex `/staging/` does not match `docs/readme.md`',
    'creation_rules[2]: path_regex `\\.env$` does not match `docs/readme.md`',
  ]);
  t.true(e.hint!.includes('relative to /repo (with / separators)'));
  const empty = config('creation_rules: []\n');
  t.throws(() => matchCreationRule(empty, { cwd: '/r', configPath: '/r/.sops.yaml', filePath: 'x' }), { message: /empty creation_rules list/ });
});

test('no creation rules: undefined (the config counts as absent)', (t) => {
  const c = config('stores: {yaml: {indent: 2}}\n');
  t.is(matchCreationRule(c, { cwd: '/r', configPath: '/r/.sops.yaml', filePath: 'x' }), undefined);
  t.is(explainMatch(c, { cwd: '/r', configPath: '/r/.sops.yaml', filePath: 'x' }), undefined);
});

test('explainMatch reports a miss without throwing', (t) => {
  const ex = explainMatch(layered, { cwd: '/repo', configPath: '/repo/.sops.yaml', filePath: 'x.md' })!;
  t.is(ex.rule, undefined);
  t.is(ex.misses.length, 3);
  t.is(ex.configDir, '/repo');
});

test('--encryption-context applies to the KMS keys of a flat rule only', (t) => {
  const c = config(`creation_rules:\n  - path_regex: flat\n    kms: ${ARN}\n  - key_groups:\n      - kms: [{arn: ${ARN}}]\n`);
  const opts = { cwd: '/r', configPath: '/r/.sops.yaml', kmsContext: { env: 'prod' } };
  t.deepEqual(matchCreationRule(c, { ...opts, filePath: 'flat.yaml' })!.rule.keyGroups, [[{ type: 'kms', recipient: ARN, context: { env: 'prod' } }]]);
  t.deepEqual(matchCreationRule(c, { ...opts, filePath: 'groups.yaml' })!.rule.keyGroups, [[{ type: 'kms', recipient: ARN }]]);
});

test('the example .sops.yaml.example validates and routes files to the intended rules', (t) => {
  const text = readFileSync(fileURLToPath(new URL('../../.sops.yaml.example', import.meta.url)), 'utf8');
  const { config: example, problems } = parseConfig(text);
  t.deepEqual(problems, []);
  const at = (f: string) => matchCreationRule(example, { cwd: '/repo', configPath: '/repo/.sops.yaml', filePath: f })!.rule;

  const dev = at('secrets/dev/app.yaml');
  t.is(dev.pathRegex, '^secrets/dev/');
  t.deepEqual(dev.keyGroups.map((g) => g.map((k) => k.type)), [['age', 'age']]);

  const staging = at('secrets/staging/api.json');
  t.deepEqual(staging.keyGroups.map((g) => g.map((k) => k.type)), [['age', 'age', 'pgp', 'pgp']]);
  t.true(staging.macOnlyEncrypted);

  const prod = at('secrets/prod/db.yaml');
  t.is(prod.pathRegex, '^secrets/prod/');
  t.is(prod.shamirThreshold, 2);
  t.deepEqual(prod.keyGroups.map((g) => g.map((k) => k.type)), [['age', 'pgp', 'pgp'], ['kms'], ['age', 'age']]);
  t.deepEqual(prod.keyGroups[1]![0], {
    type: 'kms', recipient: ARN, role: 'arn:aws:iam::111122223333:role/sops-prod', context: { app: 'billing', env: 'prod' }, awsProfile: 'prod',
  });

  const k8s = at('k8s/payments/db.secret.yaml');
  t.deepEqual(k8s.encryptionRule, { field: 'encrypted_regex', value: '^(data|stringData)$' });
  t.is(k8s.keyGroups[0]!.length, 2);

  t.throws(() => at('README.md'), { instanceOf: ConfigError });
});
