import test from 'ava';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { discoverConfig, discoverConfigSync, MAX_SEARCH_DEPTH, searchDirectories, type ConfigFs } from '../../src/config/discover.js';
import { loadConfig, loadConfigSync, loadStoreSettings } from '../../src/config/load.js';

const AGE1 = 'age18d4d4fnklzaztwra6v2c2dq3gdzt2vacskv2czpgu0t7u2wh6f9sny0v6q';

const realFs: ConfigFs & { exists(p: string): boolean; readFile(p: string): Uint8Array } = {
  exists: (p) => existsSync(p),
  readFile: (p) => readFileSync(p),
};

/** A temp dir tree: root/.sops.yaml (optional) and root/a/b/c. */
function tree(t: { teardown(fn: () => void): void }): { root: string; deep: string } {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'tsops-config-')));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const deep = join(root, 'a', 'b', 'c');
  mkdirSync(deep, { recursive: true });
  return { root, deep };
}

test('search walks up from the working directory', async (t) => {
  const { root, deep } = tree(t);
  writeFileSync(join(root, '.sops.yaml'), `creation_rules:\n  - age: ${AGE1}\n`);
  t.deepEqual(await discoverConfig({ cwd: deep, fs: realFs }), { path: join(root, '.sops.yaml'), source: 'search', warnings: [] });
  // The nearest file wins.
  writeFileSync(join(root, 'a', '.sops.yaml'), 'creation_rules: []\n');
  t.is((await discoverConfig({ cwd: deep, fs: realFs })).path, join(root, 'a', '.sops.yaml'));
  t.is(discoverConfigSync({ cwd: deep, fs: realFs }).path, join(root, 'a', '.sops.yaml'));
});

test('.sops.yml is ignored with a warning', async (t) => {
  const { root, deep } = tree(t);
  writeFileSync(join(root, 'a', '.sops.yml'), 'creation_rules: []\n');
  const none = await discoverConfig({ cwd: deep, fs: { exists: (p) => p.startsWith(root) && existsSync(p) } });
  t.is(none.path, undefined);
  t.is(none.source, 'none');
  t.deepEqual(none.warnings, [`ignoring "${join(root, 'a', '.sops.yml')}" when searching for config file; the config file must be called ".sops.yaml"`]);
  writeFileSync(join(root, '.sops.yaml'), '');
  const found = await discoverConfig({ cwd: deep, fs: realFs });
  t.is(found.path, join(root, '.sops.yaml'));
  t.deepEqual(found.warnings, [`ignoring "${join(root, 'a', '.sops.yml')}" when searching for config file; the config file must be called ".sops.yaml"; using "${join(root, '.sops.yaml')}" instead`]);
});

test('--config wins over SOPS_CONFIG, which wins over the search; no search for either', async (t) => {
  const { root, deep } = tree(t);
  writeFileSync(join(root, '.sops.yaml'), '');
  writeFileSync(join(root, 'env.yaml'), '');
  writeFileSync(join(root, 'a', 'flag.yaml'), '');
  const env = { SOPS_CONFIG: join(root, 'env.yaml') };
  t.deepEqual(await discoverConfig({ cwd: deep, env, configPath: '../../flag.yaml', fs: realFs }), { path: join(root, 'a', 'flag.yaml'), source: 'flag', warnings: [] });
  t.deepEqual(await discoverConfig({ cwd: deep, env, fs: realFs }), { path: join(root, 'env.yaml'), source: 'env', warnings: [] });
  t.is((await discoverConfig({ cwd: deep, env: { SOPS_CONFIG: '' }, fs: realFs })).source, 'search');
  const missingFlag = await t.throwsAsync(discoverConfig({ cwd: deep, env, configPath: join(root, 'nope.yaml'), fs: realFs }), { instanceOf: ConfigError });
  t.is(missingFlag.message, `config file ${join(root, 'nope.yaml')} (from --config) does not exist`);
  await t.throwsAsync(discoverConfig({ cwd: deep, env: { SOPS_CONFIG: 'nope.yaml' }, fs: realFs }), { message: /\(from SOPS_CONFIG\) does not exist/ });
  t.throws(() => discoverConfigSync({ cwd: deep, configPath: 'nope.yaml', fs: realFs }), { instanceOf: ConfigError });
});

