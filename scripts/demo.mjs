#!/usr/bin/env node
// The main job end to end on the built-in default: an age key in a local key file, no cloud.
//   1. create an age identity in .tsops-demo/keys.txt (once),
//   2. write a sample .sops.yaml whose creation rule names that recipient,
//   3. encrypt a sample secrets file with the CLI (the rule picks the key),
//   4. show the encrypted file, decrypt it, and extract one value.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateAgeIdentity } from '../dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const demo = join(root, '.tsops-demo');
const keyFile = join(demo, 'keys.txt');
mkdirSync(join(demo, 'secrets'), { recursive: true });

if (!existsSync(keyFile)) {
  const { identity, recipient } = await generateAgeIdentity();
  writeFileSync(keyFile, `# created: ${new Date().toISOString()}\n# public key: ${recipient}\n${identity}\n`, { mode: 0o600 });
  console.log(`created an age key in ${keyFile}`);
}
const recipient = /# public key: (\S+)/.exec(readFileSync(keyFile, 'utf8'))[1];

writeFileSync(
  join(demo, '.sops.yaml'),
  `creation_rules:\n  - path_regex: secrets/.*\\.yaml$\n    age: ${recipient}\n`,
);
writeFileSync(
  join(demo, 'secrets', 'app.yaml'),
  `# database settings\ndb:\n  user: app\n  password: s3cr3t-Pa55\n  port: 5432\nfeature_flags:\n  - beta\n  - dark-mode\npublic_unencrypted: visible to everyone\n`,
);

const env = { ...process.env, SOPS_AGE_KEY_FILE: keyFile };
function tsops(...args) {
  console.log(`\n$ tsops ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [join(root, 'bin', 'tsops.js'), ...args], { cwd: demo, env, encoding: 'utf8' });
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  if (r.status !== 0) {
    console.error(`demo failed: tsops exited with ${r.status}`);
    process.exit(r.status ?? 1);
  }
  return r.stdout;
}

tsops('encrypt', '-i', 'secrets/app.yaml');
console.log('\n--- secrets/app.yaml (encrypted, safe to commit) ---');
process.stdout.write(readFileSync(join(demo, 'secrets', 'app.yaml'), 'utf8'));
tsops('decrypt', 'secrets/app.yaml');
const pw = tsops('decrypt', '--extract', '["db"]["password"]', 'secrets/app.yaml');
console.log(pw === 's3cr3t-Pa55' ? '\n\ndemo ok: the extracted password matches' : '\n\ndemo FAILED: unexpected extract output');
process.exit(pw === 's3cr3t-Pa55' ? 0 : 1);
