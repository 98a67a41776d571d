// `tsops groups add` / `tsops groups delete`: a key group of given recipients, deletion by
// index, the data key kept and split anew (as sops does), values/MAC/lastmodified untouched,
// sops's threshold checks; entries of kinds tsops cannot use are kept, and a change that would
// need them re-wrapped is refused with the file unchanged. Plus the Shamir arithmetic behind it.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { combine, split } from '../../src/crypto/shamir.js';
import { shareAt, sharesAreExtensible } from '../../src/keymgmt/shares.js';
import { sharedTest } from '../helpers/shared.js';
import { encs, encValues, GCP_ENTRY, GCP_ID, ok, P1, P2, PLAIN, recipients, snapshot, sopsMeta, workspace } from './_support.js';

const EXPECTED = parseYaml(PLAIN);

sharedTest('groups add: a second group turns one group into 2 of 2; a third with threshold 2 makes 2 of 3', async (t) => {
  const ws = workspace(t, 3);
  const [a0, a1, a2] = ws.age.map((k) => k.recipient);
  ws.write('s.yaml', PLAIN);
  ok(t, await ws.run(['encrypt', '-i', '--age', a0!, '--pgp', P1, 's.yaml']), 'encrypt');
  const before = ws.read('s.yaml');
  // without -i the new file goes to stdout
  const out = await ws.run(['groups', 'add', '--file', 's.yaml', '--age', a1!]);
  ok(t, out, 'groups add to stdout');
  t.deepEqual(recipients(out.out), [[`age:${a0}`, `pgp:${P1}`].sort(), [`age:${a1}`]]);
  t.is(ws.read('s.yaml'), before);

  ok(t, await ws.run(['groups', 'add', '--file', 's.yaml', '-i', '--age', a1!]), 'groups add -i');
  let text = ws.read('s.yaml');
  t.deepEqual(recipients(text), [[`age:${a0}`, `pgp:${P1}`].sort(), [`age:${a1}`]]);
  t.is(sopsMeta(text).shamir_threshold, 2);
  t.deepEqual(encValues(text), encValues(before), 'values and MAC untouched');
  t.is(sopsMeta(text).lastmodified, sopsMeta(before).lastmodified);
  t.is((await ws.run(['decrypt', 's.yaml'], { ages: [0], pgp: true })).code, 128, 'one group is not enough');
  const both = await ws.run(['decrypt', 's.yaml'], { ages: [1], pgp: true });
  ok(t, both, 'decrypt with both groups');
  t.deepEqual(parseYaml(both.out), EXPECTED);

  ok(t, await ws.run(['groups', 'add', '-f', 's.yaml', '-i', '--pgp', P2, '--age', a2!, '--shamir-secret-sharing-threshold', '2']), 'groups add a third');
  text = ws.read('s.yaml');
  t.deepEqual(recipients(text), [[`age:${a0}`, `pgp:${P1}`].sort(), [`age:${a1}`], [`age:${a2}`, `pgp:${P2}`].sort()]);
  t.is(sopsMeta(text).shamir_threshold, 2);
  const o = await ws.oracle('s.yaml', { ages: [1, 2], pgp: false });
  t.is(o.code, 0, o.stderr);
  t.deepEqual(parseYaml(o.stdout), EXPECTED);
  const o2 = await ws.oracle('s.yaml', { ages: [], pgp: true });
  t.is(o2.code, 0, `groups 1 and 3 through P1 and P2: ${o2.stderr}`);
});

sharedTest('groups delete INDEX: shares are split anew, sops checks the threshold', async (t) => {
  const ws = workspace(t, 3);
  const [a0, a1, a2] = ws.age.map((k) => k.recipient);
  ws.write('.sops.yaml', `creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - age: [${a0}]\n      - age: [${a1}]\n      - age: [${a2}]\n        pgp: [${P1}]\n`);
  ws.write('s.yaml', PLAIN);
  ok(t, await ws.run(['encrypt', '-i', 's.yaml']), 'encrypt');
  const before = ws.read('s.yaml');
  ok(t, await ws.run(['groups', 'delete', '--file', 's.yaml', '-i', '1']), 'delete group 1');
  const text = ws.read('s.yaml');
  t.deepEqual(recipients(text), [[`age:${a0}`], [`age:${a2}`, `pgp:${P1}`].sort()]);
  t.is(sopsMeta(text).shamir_threshold, 2);
  t.deepEqual(encValues(text), encValues(before));
  // as sops: every remaining key wraps a share of the new split
  for (const k of [`0:age:${a0}`, `1:age:${a2}`]) t.not(encs(text).get(k), encs(before).get(k === `1:age:${a2}` ? `2:age:${a2}` : k));
  t.is((await ws.run(['decrypt', 's.yaml'], { ages: [1, 2], pgp: false })).code, 128, 'the deleted group no longer counts');
  const o = await ws.oracle('s.yaml', { ages: [0], pgp: true });
  t.is(o.code, 0, o.stderr);
  t.deepEqual(parseYaml(o.stdout), EXPECTED);

  const path = join(ws.dir, 's.yaml');
  const now = snapshot(path);
  const tooFew = await ws.run(['groups', 'delete', '-f', 's.yaml', '-i', '0']);
  t.is(tooFew.code, 1);
  t.regex(tooFew.stderr, /removing this key group will make the Shamir threshold impossible to satisfy: Shamir threshold is 2, but we only have 1 key groups/);
  const noSuch = await ws.run(['groups', 'delete', '-f', 's.yaml', '-i', '7']);
  t.is(noSuch.code, 1);
  t.regex(noSuch.stderr, /there is no group 7/);
  const notIndex = await ws.run(['groups', 'delete', '-f', 's.yaml', '-i', 'x']);
  t.is(notIndex.code, 1);
  t.regex(notIndex.stderr, /failed to parse \[index\] argument/);
  t.deepEqual(snapshot(path), now);
  ok(t, await ws.run(['groups', 'delete', '-f', 's.yaml', '-i', '--shamir-secret-sharing-threshold', '1', '0']), 'delete down to one group');
  const single = ws.read('s.yaml');
  t.deepEqual(recipients(single), [[`age:${a2}`, `pgp:${P1}`].sort()]);
  t.is(sopsMeta(single).shamir_threshold, undefined);
  const last = await ws.run(['groups', 'delete', '-f', 's.yaml', '-i', '0']);
  t.is(last.code, 1);
  t.regex(last.stderr, /only one key group/);
  const dec = await ws.run(['decrypt', 's.yaml'], { ages: [2], pgp: false });
  ok(t, dec, 'decrypt the single group');
  t.deepEqual(parseYaml(dec.out), EXPECTED);
});

