// `tsops updatekeys`: files follow their creation rule; the data key, values, MAC and
// lastmodified stay (only new keys are wrapped, kept keys keep their enc); the change is shown
// as a diff and confirmed (--yes, a terminal, or a clear refusal); --dry-run, --rotate and
// --all (git-tracked files in a git repository); failures leave files byte-identical; entries of
// kinds tsops cannot use are kept.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { BIN } from '../helpers/cli.js';
import { sharedTest } from '../helpers/shared.js';
import { encs, encValues, GCP_ENTRY, GCP_ID, listing, ok, P1, PLAIN, recipients, snapshot, sopsMeta, UNKNOWN_FP, withGcpEntry, workspace, type Workspace } from './_support.js';

const EXPECTED = parseYaml(PLAIN);
const rule = (keys: string) => `creation_rules:\n  - path_regex: \\.(yaml|json)$\n${keys}`;

async function encrypted(t: Parameters<typeof ok>[0], ws: Workspace, name: string, keys: string): Promise<string> {
  ws.write('.sops.yaml', rule(keys));
  ws.write(name, name.endsWith('.json') ? JSON.stringify(EXPECTED) : PLAIN);
  ok(t, await ws.run(['encrypt', '-i', name]), `encrypt ${name}`);
  return ws.read(name);
}

