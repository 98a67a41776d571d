// Commands that rewrite a file must not re-sign tampered content: set, unset, rotate, edit,
// decrypt -i, exec-env and exec-file refuse a file whose MAC does not match (51) or whose value
// does not decrypt (25), leave it byte for byte as it was and leave no file behind, as sops
// does (they all call DecryptTree with the MAC check). With --ignore-mac, set and rotate go
// on and sign the content as it now is (sops does the same). updatekeys, as in sops, never
// checks the MAC and never re-signs: it re-wraps the data key, and the file stays detectably
// tampered.
import test, { type ExecutionContext } from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ageKeygen, ageWorkspace, assertCleanFailure, listDir, type AgeWorkspace } from '../helpers/cli.js';
import { flip, sub } from './tamper-cases.js';

const PLAIN = 'secret: S3cr3t-Value-1\nlist:\n    - Alpha-Item-2\nplain_unencrypted: visible\n';
const SECRETS = ['S3cr3t-Value-1', 'Alpha-Item-2'];

const TAMPERINGS = {
  mac: { change: (e: string) => sub(e, 'visible', 'tampered'), code: 51, message: /MAC mismatch/ },
  value: { change: (e: string) => flip(e, 'data', 0), code: 25, message: /could not decrypt the value at \["secret"\]/ },
} as const;

async function tamperedWorkspace(t: ExecutionContext, kind: keyof typeof TAMPERINGS): Promise<{ ws: AgeWorkspace; before: string; listing: string[] }> {
  const ws = ageWorkspace(t);
  ws.write('.sops.yaml', `creation_rules:\n  - age: ${ws.key.recipient}\n`);
  ws.write('s.yaml', PLAIN);
  const enc = await ws.encrypted('s.yaml');
  const before = TAMPERINGS[kind].change(enc);
  ws.write('s.yaml', before);
  // an editor that would change the secret and leaves a mark when it runs
  writeFileSync(join(ws.home, 'editor.sh'), `#!/bin/sh\ntouch "${join(ws.home, 'editor-ran')}"\nsed -i s/S3cr3t-Value-1/changed/ "$1"\n`, { mode: 0o755 });
  return { ws, before, listing: listDir(ws.dir) };
}

const REFUSING: Array<[string, string[]]> = [
  ['set', ['set', 's.yaml', '["secret"]', '"new"']],
  ['unset', ['unset', 's.yaml', '["secret"]']],
  ['rotate -i', ['rotate', '-i', 's.yaml']],
  ['edit', ['edit', 's.yaml']],
  ['decrypt -i', ['decrypt', '-i', 's.yaml']],
  ['exec-env', ['exec-env', 's.yaml', 'echo ran']],
  ['exec-file', ['exec-file', 's.yaml', 'cat {}']],
];

for (const kind of Object.keys(TAMPERINGS) as Array<keyof typeof TAMPERINGS>) {
  const tm = TAMPERINGS[kind];
  for (const [name, args] of REFUSING) {
    test(`${name} refuses a file with a tampered ${kind} (exit ${tm.code}), changes nothing, leaves nothing`, async (t) => {
      const { ws, before, listing } = await tamperedWorkspace(t, kind);
      const r = await ws.run(args, { extraEnv: { EDITOR: join(ws.home, 'editor.sh') } });
      assertCleanFailure(t, r, { code: tm.code, message: tm.message, secrets: SECRETS });
      t.is(ws.read('s.yaml'), before, 'the file is byte for byte as it was');
      t.deepEqual(listDir(ws.dir), listing, 'no file left behind');
      t.false(listDir(ws.home).includes('editor-ran'), 'the editor never ran');
    });
  }
}

for (const [name, args] of [
  ['set --ignore-mac', ['set', '--ignore-mac', 's.yaml', '["secret"]', '"new"']],
  ['rotate -i --ignore-mac', ['rotate', '-i', '--ignore-mac', 's.yaml']],
] as const) {
  test(`${name} accepts the tampered content and signs it, as sops does`, async (t) => {
    const { ws } = await tamperedWorkspace(t, 'mac');
    const r = await ws.run([...args]);
    t.is(r.code, 0, r.stderr);
    const d = await ws.run(['decrypt', 's.yaml']);
    t.is(d.code, 0, d.stderr);
    t.regex(d.out, /plain_unencrypted: tampered/);
  });
}

test('updatekeys on a tampered file re-wraps the data key but does not re-sign: the file stays detectably tampered', async (t) => {
  const { ws, before } = await tamperedWorkspace(t, 'mac');
  const second = ageKeygen(ws.home, 'second.txt');
  ws.write('.sops.yaml', `creation_rules:\n  - age: ${ws.key.recipient},${second.recipient}\n`);
  const r = await ws.run(['updatekeys', '-y', 's.yaml']);
  t.is(r.code, 0, r.stderr);
  const after = ws.read('s.yaml');
  t.true(after.includes(second.recipient), 'the new recipient was added');
  const field = (s: string, k: string) => new RegExp(`^ {4}${k}: (.*)$`, 'm').exec(s)?.[1];
  t.is(field(after, 'mac'), field(before, 'mac'), 'the MAC is untouched');
  t.is(field(after, 'lastmodified'), field(before, 'lastmodified'), 'lastmodified is untouched');
  for (const keyFile of [ws.key.keyFile, second.keyFile]) {
    const d = await ws.run(['decrypt', 's.yaml'], { extraEnv: { SOPS_AGE_KEY_FILE: keyFile } });
    assertCleanFailure(t, d, { code: 51, message: /MAC mismatch/, secrets: SECRETS });
  }
  t.is(readFileSync(join(ws.dir, 's.yaml'), 'utf8'), after);
});
