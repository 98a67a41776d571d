// `tsops rotate` (and the legacy `tsops -r`): a new data key, every value re-encrypted, no value
// or recipient lost that was not asked to go; --add-*/--rm-* by recipient string; sops's exit
// codes (49 for --add/--rm on a missing file, 128 without the data key); a failure half-way
// leaves the file byte-identical; keys of kinds tsops cannot wrap make it refuse.
import test from 'ava';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startKmsServer, kmsTestEnv } from '../helpers/kms-server.js';
import { sharedTest } from '../helpers/shared.js';
import { runOracle } from '../helpers/oracle.js';
import { encs, encValues, GCP_ID, listing, ok, P1, P2, PLAIN, recipients, snapshot, sopsMeta, UNKNOWN_FP, withGcpEntry, workspace } from './_support.js';

const EXPECTED = parseYaml(PLAIN);

sharedTest('rotate -i: new data key, same values and recipients, readable by sops 3.9.2', async (t) => {
  const ws = workspace(t, 1);
  ws.write('s.yaml', PLAIN);
  ok(t, await ws.run(['encrypt', '-i', '--age', ws.age[0]!.recipient, '--pgp', P1, 's.yaml']), 'encrypt');
  const before = ws.read('s.yaml');
  ok(t, await ws.run(['rotate', '-i', 's.yaml']), 'rotate');
  const after = ws.read('s.yaml');
  t.deepEqual(recipients(after), recipients(before));
  // every value and the MAC re-encrypted, every key wrapped again
  const [b, a] = [encValues(before), encValues(after)];
  t.is(a.length, b.length);
  t.true(a.every((v) => !b.includes(v)), 'no ciphertext survives a rotation');
  for (const [k, enc] of encs(after)) t.not(enc, encs(before).get(k), `${k} wrapped again`);
  // pgp created_at is kept (sops keeps the key entries; only enc changes)
  t.is(sopsMeta(after).pgp[0].created_at, sopsMeta(before).pgp[0].created_at);
  const dec = await ws.run(['decrypt', 's.yaml'], { pgp: false });
  ok(t, dec, 'decrypt');
  t.deepEqual(parseYaml(dec.out), EXPECTED);
  const o = await ws.oracle('s.yaml', { ages: [], pgp: true });
  t.is(o.code, 0, o.stderr);
  t.deepEqual(parseYaml(o.stdout), EXPECTED);
});

test('rotate without -i prints to stdout; legacy -r and --rotate work the same', async (t) => {
  const ws = workspace(t, 1);
  ws.write('s.yaml', PLAIN);
  ok(t, await ws.run(['encrypt', '-i', '--age', ws.age[0]!.recipient, 's.yaml']), 'encrypt');
  const before = snapshot(join(ws.dir, 's.yaml'));
  for (const args of [['rotate', 's.yaml'], ['-r', 's.yaml'], ['--rotate', 's.yaml']]) {
    const r = await ws.run(args);
    ok(t, r, args.join(' '));
    t.true(r.out.includes('sops:'), 'the rotated file is printed');
    t.deepEqual(recipients(r.out), recipients(before.bytes.toString()));
    t.notDeepEqual(encValues(r.out), encValues(before.bytes.toString()));
    t.deepEqual(snapshot(join(ws.dir, 's.yaml')), before, 'the file itself is untouched');
  }
  ok(t, await ws.run(['-r', '-i', 's.yaml']), 'legacy -r -i');
  t.notDeepEqual(encValues(ws.read('s.yaml')), encValues(before.bytes.toString()));
});

