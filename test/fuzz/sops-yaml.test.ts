// Fuzz: .sops.yaml. Random and mutated YAML text and random structures through the config
// parser, validator and rule matcher: problems with field paths or a ConfigError (exit 1),
// never a raw error, never a hang; YAML bombs and deep nesting included. RE2 patterns: random
// patterns from a grammar through the RE2 -> JavaScript translation (a regex or an
// Re2SyntaxError), the linear-time test() agreeing with the exact `u`-mode regex on random
// subjects (astral characters and lone surrogates included), and pathological patterns
// against 10,000-character file names finishing at once.
import test from 'ava';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { matchCreationRule, parseConfig, validateConfig } from '../../src/config/index.js';
import { compileRe2, Re2SyntaxError, translateRe2 } from '../../src/config/regex.js';
import { ConfigError } from '../../src/errors.js';
import { ageWorkspace, assertCleanFailure } from '../helpers/cli.js';
import { fuzzParams } from '../helpers/fuzz.js';
import { applyEdits, edits } from './enc-mutate.js';

const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
const VALID = `# comment
creation_rules:
  - path_regex: secrets/.*\\.yaml$
    encrypted_regex: ^(data|stringData)$
    age: ${RECIPIENT}
  - path_regex: (?i)^prod/[^/]+\\.json$
    key_groups:
      - age:
          - ${RECIPIENT}
        pgp:
          - FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4
    shamir_threshold: 1
  - kms: arn:aws:kms:us-east-1:123456789012:key/abc
    mac_only_encrypted: true
stores:
  yaml:
    indent: 2
destination_rules:
  - path_regex: x
    s3_bucket: b
`;

const FRAGMENTS = fc.constantFrom('creation_rules:', '\n  - ', 'path_regex: ', 'age: ', 'key_groups:', '- pgp: ', '&a ', '*a', '<<: *a', '!!binary ', '!!int ', '~', '[', ']', '{', '}', ': ', '\n', '\t', '"', "'", '#', '---\n', '...\n', '\u0000', '\uFEFF', '(a+)+$', '\\p{Greek}', '(?i)', '[[:alpha:]]');
const yamlText = fc.oneof(
  fc.array(fc.oneof(FRAGMENTS, fc.string({ maxLength: 8 })), { maxLength: 30 }).map((a) => a.join('')),
  edits.map((e) => applyEdits(VALID, e)),
  fc.string({ maxLength: 300 }),
);

const KEYS = ['creation_rules', 'path_regex', 'age', 'pgp', 'kms', 'gcp_kms', 'azure_keyvault', 'hc_vault_transit_uri', 'key_groups', 'shamir_threshold', 'encrypted_regex', 'unencrypted_suffix', 'mac_only_encrypted', 'stores', 'yaml', 'indent', 'destination_rules', 'merge', 'arn', 'role', 'context', 'aws_profile', 'filename_regex'];
const structure = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constantFrom(RECIPIENT, '(a+)+$', '[', '(?<x>a)', '\\C')),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 6 })), tie('v'), { maxKeys: 5 }),
  ),
})).v;

const PATHS = fc.oneof(fc.constantFrom('secrets/a.yaml', 'prod/x.json', 'a/b/c.env', '../outside.yaml', 'C:\\x\\y.yaml', ''), fc.string({ maxLength: 40 }));

/** Parses, validates and (when valid) matches: nothing but ConfigError may escape. */
function throughConfig(text: string, path: string): void {
  const { config, problems } = parseConfig(text);
  if (problems.some((p) => p.severity === 'error')) return;
  try {
    matchCreationRule(config, { configPath: '/repo/.sops.yaml', filePath: path, cwd: '/repo' });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw new Error(`raw error: ${e instanceof Error ? e.stack : String(e)}`);
  }
}

test('random and mutated .sops.yaml text: problems or a ConfigError, never a raw error', (t) => {
  fc.assert(fc.property(yamlText, PATHS, throughConfig), fuzzParams(2500));
  t.pass();
});

test('random structures (as YAML) through the validator and the matcher', (t) => {
  fc.assert(
    fc.property(structure, PATHS, (v, path) => {
      validateConfig(v);
      throughConfig(stringify({ creation_rules: [v], stores: v }), path);
      throughConfig(stringify(v), path);
    }),
    fuzzParams(2000),
  );
  t.pass();
});

const BOMB = `a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\ncreation_rules: *g\n`;
const DEEP_FLOW = `creation_rules: ${'['.repeat(10000)}${']'.repeat(10000)}\n`;
const DEEP_BLOCK = `creation_rules:\n${Array.from({ length: 10000 }, (_, i) => `${' '.repeat(i + 1)}- `).join('\n')}x\n`;

