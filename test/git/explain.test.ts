// `tsops config explain FILE`: the config found, the rule that matched and why earlier ones did
// not, recipients and key groups, and which values the rule encrypts (plaintext file, encrypted
// file with and without a key, a file that does not exist yet).
import test from 'ava';
import { join } from 'node:path';
import { ageKeygen } from '../helpers/cli.js';
import { gitRepo } from './_support.js';

test('config explain: rule matching with reasons, key groups and the values the rule encrypts', async (t) => {
  const repo = gitRepo(t);
  const other = ageKeygen(repo.home, 'other.txt');
  repo.write(
    '.sops.yaml',
    `creation_rules:
  - path_regex: '^dev/'
    age: ${repo.key.recipient}
  - path_regex: '^prod/.*\\.yaml$'
    encrypted_regex: '^(password|token)$'
    shamir_threshold: 2
    key_groups:
      - age: [${repo.key.recipient}]
      - age: [${other.recipient}]
  - age: ${repo.key.recipient}
`,
  );
  repo.write('prod/app.yaml', 'db:\n    host: db.internal\n    password: pw-explain-1\nlist:\n    - token: t1\n    - name: n\nempty: null\n');
  const sub = join(repo.dir, 'prod');
  const r = await repo.tsops(['config', 'explain', 'app.yaml'], { cwd: sub });
  t.is(r.code, 0, r.stderr);
  const lines = r.out.split('\n');
  t.is(lines[0], `config: ${join(repo.dir, '.sops.yaml')} (found searching upward from ${sub})`);
  t.true(r.out.includes('  matched as `prod/app.yaml`'));
  t.true(r.out.includes('  creation_rules[0]: no: path_regex `^dev/` does not match `prod/app.yaml`\n'));
  t.true(r.out.includes('  creation_rules[1]: MATCHES: path_regex `^prod/.*\\.yaml$` matches `prod/app.yaml`\n'));
  t.false(r.out.includes('creation_rules[2]'), 'rules after the winner are not looked at');
  t.true(r.out.includes(`recipients: 2 key groups: 2 of them are needed (Shamir)\n  group 1:\n    age  ${repo.key.recipient}\n  group 2:\n    age  ${other.recipient}\n`));
  t.true(r.out.includes('encryption rule: encrypted_regex "^(password|token)$"\n'));
  t.true(
    r.out.endsWith(
      [
        'values (the file is plaintext):',
        '  plaintext  ["db"]["host"]',
        '  encrypted  ["db"]["password"]',
        '  encrypted  ["list"][0]["token"]',
        '  plaintext  ["list"][1]["name"]',
        '  plaintext  ["empty"]',
        '2 of 5 values would be encrypted',
        '',
      ].join('\n'),
    ),
    r.out,
  );
  t.false(r.out.includes('pw-explain-1'), 'values themselves are never shown');

  // encrypted: with a key the values are decrypted; without one the key names still tell
  const enc = await repo.tsops(['encrypt', '-i', 'prod/app.yaml']);
  t.is(enc.code, 0, enc.stderr);
  // both groups are needed (threshold 2): both identities at hand
  const withKey = await repo.tsops(['config', 'explain', 'prod/app.yaml'], { extraEnv: { SOPS_AGE_KEY: `${repo.key.identity}\n${other.identity}` } });
  t.is(withKey.code, 0, withKey.stderr);
  t.regex(withKey.out, /values \(the file is encrypted; decrypted with a key at hand\):\n {2}plaintext {2}\["db"\]\["host"\]\n {2}encrypted {2}\["db"\]\["password"\]/);
  const noKey = await repo.tsops(['config', 'explain', 'prod/app.yaml'], { extraEnv: { SOPS_AGE_KEY_FILE: join(repo.home, 'absent.txt') } });
  t.is(noKey.code, 0, noKey.stderr);
  t.regex(noKey.out, /values \(the file is encrypted and no key at hand decrypts it; from its key names\):\n/);
  t.regex(noKey.out, /2 of 5 values would be encrypted\n$/);

  // the catch-all rule, for a file that does not exist yet
  const fresh = await repo.tsops(['config', 'explain', 'misc/new.json']);
  t.is(fresh.code, 0, fresh.stderr);
  t.regex(fresh.out, /creation_rules\[1\]: no: path_regex `\^prod\/\.\*\\\.yaml\$` does not match `misc\/new\.json`\n/);
  t.regex(fresh.out, /creation_rules\[2\]: MATCHES: it has no path_regex, so it matches every file\n/);
  t.regex(fresh.out, /encryption rule: the default: every value except keys ending in _unencrypted/);
  t.regex(fresh.out, /values: the file does not exist yet; the rule above would apply to it\n$/);
});

test('config explain: no rule matches (exit 1), no config (exit 1), --config', async (t) => {
  const repo = gitRepo(t);
  const none = await repo.tsops(['config', 'explain', 'x.yaml']);
  t.is(none.code, 1);
  t.regex(none.stderr, /tsops: error: no \.sops\.yaml found/);
  repo.write('conf/sops.yaml', `creation_rules:\n  - path_regex: 'secrets/'\n    age: ${repo.key.recipient}\n`);
  const r = await repo.tsops(['config', 'explain', '--config', 'conf/sops.yaml', 'app.yaml']);
  t.is(r.code, 1);
  t.regex(r.out, /^config: .*conf\/sops\.yaml \(from --config\)\n/);
  t.true(r.out.includes(`creation_rules[0]: no: path_regex \`secrets/\` does not match \`${join(repo.dir, 'app.yaml')}\`\n`), 'outside the config directory the absolute path is matched');
  t.regex(r.out, /no creation rule matches this file/);
});