sharedTest('updatekeys -y adds and removes keys; data key, values, MAC, lastmodified and kept keys stay', async (t) => {
  const ws = workspace(t, 2);
  const [a0, a1] = ws.age.map((k) => k.recipient);
  const before = await encrypted(t, ws, 's.yaml', `    age: ${a0}\n`);
  ws.write('.sops.yaml', rule(`    age: ${a0},${a1}\n    pgp: ${P1}\n`));
  const r = await ws.run(['updatekeys', '-y', 's.yaml']);
  ok(t, r, 'updatekeys');
  t.regex(r.out, /s\.yaml: the following changes will be made to the file's key groups:\nGroup 1\n/);
  t.true(r.out.includes(`    age ${a0}\n`));
  t.true(r.out.includes(`+++ age ${a1}\n`));
  t.true(r.out.includes(`+++ pgp ${P1}\n`));
  t.regex(r.out, /s\.yaml: synced with new keys/);
  const after = ws.read('s.yaml');
  t.deepEqual(recipients(after), [[`age:${a0}`, `age:${a1}`, `pgp:${P1}`].sort()]);
  t.deepEqual(encValues(after), encValues(before), 'values and MAC untouched');
  t.is(sopsMeta(after).lastmodified, sopsMeta(before).lastmodified);
  t.is(encs(after).get(`0:age:${a0}`), encs(before).get(`0:age:${a0}`), 'the kept key was not wrapped again');
  // the new keys hold the same data key: each alone decrypts, in tsops and in sops 3.9.2
  const dec = await ws.run(['decrypt', 's.yaml'], { ages: [1], pgp: false });
  ok(t, dec, 'decrypt with the added age key');
  t.deepEqual(parseYaml(dec.out), EXPECTED);
  const o = await ws.oracle('s.yaml', { ages: [], pgp: true });
  t.is(o.code, 0, o.stderr);
  t.deepEqual(parseYaml(o.stdout), EXPECTED);

  ws.write('.sops.yaml', rule(`    age: ${a1}\n    pgp: ${P1}\n`));
  const rm = await ws.run(['updatekeys', '--yes', 's.yaml']);
  ok(t, rm, 'updatekeys removing a key');
  t.true(rm.out.includes(`--- age ${a0}\n`));
  const final = ws.read('s.yaml');
  t.deepEqual(recipients(final), [[`age:${a1}`, `pgp:${P1}`].sort()]);
  t.deepEqual(encValues(final), encValues(before));
  t.is(encs(final).get(`0:pgp:${P1}`), encs(after).get(`0:pgp:${P1}`));
  t.is((await ws.run(['decrypt', 's.yaml'], { ages: [0], pgp: false })).code, 128);
});

test('up to date, no terminal without --yes, and --dry-run: nothing is written', async (t) => {
  const ws = workspace(t, 2);
  const [a0, a1] = ws.age.map((k) => k.recipient);
  await encrypted(t, ws, 's.yaml', `    age: ${a0}\n`);
  const path = join(ws.dir, 's.yaml');
  const before = snapshot(path);
  const same = await ws.run(['updatekeys', 's.yaml']);
  ok(t, same, 'updatekeys up to date');
  t.is(same.out, 's.yaml: already up to date\n');
  ws.write('.sops.yaml', rule(`    age: ${a0},${a1}\n`));
  const refused = await ws.run(['updatekeys', 's.yaml']);
  t.is(refused.code, 1);
  t.true(refused.out.includes(`+++ age ${a1}`), 'the plan is shown first');
  t.regex(refused.stderr, /standard input is not a terminal/);
  t.regex(refused.stderr, /--yes/);
  const dry = await ws.run(['updatekeys', '--dry-run', 's.yaml']);
  ok(t, dry, 'dry run');
  t.true(dry.out.includes(`+++ age ${a1}`));
  t.regex(dry.out, /dry run: 1 of 1 file would change; nothing was written/);
  t.deepEqual(snapshot(path), before);
});

test('in a terminal, updatekeys asks: n leaves the file, y writes it', async (t) => {
  const ws = workspace(t, 2);
  const [a0, a1] = ws.age.map((k) => k.recipient);
  await encrypted(t, ws, 's.yaml', `    age: ${a0}\n`);
  ws.write('.sops.yaml', rule(`    age: ${a0},${a1}\n`));
  const path = join(ws.dir, 's.yaml');
  const before = snapshot(path);
  const inTerminal = (answer: string) =>
    spawnSync('script', ['-qec', `${process.execPath} ${BIN} updatekeys s.yaml`, '/dev/null'], {
      cwd: ws.dir,
      env: { ...ws.env, SOPS_AGE_KEY: ws.age[0]!.identity },
      input: answer,
      encoding: 'utf8',
      timeout: 60_000,
    });
  const no = inTerminal('n\n');
  t.is(no.status, 0, no.stdout);
  t.regex(no.stdout, /Is this okay\? \(y\/n\):/);
  t.regex(no.stdout, /left unchanged/);
  t.deepEqual(snapshot(path), before);
  const yes = inTerminal('y\n');
  t.is(yes.status, 0, yes.stdout);
  t.regex(yes.stdout, /synced with new keys/);
  t.deepEqual(recipients(ws.read('s.yaml')), [[`age:${a0}`, `age:${a1}`].sort()]);
});

sharedTest('--rotate also replaces the data key: a removed key holder cannot use the old one', async (t) => {
  const ws = workspace(t, 2);
  const [a0, a1] = ws.age.map((k) => k.recipient);
  const before = await encrypted(t, ws, 's.yaml', `    age: ${a0},${a1}\n`);
  ws.write('.sops.yaml', rule(`    age: ${a1}\n    pgp: ${P1}\n`));
  const r = await ws.run(['updatekeys', '-y', '--rotate', 's.yaml']);
  ok(t, r, 'updatekeys --rotate');
  t.regex(r.out, /the data key will be replaced/);
  const after = ws.read('s.yaml');
  t.deepEqual(recipients(after), [[`age:${a1}`, `pgp:${P1}`].sort()]);
  t.true(encValues(after).every((v) => !encValues(before).includes(v)), 'every value re-encrypted');
  // the old age entry of a0, spliced into the new file, no longer opens it
  const oldA0 = encs(before).get(`0:age:${a0}`)!;
  const md = sopsMeta(after);
  t.not(oldA0, undefined);
  t.false(JSON.stringify(md).includes(oldA0));
  const o = await ws.oracle('s.yaml', { ages: [1], pgp: false });
  t.is(o.code, 0, o.stderr);
  t.deepEqual(parseYaml(o.stdout), EXPECTED);
  // without a change in keys, --rotate alone still rotates
  const again = await ws.run(['updatekeys', '-y', '--rotate', 's.yaml']);
  ok(t, again, 'rotate only');
  t.notDeepEqual(encValues(ws.read('s.yaml')), encValues(after));
});

sharedTest('key groups: changing one group keeps the other groups wrapped as they were', async (t) => {
  const ws = workspace(t, 3);
  const [a0, a1, a2] = ws.age.map((k) => k.recipient);
  const before = await encrypted(t, ws, 's.yaml', `    key_groups:\n      - age: [${a0}]\n      - age: [${a1}]\n`);
  ws.write('.sops.yaml', rule(`    key_groups:\n      - age: [${a0}]\n      - age: [${a1}]\n        pgp: [${P1}]\n`));
  ok(t, await ws.run(['updatekeys', '-y', 's.yaml']), 'add to group 2');
  let text = ws.read('s.yaml');
  t.deepEqual(recipients(text), [[`age:${a0}`], [`age:${a1}`, `pgp:${P1}`].sort()]);
  t.is(encs(text).get(`0:age:${a0}`), encs(before).get(`0:age:${a0}`));
  t.is(encs(text).get(`1:age:${a1}`), encs(before).get(`1:age:${a1}`));
  t.deepEqual(encValues(text), encValues(before));
  // P1 holds group 2's share: a0 + P1 (without a1) decrypt
  const o = await ws.oracle('s.yaml', { ages: [0], pgp: true });
  t.is(o.code, 0, o.stderr);
  t.deepEqual(parseYaml(o.stdout), EXPECTED);

  // a third group with threshold 2: the first two groups stay, the new one gets its own share
  ws.write('.sops.yaml', rule(`    shamir_threshold: 2\n    key_groups:\n      - age: [${a0}]\n      - age: [${a1}]\n        pgp: [${P1}]\n      - age: [${a2}]\n`));
  const r = await ws.run(['updatekeys', '-y', 's.yaml']);
  ok(t, r, 'add group 3');
  t.regex(r.out, /Group 3 \(new\)\n\+\+\+ age /);
  const prev = text;
  text = ws.read('s.yaml');
  t.is(sopsMeta(text).shamir_threshold, 2);
  t.is(encs(text).get(`1:pgp:${P1}`), encs(prev).get(`1:pgp:${P1}`));
  const dec = await ws.run(['decrypt', 's.yaml'], { ages: [0, 2], pgp: false });
  ok(t, dec, 'groups 1 + 3');
  t.deepEqual(parseYaml(dec.out), EXPECTED);
  const o3 = await ws.oracle('s.yaml', { ages: [2], pgp: true });
  t.is(o3.code, 0, o3.stderr);

  // back to one group: every key wraps the whole data key again
  ws.write('.sops.yaml', rule(`    age: ${a1},${a2}\n`));
  const one = await ws.run(['updatekeys', '-y', 's.yaml']);
  ok(t, one, 'one group');
  t.regex(one.out, /--- shamir_threshold: 2/);
  text = ws.read('s.yaml');
  t.deepEqual(recipients(text), [[`age:${a1}`, `age:${a2}`].sort()]);
  t.is(sopsMeta(text).shamir_threshold, undefined);
  t.deepEqual(encValues(text), encValues(before));
  const single = await ws.run(['decrypt', 's.yaml'], { ages: [2], pgp: false });
  ok(t, single, 'decrypt with one key of the single group');
  t.deepEqual(parseYaml(single.out), EXPECTED);
});

test('--all: the encrypted, git-tracked files a creation rule matches (and --dry-run plans them)', async (t) => {
  const ws = workspace(t, 2);
  const [a0, a1] = ws.age.map((k) => k.recipient);
  const git = (...args: string[]) => spawnSync('git', args, { cwd: ws.dir, env: { ...ws.env, GIT_CONFIG_NOSYSTEM: '1' }, encoding: 'utf8' });
  t.is(git('init', '-q').status, 0);
  const first = rule(`    age: ${a0}\n`).replace('\\.(yaml|json)$', '^secrets/');
  ws.write('.sops.yaml', first);
  ws.write('secrets/a.yaml', PLAIN);
  ws.write('secrets/b.json', JSON.stringify(EXPECTED));
  ws.write('secrets/untracked.yaml', PLAIN);
  ws.write('secrets/plain.yaml', PLAIN);
  ws.write('other/c.yaml', PLAIN);
  for (const f of ['secrets/a.yaml', 'secrets/b.json', 'secrets/untracked.yaml']) ok(t, await ws.run(['encrypt', '-i', f]), `encrypt ${f}`);
  ok(t, await ws.run(['encrypt', '-i', '--age', a0!, 'other/c.yaml']), 'encrypt other/c.yaml');
  t.is(git('add', '.sops.yaml', 'secrets/a.yaml', 'secrets/b.json', 'secrets/plain.yaml', 'other/c.yaml').status, 0);
  const snap = () => ['secrets/a.yaml', 'secrets/b.json', 'secrets/untracked.yaml', 'secrets/plain.yaml', 'other/c.yaml'].map((f) => snapshot(join(ws.dir, f)).bytes.toString());
  const start = snap();
  ws.write('.sops.yaml', first.replace(`age: ${a0}`, `age: ${a0},${a1}`));
  const dry = await ws.run(['updatekeys', '--all', '--dry-run']);
  ok(t, dry, 'dry run');
  t.regex(dry.out, /secrets\/a\.yaml: the following changes/);
  t.regex(dry.out, /secrets\/b\.json: the following changes/);
  t.notRegex(dry.out, /untracked|plain|other/);
  t.regex(dry.out, /dry run: 2 of 2 files would change/);
  t.deepEqual(snap(), start);
  ok(t, await ws.run(['updatekeys', '--all', '--yes']), 'updatekeys --all');
  const end = snap();
  t.deepEqual(recipients(end[0]!), [[`age:${a0}`, `age:${a1}`].sort()]);
  t.deepEqual(JSON.parse(end[1]!).sops.age.map((k: any) => k.recipient).sort(), [a0, a1].sort());
  t.deepEqual(end.slice(2), start.slice(2), 'untracked, plain and unmatched files untouched');
  const again = await ws.run(['updatekeys', '--all', '--yes']);
  t.regex(again.out, /secrets\/a\.yaml: already up to date/);
});

test('a failure half-way leaves the file byte-identical; other files are still updated', async (t) => {
  const ws = workspace(t, 2);
  const [a0, a1] = ws.age.map((k) => k.recipient);
  await encrypted(t, ws, 'bad.yaml', `    age: ${a0}\n`);
  await encrypted(t, ws, 'good.yaml', `    age: ${a0}\n`);
  ws.write('.sops.yaml', `creation_rules:\n  - path_regex: bad\\.yaml$\n    age: ${a0}\n    pgp: ${UNKNOWN_FP}\n  - age: ${a0},${a1}\n`);
  const bad = snapshot(join(ws.dir, 'bad.yaml'));
  const files = listing(ws.dir);
  const one = await ws.run(['updatekeys', '-y', 'bad.yaml']);
  t.is(one.code, 1, one.stderr);
  t.regex(one.stderr, new RegExp(`could not encrypt the data key with PGP key ${UNKNOWN_FP}`));
  t.deepEqual(snapshot(join(ws.dir, 'bad.yaml')), bad);
  t.deepEqual(listing(ws.dir), files, 'no temp file left behind');
  const both = await ws.run(['updatekeys', '-y', 'bad.yaml', 'good.yaml']);
  t.is(both.code, 1);
  t.regex(both.stderr, /failed updating 1 of 2 files/);
  t.deepEqual(snapshot(join(ws.dir, 'bad.yaml')), bad);
  t.deepEqual(recipients(ws.read('good.yaml')), [[`age:${a0}`, `age:${a1}`].sort()]);
});

test('128 without the data key; the MAC is not checked (as sops); a gcp_kms entry is kept', async (t) => {
  const ws = workspace(t, 2);
  const [a0, a1] = ws.age.map((k) => k.recipient);
  await encrypted(t, ws, 's.yaml', `    age: ${a0}\n`);
  ws.write('s.yaml', withGcpEntry(ws.read('s.yaml')).replace('port_unencrypted: 8080', 'port_unencrypted: 8081'));
  const path = join(ws.dir, 's.yaml');
  const before = snapshot(path);
  ws.write('.sops.yaml', rule(`    age: ${a0},${a1}\n`));
  const none = await ws.run(['updatekeys', '-y', 's.yaml'], { ages: [1] });
  t.is(none.code, 128, none.stderr);
  t.deepEqual(snapshot(path), before);
  const r = await ws.run(['updatekeys', '-y', 's.yaml'], { ages: [0] });
  ok(t, r, 'updatekeys with a changed clear-text value and a gcp_kms entry');
  t.regex(r.stderr, new RegExp(`the gcp_kms key ${GCP_ID} is not in the creation rule, but tsops cannot use gcp_kms keys and keeps it`));
  const after = ws.read('s.yaml');
  t.deepEqual(recipients(after), [[`age:${a0}`, `age:${a1}`, `gcp_kms:${GCP_ID}`].sort()]);
  const gcp = sopsMeta(after).gcp_kms[0];
  t.deepEqual(gcp, (parseYaml(GCP_ENTRY) as any[])[0]);
  t.true(after.includes('port_unencrypted: 8081'));
});