for (const [name, text, message] of [
  ['a YAML bomb (alias expansion)', BOMB, /YAML "bomb"/],
  ['10,000 levels of flow lists', DEEP_FLOW, /nested too deeply|creation_rules/],
  ['10,000 levels of block lists', DEEP_BLOCK, /nested too deeply|creation_rules/],
  ['duplicate keys', `creation_rules: []\ncreation_rules: []\n`, /unique|duplicate/i],
  ['NUL and invalid UTF-8', Buffer.concat([Buffer.from('creation_rules:\n  - age: \u0000'), Buffer.from([0xff, 0xfe, 0x0a])]), /not valid UTF-8|creation_rules|control/i],
] as const) {
  test(`the real CLI with a .sops.yaml holding ${name}: exit 1, one message naming the file`, async (t) => {
    const ws = ageWorkspace(t);
    ws.write('.sops.yaml', text);
    ws.write('s.yaml', 'k: S3cr3t-Value-1\n');
    const started = Date.now();
    const r = await ws.run(['encrypt', 's.yaml']);
    assertCleanFailure(t, r, { code: 1, message: /\.sops\.yaml/, secrets: ['S3cr3t-Value-1'] });
    t.regex(r.stderr, message);
    t.true(Date.now() - started < 20_000, 'no hang');
  });
}

// --- RE2 patterns -------------------------------------------------------------------------------------

const atom = fc.oneof(
  fc.constantFrom('a', 'b', '.', '\\d', '\\w', '\\s', '\\S', '\\W', '[ab]', '[^a]', '[^/]', '[a-z]', '[[:alpha:]]', '\\x{1F600}', '😀', 'é', '\\pL', '\\p{Greek}', '\\.', '/', '^', '$', '\\A', '\\z', '\\b', '[\\x{10000}-\\x{10FFFF}]', '[^\\x{0}-\\x{FFFF}]', '[\\D]'),
  fc.string({ maxLength: 2 }),
);
const pattern = fc.letrec<{ re: string }>((tie) => ({
  re: fc.oneof(
    { depthSize: 'small' },
    atom,
    fc.tuple(tie('re'), tie('re')).map(([a, b]) => a + b),
    fc.tuple(tie('re'), tie('re')).map(([a, b]) => `${a}|${b}`),
    fc.tuple(tie('re'), fc.constantFrom('*', '+', '?', '{2}', '{1,3}', '*?', '+?', '{2,}')).map(([a, q]) => `(${a})${q}`),
    fc.tuple(fc.constantFrom('(?s)', '(?m)', '(?i)', '(?U)', '(?:', '(?P<n>'), tie('re')).map(([f, a]) => (f.endsWith(':') || f.endsWith('>') ? `${f}${a})` : `${f}${a}`)),
  ),
})).re;
const subject = fc.oneof(
  fc.string({ maxLength: 10 }),
  fc.array(fc.constantFrom('a', 'b', '/', '.', '\n', '\r', 'é', '😀', '\ud800', '\udc00', '\u2028', ' ', '1', 'Ω'), { maxLength: 10 }).map((a) => a.join('')),
);

test('random RE2 patterns: translated or an Re2SyntaxError; the linear test() agrees with the exact regex', (t) => {
  fc.assert(
    fc.property(pattern, fc.array(subject, { minLength: 1, maxLength: 5 }), (p, subjects) => {
      let exact: RegExp;
      try {
        const { source, flags } = translateRe2(p);
        exact = new RegExp(source, flags);
      } catch (e) {
        if (e instanceof Re2SyntaxError) return true;
        throw e;
      }
      const bounded = compileRe2(p);
      return subjects.every((s) => bounded.test(s) === exact.test(s));
    }),
    fuzzParams(3000),
  );
  t.pass();
});

const PATHOLOGICAL = ['(a+)+$', '(a|a)*$', '(a*)*b', '^(\\w+\\s?)*$', '(.*a){20}', '([^/]+/)*x\\.yaml$', '(x+x+)+y', '(a|aa)+$', '^(a?){25}a{25}$', '(.*){12}\\.yaml$'];

test('pathological path_regex values against 10,000-character file names answer at once (RE2 is linear; so is tsops)', (t) => {
  const names = ['a'.repeat(10000) + '!', 'x'.repeat(10000), `${'a/'.repeat(5000)}!`, 'a'.repeat(25)];
  for (const p of PATHOLOGICAL) {
    const config = parseConfig(`creation_rules:\n  - path_regex: '${p}'\n    age: ${RECIPIENT}\n  - age: ${RECIPIENT}\n`);
    t.deepEqual(config.problems, [], p);
    for (const name of names) {
      const started = performance.now();
      const m = matchCreationRule(config.config, { configPath: '/r/.sops.yaml', filePath: name, cwd: '/r' });
      const ms = performance.now() - started;
      t.true(ms < 2000, `${p} on a ${name.length}-character name took ${Math.round(ms)} ms`);
      t.truthy(m);
    }
  }
});