test('--add-*/--rm-* change exactly the named recipients, in a mixed age + PGP file', async (t) => {
  const ws = workspace(t, 3);
  const [a0, a1, a2] = ws.age.map((k) => k.recipient);
  ws.write('s.yaml', PLAIN);
  ok(t, await ws.run(['encrypt', '-i', '--age', `${a0},${a1}`, '--pgp', P1, 's.yaml']), 'encrypt');
  ok(t, await ws.run(['rotate', '-i', '--add-age', a2!, '--rm-age', a0!, '--add-pgp', P2, 's.yaml']), 'rotate');
  t.deepEqual(recipients(ws.read('s.yaml')), [[`age:${a1}`, `age:${a2}`, `pgp:${P1}`, `pgp:${P2}`].sort()]);
  ok(t, await ws.run(['rotate', '-i', '--rm-pgp', P1, 's.yaml']), 'rotate --rm-pgp');
  t.deepEqual(recipients(ws.read('s.yaml')), [[`age:${a1}`, `age:${a2}`, `pgp:${P2}`].sort()]);
  // the removed age key cannot decrypt any more; the remaining ones can
  t.is((await ws.run(['decrypt', 's.yaml'], { ages: [0], pgp: false })).code, 128);
  const dec = await ws.run(['decrypt', 's.yaml'], { ages: [2], pgp: false });
  ok(t, dec, 'decrypt with an added key');
  t.deepEqual(parseYaml(dec.out), EXPECTED);
  // removing a key that is not there changes nothing about the keys and says so
  const r = await ws.run(['rotate', '-i', '--rm-age', a0!, 's.yaml']);
  ok(t, r, 'rotate --rm-age of an absent key');
  t.regex(r.stderr, /is not a key of s\.yaml; nothing to remove/);
  t.deepEqual(recipients(ws.read('s.yaml')), [[`age:${a1}`, `age:${a2}`, `pgp:${P2}`].sort()]);
});

sharedTest('with key groups: --add goes to the first group, --rm removes from every group', async (t) => {
  const ws = workspace(t, 3);
  const [a0, a1, a2] = ws.age.map((k) => k.recipient);
  ws.write('.sops.yaml', `creation_rules:\n  - key_groups:\n      - age: [${a0}]\n      - age: [${a1}]\n        pgp: [${P1}]\n`);
  ws.write('s.yaml', PLAIN);
  ok(t, await ws.run(['encrypt', '-i', 's.yaml']), 'encrypt');
  ok(t, await ws.run(['rotate', '-i', '--add-age', a2!, '--rm-pgp', P1, 's.yaml']), 'rotate');
  const text = ws.read('s.yaml');
  t.deepEqual(recipients(text), [[`age:${a0}`, `age:${a2}`].sort(), [`age:${a1}`]]);
  t.is(sopsMeta(text).shamir_threshold, 2);
  const o = await ws.oracle('s.yaml', { ages: [1, 2], pgp: false });
  t.is(o.code, 0, o.stderr);
  t.deepEqual(parseYaml(o.stdout), EXPECTED);
  // removing the only key of a group: sops's message, nothing written
  const before = snapshot(join(ws.dir, 's.yaml'));
  const r = await ws.run(['rotate', '-i', '--rm-age', a1!, 's.yaml']);
  t.is(r.code, 1);
  t.is(r.stderr, 'Could not generate data key: [empty key group provided]\n');
  t.deepEqual(snapshot(join(ws.dir, 's.yaml')), before);
});

test('a failure half-way (gpg cannot encrypt to an added key) leaves the file byte-identical', async (t) => {
  const ws = workspace(t, 1);
  ws.write('s.yaml', PLAIN);
  ok(t, await ws.run(['encrypt', '-i', '--age', ws.age[0]!.recipient, '--pgp', P1, 's.yaml']), 'encrypt');
  const before = snapshot(join(ws.dir, 's.yaml'));
  const files = listing(ws.dir);
  const r = await ws.run(['rotate', '-i', '--add-pgp', UNKNOWN_FP, 's.yaml']);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, new RegExp(`could not encrypt the data key with PGP key ${UNKNOWN_FP}`));
  t.deepEqual(snapshot(join(ws.dir, 's.yaml')), before);
  t.deepEqual(listing(ws.dir), files, 'no temp file left behind');
});

