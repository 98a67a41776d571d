// `tsops filestatus` (sops's `{"encrypted":true|false}`: metadata with a version and a MAC) on
// plain, encrypted and half-made files, and `tsops keys` (who can decrypt: groups, threshold,
// recipients, when each key was wrapped), in text and JSON. Neither needs any key.
import test from 'ava';
import { ok, P1, PLAIN, withGcpEntry, workspace, GCP_ID } from './_support.js';

test('filestatus: plain files are not encrypted, encrypted ones are; a file without MAC or version is not', async (t) => {
  const ws = workspace(t, 1);
  ws.write('plain.yaml', PLAIN);
  ws.write('plain.json', '{"a": 1}');
  ws.write('plain.env', 'A=1\n');
  ws.write('s.yaml', PLAIN);
  ok(t, await ws.run(['encrypt', '-i', '--age', ws.age[0]!.recipient, 's.yaml']), 'encrypt');
  ws.write('s.json', '{"a": "b"}');
  ok(t, await ws.run(['encrypt', '-i', '--age', ws.age[0]!.recipient, 's.json']), 'encrypt json');
  const enc = ws.read('s.yaml');
  ws.write('nomac.yaml', enc.replace(/\n    mac: ENC\[[^\n]*/, ''));
  ws.write('noversion.yaml', enc.replace(/\n    version: [^\n]*/, ''));
  const expected: Record<string, boolean> = { 'plain.yaml': false, 'plain.json': false, 'plain.env': false, 's.yaml': true, 's.json': true, 'nomac.yaml': false, 'noversion.yaml': false };
  for (const [file, encrypted] of Object.entries(expected)) {
    // no key at all is needed
    const r = await ws.run(['filestatus', file], { ages: [], pgp: false });
    ok(t, r, `filestatus ${file}`);
    t.is(r.out, `{"encrypted":${encrypted}}\n`, file);
  }
  // a YAML file under another name: binary by its name (an encrypted binary file is JSON, so
  // sops, and tsops, fail to load it), YAML with --input-type
  ws.write('s.txt', enc);
  const asBinary = await ws.run(['filestatus', 's.txt']);
  t.is(asBinary.code, 1);
  t.regex(asBinary.stderr, /cannot check file status: cannot load encrypted file/);
  t.is((await ws.run(['filestatus', '--input-type', 'yaml', 's.txt'])).out, '{"encrypted":true}\n');
  const missing = await ws.run(['filestatus', 'missing.yaml']);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /cannot check file status/);
  ws.write('broken.json', '{"a": ');
  const broken = await ws.run(['filestatus', 'broken.json']);
  t.is(broken.code, 1);
  t.is(broken.out, '');
});

test('keys: groups, threshold, recipients and wrap dates, in text and JSON', async (t) => {
  const ws = workspace(t, 2);
  const [a0, a1] = ws.age.map((k) => k.recipient);
  ws.write('one.yaml', PLAIN);
  ok(t, await ws.run(['encrypt', '-i', '--age', a0!, '--pgp', P1, 'one.yaml']), 'encrypt one');
  ws.write('one.yaml', withGcpEntry(ws.read('one.yaml')));
  ws.write('.sops.yaml', `creation_rules:\n  - path_regex: two\n    shamir_threshold: 2\n    key_groups:\n      - age: [${a0}]\n      - age: [${a1}]\n        pgp: [${P1}]\n      - age: [${a1}]\n`);
  ws.write('two.yaml', PLAIN);
  ok(t, await ws.run(['encrypt', '-i', 'two.yaml']), 'encrypt two');

  const r = await ws.run(['keys', 'one.yaml', 'two.yaml'], { ages: [], pgp: false });
  ok(t, r, 'keys');
  const [one, two] = r.out.split('\n\n');
  t.regex(one!, /^one\.yaml\n  1 key group: any of its keys can decrypt; last modified \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ; sops format 3\.13\.2\n  group 1 \(index 0\):\n/);
  t.regex(one!, new RegExp(`\\n    age      ${a0}(\\n|$)`), 'age keys have no date');
  t.regex(one!, new RegExp(`\\n    pgp      ${P1}  \\(wrapped \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\)\\n`));
  t.regex(one!, new RegExp(`\\n    gcp_kms  ${GCP_ID}  \\(wrapped 2024-01-02T03:04:05Z\\)  \\[tsops cannot use gcp_kms keys; kept as is\\]`));
  t.regex(two!, /^two\.yaml\n  3 key groups: 2 of 3 are needed to decrypt \(Shamir\)/);
  t.regex(two!, /group 3 \(index 2\):\n    age  age1/);

  const j = await ws.run(['keys', '--json', 'two.yaml']);
  ok(t, j, 'keys --json');
  const listing = JSON.parse(j.out);
  t.is(listing.length, 1);
  t.is(listing[0].file, 'two.yaml');
  t.is(listing[0].threshold, 2);
  t.deepEqual(listing[0].groups.map((g: any[]) => g.map((k) => `${k.type}:${k.identity}`)), [[`age:${a0}`], [`pgp:${P1}`, `age:${a1}`], [`age:${a1}`]]);
  t.regex(listing[0].groups[1][0].createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.is(listing[0].groups[0][0].createdAt, undefined);

  ws.write('plain.yaml', PLAIN);
  const plain = await ws.run(['keys', 'plain.yaml']);
  t.is(plain.code, 1);
  t.regex(plain.stderr, /sops metadata not found/);
  const mixed = await ws.run(['keys', 'plain.yaml', 'two.yaml']);
  t.is(mixed.code, 1, 'one file failed');
  t.regex(mixed.out, /^two\.yaml\n/);
});
