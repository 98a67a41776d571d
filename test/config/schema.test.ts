import test from 'ava';
import { closest, editDistance, formatPath, parseConfig, storeSettings, validateConfig, type ConfigProblem } from '../../src/config/schema.js';

const AGE1 = 'age18d4d4fnklzaztwra6v2c2dq3gdzt2vacskv2czpgu0t7u2wh6f9sny0v6q';
const AGE2 = 'age1vp4qsa59l7s67uu6qjr0pvjgcnsrmjg4aav6h3pfl02wedw5xsesuxmeth';
const FPR = '85D77543B3D624B63CEA9E6DBC17301B491B3F21';
const ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const ROLE = 'arn:aws:iam::111122223333:role/sops';

const errors = (ps: ConfigProblem[]) => ps.filter((p) => p.severity === 'error');
const warnings = (ps: ConfigProblem[]) => ps.filter((p) => p.severity === 'warning');

const valid: Array<[string, string]> = [
  ['empty file', ''],
  ['only comments', '# nothing here\n'],
  ['flat age string', `creation_rules:\n  - path_regex: ^dev/\n    age: ${AGE1}, ${AGE2},\n`],
  ['flat lists of every kind', `creation_rules:
  - age: [${AGE1}]
    pgp: [${FPR}]
    kms: [${ARN}+${ROLE}]
    aws_profile: prod
    gcp_kms: [projects/p/locations/global/keyRings/r/cryptoKeys/k]
    azure_keyvault: [https://v.vault.azure.net/keys/sops/abc]
    hc_vault_transit_uri: [https://vault.example.com:8200/v1/transit/keys/k]
    hckms: [eu-west-101:0f1e2d3c]
    encrypted_comment_regex: sops:enc
    mac_only_encrypted: true
`],
  ['key groups with everything', `creation_rules:
  - shamir_threshold: 2
    key_groups:
      - age: [${AGE1}]
        pgp: [${FPR}]
      - kms: [{arn: ${ARN}, role: ${ROLE}, context: {a: b}, aws_profile: p}]
        gcp_kms: [{resource_id: projects/p/locations/l/keyRings/r/cryptoKeys/k}]
        azure_keyvault: [{vaultUrl: https://v.vault.azure.net, key: sops, version: abc}]
        hc_vault: [https://vault.example.com:8200/v1/transit/keys/k]
        hckms: [{key_id: "eu-west-101:0f1e2d3c"}]
        merge: [{age: [${AGE2}]}]
`],
  ['stores and destination rules', `stores:
  yaml: {indent: 2}
  json: {indent: -1}
  json_binary: {indent: 4}
  dotenv: {}
destination_rules:
  - path_regex: ^prod/
    s3_bucket: b
    s3_prefix: p/
    omit_extensions: true
    recreation_rule: {kms: ${ARN}}
`],
  ['merge keys and aliases', `creation_rules:\n  - &r1\n    path_regex: a\n    age: ${AGE1}\n  - <<: *r1\n    path_regex: b\n`],
];

test('valid configs have no errors', (t) => {
  for (const [name, text] of valid) t.deepEqual(errors(parseConfig(text).problems), [], name);
});