test('exit codes: 49 for --add/--rm on a missing file, 128 without the data key, 51 for a bad MAC', async (t) => {
  const ws = workspace(t, 2);
  for (const flag of ['--add-age', '--rm-age']) {
    const r = await ws.run(['rotate', flag, ws.age[0]!.recipient, 'missing.yaml']);
    t.is(r.code, 49, r.stderr);
    t.regex(r.stderr, /cannot add or remove keys on non-existent file .*missing\.yaml.*edit/);
  }
  t.false(existsSync(join(ws.dir, 'missing.yaml')));
  ws.write('s.yaml', PLAIN);
  ok(t, await ws.run(['encrypt', '-i', '--age', ws.age[0]!.recipient, 's.yaml']), 'encrypt');
  const before = snapshot(join(ws.dir, 's.yaml'));
  const r = await ws.run(['rotate', '-i', '--add-age', ws.age[1]!.recipient, 's.yaml'], { ages: [1] });
  t.is(r.code, 128, r.stderr);
  t.deepEqual(snapshot(join(ws.dir, 's.yaml')), before);
  // a clear-text value changed by hand: the MAC no longer matches (rotate would otherwise bless it)
  ws.write('s.yaml', before.bytes.toString().replace('port_unencrypted: 8080', 'port_unencrypted: 8081'));
  const tampered = snapshot(join(ws.dir, 's.yaml'));
  const m = await ws.run(['rotate', '-i', 's.yaml']);
  t.is(m.code, 51, m.stderr);
  t.deepEqual(snapshot(join(ws.dir, 's.yaml')).bytes, tampered.bytes);
  ok(t, await ws.run(['rotate', '-i', '--ignore-mac', 's.yaml']), 'rotate --ignore-mac');
});

test('a key of a kind tsops cannot wrap (gcp_kms) makes rotate refuse; --rm-gcp-kms removes it', async (t) => {
  const ws = workspace(t, 1);
  ws.write('s.yaml', PLAIN);
  ok(t, await ws.run(['encrypt', '-i', '--age', ws.age[0]!.recipient, 's.yaml']), 'encrypt');
  ws.write('s.yaml', withGcpEntry(ws.read('s.yaml')));
  const before = snapshot(join(ws.dir, 's.yaml'));
  // the hand-added entry does not stop decryption (the MAC does not cover metadata)
  ok(t, await ws.run(['decrypt', 's.yaml']), 'decrypt with the gcp entry');
  const r = await ws.run(['rotate', '-i', 's.yaml']);
  t.is(r.code, 1);
  t.regex(r.stderr, new RegExp(`cannot rotate s\\.yaml: tsops cannot wrap a new data key for gcp_kms ${GCP_ID}`));
  t.regex(r.stderr, /--rm-gcp-kms/);
  t.deepEqual(snapshot(join(ws.dir, 's.yaml')), before);
  ok(t, await ws.run(['rotate', '-i', '--rm-gcp-kms', GCP_ID, 's.yaml']), 'rotate --rm-gcp-kms');
  t.deepEqual(recipients(ws.read('s.yaml')), [[`age:${ws.age[0]!.recipient}`]]);
});

sharedTest('--add-kms/--rm-kms with an encryption context, through a loopback KMS; sops 3.9.2 decrypts', async (t) => {
  const ws = workspace(t, 1);
  const server = await startKmsServer({ mode: 'oracle' });
  t.teardown(() => server.close());
  const arn = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const extraEnv = kmsTestEnv(server.url, ws.home, { SOPS_AGE_KEY: ws.age[0]!.identity });
  ws.write('s.yaml', PLAIN);
  ok(t, await ws.run(['encrypt', '-i', '--age', ws.age[0]!.recipient, 's.yaml'], { extraEnv }), 'encrypt');
  ok(t, await ws.run(['rotate', '-i', '--add-kms', arn, '--encryption-context', 'app:web,env:prod', 's.yaml'], { extraEnv }), 'rotate --add-kms');
  const kms = sopsMeta(ws.read('s.yaml')).kms;
  t.is(kms.length, 1);
  t.deepEqual([kms[0].arn, kms[0].context], [arn, { app: 'web', env: 'prod' }]);
  // the oracle answers KMS itself: it decrypts with the KMS key alone
  const o = await runOracle(ws.read('s.yaml'), { format: 'yaml' });
  t.is(o.code, 0, o.stderr);
  t.deepEqual(parseYaml(o.stdout), EXPECTED);
  // --rm-kms compares ARN, role, context and profile as sops does: without the context it is another key
  const miss = await ws.run(['rotate', '-i', '--rm-kms', arn, 's.yaml'], { extraEnv });
  ok(t, miss, 'rotate --rm-kms without context');
  t.regex(miss.stderr, /nothing to remove/);
  t.is(sopsMeta(ws.read('s.yaml')).kms.length, 1);
  ok(t, await ws.run(['rotate', '-i', '--rm-kms', arn, '--encryption-context', 'env:prod,app:web', 's.yaml'], { extraEnv }), 'rotate --rm-kms');
  t.deepEqual(recipients(ws.read('s.yaml')), [[`age:${ws.age[0]!.recipient}`]]);
});
