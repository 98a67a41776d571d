// `tsops diff OLD NEW`: key-path-level differences between plaintext and encrypted files in any
// format, values masked unless --show-values, text diffs of multi-line values, exit 0/1, and
// sops's exit codes on errors.
import test from 'ava';
import { ageWorkspace } from '../helpers/cli.js';

const V1 = `db:
    user: app
    password: pw-one-1111
hosts:
    - a.example
    - b.example
cert: |
    line one
    line two
    line three
port: 5432
`;

test('diff: equal files (encrypted vs its plaintext) exit 0 with no output', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('v1.yaml', V1);
  ws.write('enc.yaml', await ws.encrypted('v1.yaml'));
  const r = await ws.run(['diff', 'enc.yaml', 'v1.yaml']);
  t.is(r.code, 0, r.stderr);
  t.is(r.out, '');
  t.is(r.stderr, '');
});

test('diff: added, removed and changed keys, masked by default; --show-values prints them with text diffs', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('v1.yaml', V1);
  ws.write('old.yaml', await ws.encrypted('v1.yaml'));
  ws.write(
    'v2.yaml',
    V1.replace('pw-one-1111', 'pw-two-2222')
      .replace('    - a.example\n', '    - a.example\n    - a2.example\n')
      .replace('line two', 'line 2')
      .replace('port: 5432\n', 'port: "5432"\nfeature: {enabled: true}\n')
      .replace('    user: app\n', ''),
  );
  ws.write('new.yaml', await ws.encrypted('v2.yaml'));
  const r = await ws.run(['diff', 'old.yaml', 'new.yaml']);
  t.is(r.code, 1, r.stderr);
  t.is(
    r.out,
    [
      '- ["db"]["user"]: <removed string>',
      '~ ["db"]["password"]: <changed>',
      '+ ["hosts"][1]: <added string>',
      '~ ["cert"]: <changed>',
      '    (multi-line: 1 line added, 1 removed)',
      '~ ["port"]: <changed: int -> string>',
      '+ ["feature"]: <added mapping with 1 key>',
      '',
    ].join('\n'),
  );
  for (const s of ['pw-one', 'pw-two', 'a2.example', 'line 2', '"app"']) t.false(r.out.includes(s), `value ${s} shown while masked`);

  const v = await ws.run(['diff', '--show-values', 'old.yaml', 'new.yaml']);
  t.is(v.code, 1, v.stderr);
  t.is(
    v.out,
    [
      '- ["db"]["user"]: "app"',
      '~ ["db"]["password"]: "pw-one-1111" -> "pw-two-2222"',
      '+ ["hosts"][1]: "a2.example"',
      '~ ["cert"]: changed',
      '    @@ -1,3 +1,3 @@',
      '     line one',
      '    -line two',
      '    +line 2',
      '     line three',
      '~ ["port"]: 5432 -> "5432"',
      '+ ["feature"]: {"enabled": true}',
      '',
    ].join('\n'),
  );
});

test('diff works across formats and between plaintext and encrypted files; comments count', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('a.yaml', '# the database\ndb:\n    password: pw-x\n    port: 5432\n');
  ws.write('b.json', '{"db": {"password": "pw-y", "port": 5432}}\n');
  ws.write('b.enc.json', await ws.encrypted('b.json'));
  const r = await ws.run(['diff', 'a.yaml', 'b.enc.json']);
  t.is(r.code, 1, r.stderr);
  t.is(r.out, '~ (document): <comments changed>\n~ ["db"]["password"]: <changed>\n');
  ws.write('c.yaml', 'db:\n    password: pw-y\n    port: 5432\n');
  t.is((await ws.run(['diff', 'c.yaml', 'b.enc.json'])).code, 0);
  ws.write('d.env', 'password=pw-y\n');
  ws.write('e.yaml', 'password: pw-z\nport: 1\n');
  ws.write('e.enc.yaml', await ws.encrypted('e.yaml'));
  const cross = await ws.run(['diff', '--show-values', 'd.env', 'e.enc.yaml']);
  t.is(cross.code, 1);
  t.is(cross.out, '~ ["password"]: "pw-y" -> "pw-z"\n+ ["port"]: 1\n');
  // standard input for one side, with an explicit format
  const stdin = await ws.run(['diff', '--new-type', 'yaml', 'c.yaml', '-'], { input: 'db:\n    password: pw-y\n    port: 5433\n' });
  t.is(stdin.code, 1, stdin.stderr);
  t.is(stdin.out, '~ ["db"]["port"]: <changed>\n');
});

test('diff errors use sops exit codes: missing file, no key, tampered file (--ignore-mac compares anyway)', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('v1.yaml', V1);
  const enc = await ws.encrypted('v1.yaml');
  ws.write('enc.yaml', enc);
  const missing = await ws.run(['diff', 'enc.yaml', 'nope.yaml']);
  t.is(missing.code, 100);
  t.regex(missing.stderr, /tsops: error: nope\.yaml: no such file/);
  const noKey = await ws.run(['diff', 'enc.yaml', 'v1.yaml'], { extraEnv: { SOPS_AGE_KEY_FILE: `${ws.home}/absent.txt` } });
  t.is(noKey.code, 128);
  t.is(noKey.out, '');
  // a value swapped for one from another version: decrypts, the MAC does not match
  ws.write('v1b.yaml', V1.replace('port: 5432', 'port: 6543'));
  const other = await ws.run(['set', 'enc.yaml', '["port"]', '6543']);
  t.is(other.code, 0, other.stderr);
  const newPort = /^port: .*$/m.exec(ws.read('enc.yaml'))![0];
  ws.write('enc.yaml', enc.replace(/^port: .*$/m, newPort));
  const mac = await ws.run(['diff', 'enc.yaml', 'v1.yaml']);
  t.is(mac.code, 51);
  const ignored = await ws.run(['diff', '--ignore-mac', '--show-values', 'v1.yaml', 'enc.yaml']);
  t.is(ignored.code, 1, ignored.stderr);
  t.is(ignored.out, '~ ["port"]: 5432 -> 6543\n');
});