// [name, yaml, expected errors as [path, message substring]]
const invalid: Array<[string, string, Array<[string, string]>]> = [
  ['misspelled rule field', `creation_rules:\n  - encrypted_regexp: ^data$\n`,
    [['creation_rules[0].encrypted_regexp', 'unknown field `encrypted_regexp` in creation_rules[0]; did you mean `encrypted_regex`?']]],
  ['misspelled top-level field', `creation_rule:\n  - age: ${AGE1}\n`,
    [['creation_rule', 'unknown field `creation_rule` at the top level; did you mean `creation_rules`?']]],
  ['alias suggestion', `creation_rules:\n  - azure_kv: https://v.vault.azure.net/keys/k\n`,
    [['creation_rules[0].azure_kv', 'did you mean `azure_keyvault`?']]],
  ['field of the rule inside a group', `creation_rules:\n  - key_groups:\n      - age: [${AGE1}]\n        shamir_threshold: 1\n`,
    [['creation_rules[0].key_groups[0].shamir_threshold', 'belongs to the creation rule, not to a key group']]],
  ['unrelated unknown field', `creation_rules:\n  - foo: 1\n`, [['creation_rules[0].foo', 'unknown field `foo` in creation_rules[0]']]],
  ['wrong types', `creation_rules:\n  - path_regex: [a]\n    mac_only_encrypted: maybe\n    shamir_threshold: two\n`, [
    ['creation_rules[0].path_regex', 'path_regex must be a string, got a list'],
    ['creation_rules[0].mac_only_encrypted', 'must be true or false, got a string ("maybe")'],
    ['creation_rules[0].shamir_threshold', 'must be an integer, got a string ("two")'],
  ]],
  ['creation_rules not a list', `creation_rules: {age: x}\n`, [['creation_rules', 'creation_rules must be a list, got a mapping']]],
  ['rule not a mapping', `creation_rules:\n  - ^dev/\n`, [['creation_rules[0]', 'a creation rule must be a mapping, got a string']]],
  ['two selectors', `creation_rules:\n  - encrypted_regex: a\n    unencrypted_suffix: _u\n`,
    [['creation_rules[0].encrypted_regex', 'cannot use more than one of unencrypted_suffix, encrypted_suffix, unencrypted_regex, encrypted_regex, unencrypted_comment_regex, encrypted_comment_regex in the same rule (`unencrypted_suffix` is already set)']]],
  ['invalid path_regex', `creation_rules:\n  - path_regex: "(?=prod)"\n`,
    [['creation_rules[0].path_regex', 'look-ahead `(?=` is not supported by RE2 in `(?=prod)`']]],
  ['glob instead of regex', `creation_rules:\n  - path_regex: "*.yaml"\n`,
    [['creation_rules[0].path_regex', 'regexes are not globs']]],
  ['invalid encrypted_regex', `creation_rules:\n  - encrypted_regex: "(a"\n`, [['creation_rules[0].encrypted_regex', 'missing closing `)`']]],
  ['negative yaml indent', `stores:\n  yaml:\n    indent: -2\n`, [['stores.yaml.indent', 'cannot be negative']]],
  ['json indent below -1', `stores:\n  json:\n    indent: -2\n`, [['stores.json.indent', 'must be -1 (a tab, the default) or more']]],
  ['unknown store setting', `stores:\n  yaml:\n    indnet: 2\n  toml: {}\n`, [
    ['stores.yaml.indnet', 'did you mean `indent`?'],
    ['stores.toml', 'unknown field `toml` in stores'],
  ]],
  ['shamir threshold zero', `creation_rules:\n  - shamir_threshold: 0\n    age: ${AGE1}\n`, [['creation_rules[0].shamir_threshold', 'must be a positive integer, got 0']]],
  ['shamir threshold above groups', `creation_rules:\n  - shamir_threshold: 3\n    key_groups:\n      - age: [${AGE1}]\n      - age: [${AGE2}]\n`,
    [['creation_rules[0].shamir_threshold', 'greater than the number of key groups (2)']]],
  ['group not a mapping', `creation_rules:\n  - key_groups:\n      - [${AGE1}]\n`, [['creation_rules[0].key_groups[0]', 'a key group must be a mapping']]],
  ['group age as a string', `creation_rules:\n  - key_groups:\n      - age: ${AGE1}\n`, [['creation_rules[0].key_groups[0].age', 'age must be a list of strings (sops rejects a string here)']]],
  ['kms entry without arn', `creation_rules:\n  - key_groups:\n      - kms: [{role: ${ROLE}}]\n`, [['creation_rules[0].key_groups[0].kms[0].arn', 'arn is required']]],
  ['kms entry as a string', `creation_rules:\n  - key_groups:\n      - kms: [${ARN}]\n`, [['creation_rules[0].key_groups[0].kms[0]', 'kms entries must be mappings (arn, role, context, aws_profile)']]],
  ['kms context not strings', `creation_rules:\n  - key_groups:\n      - kms: [{arn: ${ARN}, context: {year: 2024}}]\n`,
    [['creation_rules[0].key_groups[0].kms[0].context.year', 'KMS context values must be strings']]],
  ['azure entry misspelled', `creation_rules:\n  - key_groups:\n      - azure_keyvault: [{vault_url: https://v, key: k}]\n`, [
    ['creation_rules[0].key_groups[0].azure_keyvault[0].vault_url', 'did you mean `vaultUrl`?'],
    ['creation_rules[0].key_groups[0].azure_keyvault[0].vaultUrl', 'vaultUrl is required'],
  ]],
  ['hc_vault_transit_uri in a group', `creation_rules:\n  - key_groups:\n      - hc_vault_transit_uri: [https://v/v1/transit/keys/k]\n`,
    [['creation_rules[0].key_groups[0].hc_vault_transit_uri', 'in a key group this list is called `hc_vault`']]],
  ['merge entry malformed', `creation_rules:\n  - key_groups:\n      - merge: [{agee: [${AGE1}]}]\n        age: [${AGE2}]\n`,
    [['creation_rules[0].key_groups[0].merge[0].agee', 'did you mean `age`?']]],
  ['bad key strings', `creation_rules:\n  - age: not-a-key\n    kms: [alias/foo]\n    gcp_kms: projects/p\n    azure_keyvault: http://x/keys/k\n    hc_vault_transit_uri: vault.example.com/keys/k\n    hckms: [nocolon]\n`, [
    ['creation_rules[0].age', '`not-a-key` is not an age recipient'],
    ['creation_rules[0].kms[0]', '`alias/foo` is not a KMS key ARN'],
    ['creation_rules[0].gcp_kms', 'is not a GCP KMS resource ID'],
    ['creation_rules[0].hckms[0]', 'is not a HuaweiCloud KMS key ID'],
    ['creation_rules[0].azure_keyvault', 'is not an Azure Key Vault key URL'],
    ['creation_rules[0].hc_vault_transit_uri', 'is not a Vault transit key URI'],
  ]],
  ['hckms as a string', `creation_rules:\n  - hckms: "eu:1"\n`, [['creation_rules[0].hckms', 'hckms must be a list of strings (sops rejects a string here)']]],
  ['key list with a number', `creation_rules:\n  - pgp: [${FPR}, 42]\n`, [['creation_rules[0].pgp[1]', 'pgp entries must be strings, got a number (42)']]],
  ['two destinations', `destination_rules:\n  - s3_bucket: a\n    gcs_bucket: b\n    recreation_rule: {encrypted_regexp: x}\n`, [
    ['destination_rules[0]', 'only one destination, found s3_bucket, gcs_bucket'],
    ['destination_rules[0].recreation_rule.encrypted_regexp', 'did you mean `encrypted_regex`?'],
  ]],
  ['not a mapping', `- a\n- b\n`, [['', 'the config must be a mapping, got a list']]],
  ['duplicate keys', `creation_rules:\n  - age: ${AGE1}\n    age: ${AGE2}\n`, [['', 'Map keys must be unique']]],
  ['YAML syntax error', `creation_rules: [\n`, [['', '']]],
];

