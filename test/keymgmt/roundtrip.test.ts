// Round trips through the CLI with age and PGP keys mixed, with and without key groups and
// Shamir thresholds (2 of 3, 3 of 3): tsops decrypts with exactly the keys that should be
// enough (and refuses with fewer, exit 128), and the real sops 3.9.2 engine decrypts every file
// tsops wrote with the same sets of keys.
import test from 'ava';
import { parse as parseYaml } from 'yaml';
import { sharedTest } from '../helpers/shared.js';
import { ok, P1, P2, PLAIN, sopsMeta, workspace, type Workspace } from './_support.js';

const EXPECTED = parseYaml(PLAIN);

async function decryptsWith(t: Parameters<typeof ok>[0], ws: Workspace, file: string, keys: { ages: number[]; pgp: boolean }, expectOk: boolean): Promise<void> {
  const r = await ws.run(['decrypt', file], keys);
  const what = `ages ${JSON.stringify(keys.ages)}, pgp ${keys.pgp}`;
  if (expectOk) {
    ok(t, r, `decrypt with ${what}`);
    t.deepEqual(parseYaml(r.out), EXPECTED, what);
  } else {
    t.is(r.code, 128, `decrypt with only ${what} must fail with 128: ${r.stderr}`);
    t.is(r.out, '');
  }
}

async function oracleWith(t: Parameters<typeof ok>[0], ws: Workspace, file: string, keys: { ages: number[]; pgp: boolean }, expectOk: boolean): Promise<void> {
  const r = await ws.oracle(file, keys);
  const what = `ages ${JSON.stringify(keys.ages)}, pgp ${keys.pgp}`;
  if (expectOk) {
    t.is(r.code, 0, `sops 3.9.2 with ${what}: ${r.stderr}`);
    t.deepEqual(parseYaml(r.stdout), EXPECTED, what);
  } else t.not(r.code, 0, `sops 3.9.2 must not decrypt with only ${what}`);
}

test('one group, age + PGP mixed: any one key decrypts', async (t) => {
  const ws = workspace(t, 2);
  ws.write('s.yaml', PLAIN);
  ok(t, await ws.run(['encrypt', '-i', '--age', ws.age[0]!.recipient, '--pgp', P1, 's.yaml']), 'encrypt');
  const md = sopsMeta(ws.read('s.yaml'));
  t.is(md.key_groups, undefined);
  t.deepEqual([md.age.map((k: any) => k.recipient), md.pgp.map((k: any) => k.fp)], [[ws.age[0]!.recipient], [P1]]);
  await decryptsWith(t, ws, 's.yaml', { ages: [0], pgp: false }, true);
  await decryptsWith(t, ws, 's.yaml', { ages: [], pgp: true }, true);
  await decryptsWith(t, ws, 's.yaml', { ages: [1], pgp: false }, false);
});

sharedTest('one group, age + PGP mixed: sops 3.9.2 decrypts with either key', async (t) => {
  const ws = workspace(t, 1);
  ws.write('s.yaml', PLAIN);
  ok(t, await ws.run(['encrypt', '-i', '--age', ws.age[0]!.recipient, '--pgp', P1, 's.yaml']), 'encrypt');
  await oracleWith(t, ws, 's.yaml', { ages: [0], pgp: false }, true);
  await oracleWith(t, ws, 's.yaml', { ages: [], pgp: true }, true);
});

const TWO_OF_THREE = (ws: Workspace) => `creation_rules:
  - path_regex: \\.yaml$
    shamir_threshold: 2
    key_groups:
      - age: [${ws.age[0]!.recipient}]
      - pgp: [${P1}]
      - age: [${ws.age[1]!.recipient}]
        pgp: [${P2}]
`;

test('key groups, 2 of 3 (age, PGP, age + PGP): any two groups decrypt, one does not', async (t) => {
  const ws = workspace(t, 3);
  ws.write('.sops.yaml', TWO_OF_THREE(ws));
  ws.write('s.yaml', PLAIN);
  ok(t, await ws.run(['encrypt', '-i', 's.yaml']), 'encrypt');
  const md = sopsMeta(ws.read('s.yaml'));
  t.is(md.shamir_threshold, 2);
  t.is(md.key_groups.length, 3);
  t.deepEqual(md.key_groups[2].pgp.map((k: any) => k.fp), [P2]);
  await decryptsWith(t, ws, 's.yaml', { ages: [0], pgp: true }, true); // groups 1 + 2 (+ 3 through P2)
  await decryptsWith(t, ws, 's.yaml', { ages: [0, 1], pgp: false }, true); // groups 1 + 3
  await decryptsWith(t, ws, 's.yaml', { ages: [0], pgp: false }, false); // group 1 only
  await decryptsWith(t, ws, 's.yaml', { ages: [2], pgp: false }, false); // nobody
});

sharedTest('key groups, 2 of 3: sops 3.9.2 decrypts with two groups, not with one', async (t) => {
  const ws = workspace(t, 2);
  ws.write('.sops.yaml', TWO_OF_THREE(ws));
  ws.write('s.yaml', PLAIN);
  ok(t, await ws.run(['encrypt', '-i', 's.yaml']), 'encrypt');
  await oracleWith(t, ws, 's.yaml', { ages: [0, 1], pgp: false }, true);
  await oracleWith(t, ws, 's.yaml', { ages: [], pgp: true }, true); // groups 2 + 3 through P1 and P2
  await oracleWith(t, ws, 's.yaml', { ages: [0], pgp: false }, false);
});

const THREE_OF_THREE = (ws: Workspace, threshold: string) => `creation_rules:
  - path_regex: \\.yaml$${threshold}
    key_groups:
      - age: [${ws.age[0]!.recipient}]
      - age: [${ws.age[1]!.recipient}]
      - pgp: [${P1}]
`;

for (const [how, threshold] of [['shamir_threshold: 3', '\n    shamir_threshold: 3'], ['no threshold (all groups)', '']] as const) {
  sharedTest(`key groups, 3 of 3 with ${how}: only all three decrypt, in tsops and sops 3.9.2`, async (t) => {
    const ws = workspace(t, 2);
    ws.write('.sops.yaml', THREE_OF_THREE(ws, threshold));
    ws.write('s.yaml', PLAIN);
    ok(t, await ws.run(['encrypt', '-i', 's.yaml']), 'encrypt');
    t.is(sopsMeta(ws.read('s.yaml')).shamir_threshold, 3);
    await decryptsWith(t, ws, 's.yaml', { ages: [0, 1], pgp: true }, true);
    await decryptsWith(t, ws, 's.yaml', { ages: [0, 1], pgp: false }, false);
    await oracleWith(t, ws, 's.yaml', { ages: [0, 1], pgp: true }, true);
    await oracleWith(t, ws, 's.yaml', { ages: [0], pgp: true }, false);
  });
}

test('--shamir-secret-sharing-threshold overrides the rule', async (t) => {
  const ws = workspace(t, 2);
  ws.write('.sops.yaml', THREE_OF_THREE(ws, '\n    shamir_threshold: 3'));
  ws.write('s.yaml', PLAIN);
  ok(t, await ws.run(['encrypt', '-i', '--shamir-secret-sharing-threshold', '2', 's.yaml']), 'encrypt');
  t.is(sopsMeta(ws.read('s.yaml')).shamir_threshold, 2);
  await decryptsWith(t, ws, 's.yaml', { ages: [1], pgp: true }, true);
  await decryptsWith(t, ws, 's.yaml', { ages: [1], pgp: false }, false);
});