test('the search stops after 100 levels and at the root', (t) => {
  const deepPath = '/' + Array.from({ length: 150 }, (_, i) => `d${i}`).join('/');
  const dirs = searchDirectories({ cwd: deepPath });
  t.is(dirs.length, MAX_SEARCH_DEPTH);
  t.is(dirs[0], deepPath);
  t.deepEqual(searchDirectories({ cwd: '/a/b' }), ['/a/b', '/a', '/']);
  t.deepEqual(searchDirectories({ cwd: 'C:\\a\\b' }), ['C:\\a\\b', 'C:\\a', 'C:\\']);
});

test('loadConfig: discover, parse, validate', async (t) => {
  const { root, deep } = tree(t);
  writeFileSync(join(root, '.sops.yaml'), `creation_rules:\n  - path_regex: ^a/\n    age: ${AGE1}\n    mac_only_encrypted: yes\nstores:\n  yaml: {indent: 2}\n`);
  const loaded = await loadConfig({ cwd: deep, env: {}, fs: realFs });
  t.is(loaded.path, join(root, '.sops.yaml'));
  t.is(loaded.config!.creationRules!.length, 1);
  t.deepEqual(loaded.warnings, [`${join(root, '.sops.yaml')}:4: creation_rules[0].mac_only_encrypted: write true instead of "yes" (a YAML 1.1 boolean)`]);
  t.deepEqual(loadConfigSync({ cwd: deep, env: {}, fs: realFs }).config, loaded.config);
  t.deepEqual((await loadStoreSettings({ cwd: deep, env: {}, fs: realFs })).stores, { yaml: { indent: 2 }, json: {}, json_binary: {} });
});

test('loadConfig: no file is not an error', async (t) => {
  const { deep } = tree(t);
  const fs: ConfigFs = { exists: async () => false, readFile: () => { throw new Error('unreachable'); } };
  const loaded = await loadConfig({ cwd: deep, env: {}, fs });
  t.deepEqual(loaded, { source: 'none', warnings: [], problems: [] });
  t.deepEqual((await loadStoreSettings({ cwd: deep, fs })).stores, { yaml: {}, json: {}, json_binary: {} });
});

test('loadConfig: every problem listed, file path in the message', async (t) => {
  const { root, deep } = tree(t);
  const path = join(root, '.sops.yaml');
  writeFileSync(path, `creation_rules:\n  - encrypted_regexp: ^data$\n    path_regex: "(?=x)"\nstores:\n  yaml: {indent: -1}\n`);
  const e = await t.throwsAsync(loadConfig({ cwd: deep, env: {}, fs: realFs }), { instanceOf: ConfigError });
  t.is(e.message, `invalid config file ${path}: 3 problems`);
  t.deepEqual(e.problems, [
    `${path}:2: creation_rules[0].encrypted_regexp: unknown field \`encrypted_regexp\` in creation_rules[0]; did you mean \`encrypted_regex\`?`,
    `${path}:3: creation_rules[0].path_regex: look-ahead \`(?=\` is not supported by RE2 in \`(?=x)\` (at offset 0)`,
    `${path}:5: stores.yaml.indent: the YAML indent cannot be negative, got -1 (0 means the default, 4)`,
  ]);
  t.is(e.exitCode, 1);
  // decrypt fails on an invalid file too, even though it only uses `stores:`.
  await t.throwsAsync(loadStoreSettings({ cwd: deep, env: {}, fs: realFs }), { instanceOf: ConfigError });
});

test('loadConfig: unreadable and non-UTF-8 files', async (t) => {
  const { root, deep } = tree(t);
  writeFileSync(join(root, '.sops.yaml'), Buffer.from([0x61, 0x3a, 0x20, 0xff, 0x0a]));
  await t.throwsAsync(loadConfig({ cwd: deep, fs: realFs }), { instanceOf: ConfigError, message: /is not valid UTF-8/ });
  const fs: ConfigFs = { exists: () => true, readFile: () => { throw new Error('EACCES: permission denied'); } };
  await t.throwsAsync(loadConfig({ cwd: deep, configPath: 'x.yaml', fs }), { message: `could not read config file ${join(deep, 'x.yaml')}: EACCES: permission denied` });
});