test('empty key_groups and empty groups are valid, as in sops: encrypting with them fails instead', (t) => {
  // sops treats `key_groups: []` as absent (the flat keys apply) and reports an empty group only
  // when it encrypts ("Could not generate data key: [empty key group provided]")
  const zero = parseConfig(`creation_rules:\n  - key_groups: []\n    age: ${AGE1}\n`);
  t.deepEqual(zero.problems, []);
  t.false(zero.config.creationRules![0]!.usesKeyGroups);
  t.deepEqual(zero.config.creationRules![0]!.keyGroups, [[{ type: 'age', recipient: AGE1 }]]);
  const empty = parseConfig(`creation_rules:\n  - key_groups:\n      - {}\n`);
  t.deepEqual(empty.problems, []);
  t.deepEqual(empty.config.creationRules![0]!.keyGroups, [[]]);
});

test('invalid configs: every problem with its field path', (t) => {
  for (const [name, text, want] of invalid) {
    const got = errors(parseConfig(text).problems);
    t.is(got.length, want.length, `${name}: ${JSON.stringify(got.map((p) => `${p.path}: ${p.message}`))}`);
    for (const [path, msg] of want) {
      t.true(got.some((p) => p.path === path && p.message.includes(msg)), `${name}: no ${path}: ${msg} in ${JSON.stringify(got.map((p) => `${p.path}: ${p.message}`))}`);
    }
  }
});