test('groups verify the MAC and need the data key; an empty new group is refused', async (t) => {
  const ws = workspace(t, 2);
  const [a0, a1] = ws.age.map((k) => k.recipient);
  ws.write('s.yaml', PLAIN);
  ok(t, await ws.run(['encrypt', '-i', '--age', a0!, 's.yaml']), 'encrypt');
  const path = join(ws.dir, 's.yaml');
  const before = snapshot(path);
  t.is((await ws.run(['groups', 'add', '-f', 's.yaml', '-i', '--age', a1!], { ages: [1] })).code, 128);
  const empty = await ws.run(['groups', 'add', '-f', 's.yaml', '-i']);
  t.is(empty.code, 1);
  t.regex(empty.stderr, /the new key group has no keys/);
  t.deepEqual(snapshot(path), before);
  ws.write('s.yaml', before.bytes.toString().replace('port_unencrypted: 8080', 'port_unencrypted: 9'));
  const tampered = snapshot(path);
  t.is((await ws.run(['groups', 'add', '-f', 's.yaml', '-i', '--age', a1!])).code, 51);
  t.deepEqual(snapshot(path), tampered);
});

test('a gcp_kms entry is kept by groups add; a delete that would need it re-wrapped is refused', async (t) => {
  const ws = workspace(t, 3);
  const [a0, a1, a2] = ws.age.map((k) => k.recipient);
  ws.write('.sops.yaml', `creation_rules:\n  - key_groups:\n      - age: [${a0}]\n      - age: [${a1}]\n`);
  ws.write('s.yaml', PLAIN);
  ok(t, await ws.run(['encrypt', '-i', 's.yaml']), 'encrypt');
  // a gcp_kms key added by hand to the first group (sops with GCP access would have wrapped share 1 for it)
  const entry = GCP_ENTRY.split('\n').filter(Boolean).map((l) => `            ${l}`).join('\n');
  ws.write('s.yaml', ws.read('s.yaml').replace(/\n    key_groups:\n        - age:\n/, `\n    key_groups:\n        - gcp_kms:\n${entry}\n          age:\n`));
  t.deepEqual(recipients(ws.read('s.yaml'))[0], [`age:${a0}`, `gcp_kms:${GCP_ID}`].sort());
  const before = ws.read('s.yaml');
  ok(t, await ws.run(['groups', 'add', '-f', 's.yaml', '-i', '--age', a2!]), 'groups add');
  const text = ws.read('s.yaml');
  t.deepEqual(recipients(text), [[`age:${a0}`, `gcp_kms:${GCP_ID}`].sort(), [`age:${a1}`], [`age:${a2}`]]);
  t.deepEqual(sopsMeta(text).key_groups[0].gcp_kms, parseYaml(GCP_ENTRY));
  // the existing shares were kept so the gcp_kms entry stays valid; the new group got its own
  t.is(encs(text).get(`0:age:${a0}`), encs(before).get(`0:age:${a0}`));
  t.is(sopsMeta(text).shamir_threshold, 2);
  const dec = await ws.run(['decrypt', 's.yaml'], { ages: [0, 2] });
  ok(t, dec, 'groups 1 + 3');
  t.deepEqual(parseYaml(dec.out), EXPECTED);
  const path = join(ws.dir, 's.yaml');
  const now = snapshot(path);
  const del = await ws.run(['groups', 'delete', '-f', 's.yaml', '-i', '1']);
  t.is(del.code, 1);
  t.regex(del.stderr, new RegExp(`tsops cannot wrap the data key for gcp_kms ${GCP_ID} \\(group 1\\)`));
  t.deepEqual(snapshot(path), now);
});

test('shareAt: any threshold shares give every other share and new points of the same split', (t) => {
  for (const [n, k] of [[2, 2], [3, 2], [5, 3], [4, 4]] as const) {
    const secret = randomBytes(32);
    const shares = split(secret, n, k);
    for (let i = 0; i < n; i++) t.deepEqual(shareAt(shares.slice(0, k), i + 1), shares[i], `share ${i + 1} of ${n} (k=${k})`);
    const extra = shareAt(shares.slice(n - k), n + 1);
    t.is(extra[32], n + 1);
    t.deepEqual(Buffer.from(combine([extra, ...shares.slice(0, k - 1)])), secret, 'a new point combines with the old shares');
    t.true(sharesAreExtensible(shares, k));
    const other = split(secret, n, k);
    if (n > k) t.false(sharesAreExtensible([...shares.slice(0, k), other[k]!], k), 'shares of two splits are not one polynomial');
  }
});