test('problems carry the line of the field', (t) => {
  const { problems } = parseConfig(`# comment\ncreation_rules:\n  - path_regex: ^a/\n    encrypted_regexp: x\n`);
  t.is(problems[0]!.line, 4);
  t.deepEqual(problems[0]!.segments, ['creation_rules', 0, 'encrypted_regexp']);
  const dup = parseConfig(`stores: {}\nstores: {}\n`).problems;
  t.is(dup[0]!.line, 2);
});

test('warnings: ignored and legacy settings', (t) => {
  const { problems } = parseConfig(`creation_rules:
  - path_regex: ""
    age: ${AGE1}
    shamir_threshold: 2
    mac_only_encrypted: yes
    encrypted_regex: ""
  - key_groups:
      - age: [${AGE1}]
    pgp: ${FPR}
stores:
  yaml: {indent: 12}
---
second: document
`);
  t.deepEqual(errors(problems), []);
  const w = warnings(problems).map((p) => `${p.path}: ${p.message}`);
  t.deepEqual(w, [
    'creation_rules[0].path_regex: an empty path_regex matches every file; remove it to say so',
    'creation_rules[0].encrypted_regex: an empty encrypted_regex is ignored',
    'creation_rules[0].mac_only_encrypted: write true instead of "yes" (a YAML 1.1 boolean)',
    'creation_rules[0].shamir_threshold: shamir_threshold is ignored with a single key group',
    'creation_rules[1].pgp: `pgp` is ignored because the rule has key_groups (list these keys in a group instead)',
    'stores.yaml.indent: sops (go-yaml) writes an indent of 12 as 2; use 2 to 9',
    ': only the first YAML document is used; the others are ignored (as in sops)',
  ]);
  t.is(parseConfig('creation_rules: []\n').problems[0]!.severity, 'warning');
});

test('flat rule: keys in sops order, trimmed, split, deduplicated', (t) => {
  const { config, problems } = parseConfig(`creation_rules:
  - hc_vault_transit_uri: https://vault:8200/v1/transit/keys/k
    azure_keyvault: https://v.vault.azure.net/keys/sops
    hckms: [" eu:1 "]
    gcp_kms: "projects/p/locations/l/keyRings/r/cryptoKeys/k "
    kms: "${ARN} + ${ROLE}, ${ARN}"
    aws_profile: dev
    pgp: "85D7 7543 B3D6 24B6 3CEA 9E6D BC17 301B 491B 3F21"
    age: ["${AGE1}, ${AGE2}", " ${AGE1} ", ""]
`);
  t.deepEqual(errors(problems), []);
  const rule = config.creationRules![0]!;
  t.false(rule.usesKeyGroups);
  t.deepEqual(rule.keyGroups, [[
    { type: 'age', recipient: AGE1 },
    { type: 'age', recipient: AGE2 },
    { type: 'pgp', recipient: FPR },
    { type: 'kms', recipient: ARN, role: ROLE, awsProfile: 'dev' },
    { type: 'kms', recipient: ARN, awsProfile: 'dev' },
    { type: 'gcp_kms', recipient: 'projects/p/locations/l/keyRings/r/cryptoKeys/k' },
    { type: 'hckms', recipient: 'eu:1' },
    { type: 'azure_kv', recipient: 'https://v.vault.azure.net/keys/sops' },
    { type: 'hc_vault', recipient: 'https://vault:8200/v1/transit/keys/k' },
  ]]);
});

test('key groups: merge first, then sops order, duplicates removed', (t) => {
  const { config, problems } = parseConfig(`creation_rules:
  - shamir_threshold: 2
    key_groups:
      - pgp: [${FPR}]
        age: [${AGE1}]
        azure_keyvault: [{vaultUrl: "https://v.vault.azure.net/", key: sops}]
        merge:
          - age: ["${AGE2}, ${AGE1}"]
          - merge: [{pgp: [${FPR}]}]
      - kms: [{arn: ${ARN}, context: {b: "2", a: "1"}}, {arn: ${ARN}, context: {a: "1", b: "2"}}, {arn: ${ARN}}]
`);
  t.deepEqual(errors(problems), []);
  const rule = config.creationRules![0]!;
  t.true(rule.usesKeyGroups);
  t.is(rule.shamirThreshold, 2);
  t.deepEqual(rule.keyGroups, [
    [
      { type: 'age', recipient: AGE2 },
      { type: 'age', recipient: AGE1 },
      { type: 'pgp', recipient: FPR },
      { type: 'azure_kv', recipient: 'https://v.vault.azure.net/keys/sops' },
    ],
    [
      { type: 'kms', recipient: ARN, context: { b: '2', a: '1' } },
      { type: 'kms', recipient: ARN },
    ],
  ]);
});

test('encryption rule, mac_only_encrypted, stores', (t) => {
  const { config } = parseConfig(`creation_rules:\n  - encrypted_regex: ^(data|stringData)$\n    mac_only_encrypted: true\nstores:\n  yaml: {indent: 2}\n  json: {indent: -1}\n  json_binary: {indent: 3}\n`);
  t.deepEqual(config.creationRules![0]!.encryptionRule, { field: 'encrypted_regex', value: '^(data|stringData)$' });
  t.true(config.creationRules![0]!.macOnlyEncrypted);
  t.deepEqual(storeSettings(config), { yaml: { indent: 2 }, json: {}, json_binary: { indent: 3 } });
  t.deepEqual(storeSettings(parseConfig('stores: {yaml: {indent: 0}}').config), { yaml: {}, json: {}, json_binary: {} });
  t.deepEqual(storeSettings(undefined), { yaml: {}, json: {}, json_binary: {} });
});

test('YAML merge keys work as in go-yaml', (t) => {
  const rules = parseConfig(valid.find(([n]) => n === 'merge keys and aliases')![1]).config.creationRules!;
  t.deepEqual(rules.map((r) => [r.pathRegex, r.keyGroups]), [['a', [[{ type: 'age', recipient: AGE1 }]]], ['b', [[{ type: 'age', recipient: AGE1 }]]]]);
});

test('no creation_rules: the config counts as absent', (t) => {
  t.is(parseConfig('stores: {}\n').config.creationRules, undefined);
  t.is(parseConfig('creation_rules:\n').config.creationRules, undefined);
  t.deepEqual(parseConfig('creation_rules: []\n').config.creationRules, []);
});

test('destination rules are parsed', (t) => {
  const { config } = parseConfig(`destination_rules:\n  - path_regex: ^p/\n    vault_path: secret/x\n    vault_kv_version: 2\n    recreation_rule: {age: ${AGE1}}\n`);
  const d = config.destinationRules![0]!;
  t.deepEqual(d.destination, { kind: 'vault', path: 'secret/x', kvVersion: 2 });
  t.deepEqual(d.recreationRule!.keyGroups, [[{ type: 'age', recipient: AGE1 }]]);
});

test('validateConfig works on plain values', (t) => {
  t.deepEqual(validateConfig(null).problems, []);
  t.is(validateConfig({ creation_rules: [{ path_regex: 2024 }] }).problems[0]!.message, 'path_regex must be a string, got a number (2024); quote it');
  const { problems } = validateConfig({ creation_rules: [{ path_regexx: 'a' }] });
  t.is(problems[0]!.message, 'unknown field `path_regexx` in creation_rules[0]; did you mean `path_regex`?');
});

test('suggestions and paths', (t) => {
  t.is(editDistance('encrypted_regexp', 'encrypted_regex'), 1);
  t.is(closest('shamir_treshold', ['shamir_threshold', 'age']), 'shamir_threshold');
  t.is(closest('pg', ['pgp', 'age']), 'pgp');
  t.is(closest('completely_different', ['pgp', 'age']), undefined);
  t.is(formatPath(['creation_rules', 2, 'key_groups', 0, 'kms', 1, 'arn']), 'creation_rules[2].key_groups[0].kms[1].arn');
});
