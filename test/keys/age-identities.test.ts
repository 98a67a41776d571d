import test, { type ExecutionContext } from 'ava';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Encrypter, armor, generateHybridIdentity, identityToRecipient } from 'age-encryption';
import { ageKind, generateAgeIdentity } from '../../src/keys/age.js';
import { loadAgeIdentities, parseAgeKeys, splitCommandLine } from '../../src/keys/age-identities.js';
import { KeyUnavailableError, type KeyContext } from '../../src/keys/types.js';
import { makeKeyContext } from '../helpers/key-context.js';

function tempDir(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsops-age-id-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function ctxFor(home: string, env: Record<string, string | undefined> = {}): KeyContext {
  return makeKeyContext({ env: { PATH: process.env.PATH, HOME: home, ...env }, homeDir: home });
}

/** An age entry for a fresh identity, encrypted with a random data key. */
async function fixture(home: string) {
  const { identity, recipient } = await generateAgeIdentity();
  const dataKey = new Uint8Array(randomBytes(32));
  const ctx = ctxFor(home);
  const key = ageKind.fromRecipient(recipient, ctx);
  await key.encrypt(dataKey, ctx);
  return { identity, recipient, dataKey, metadata: key.toMetadata() };
}

type Fixture = Awaited<ReturnType<typeof fixture>>;

async function decryptWith(f: Fixture, ctx: KeyContext): Promise<Uint8Array> {
  return ageKind.fromMetadata(f.metadata).decrypt(ctx);
}

async function reasonFor(t: ExecutionContext, f: Fixture, ctx: KeyContext): Promise<string> {
  const err = await t.throwsAsync(decryptWith(f, ctx), { instanceOf: KeyUnavailableError });
  t.false(err!.reason.includes(f.identity), 'no key material in the reason');
  t.false(/AGE-SECRET-KEY-1[0-9A-Z]{10}/.test(err!.reason), 'no key material in the reason');
  return err!.reason;
}

// ---------- pure parsing ----------

test('parseAgeKeys: comments, blank lines, CRLF, several per line only when asked', async (t) => {
  const a = (await generateAgeIdentity()).identity;
  const b = (await generateAgeIdentity()).identity;
  const text = `# created: now\r\n# public key: age1xyz\r\n\r\n${a}\r\n  ${b}  \n`;
  t.deepEqual(parseAgeKeys(text, 'f').identities, [a, b]);
  t.deepEqual(parseAgeKeys(`${a} ${b}\n#c\n${a}`, 'SOPS_AGE_KEY', { multiplePerLine: true }).identities, [a, b, a]);
  t.throws(() => parseAgeKeys(`${a} ${b}`, 'f'), { message: 'f line 1: not an age identity (expected AGE-SECRET-KEY-1...)' });
  t.deepEqual(parseAgeKeys('', 'f'), { identities: [], notices: [] });
});

test('parseAgeKeys: plugin lines are skipped with a notice; garbage names file and line only', async (t) => {
  const a = (await generateAgeIdentity()).identity;
  const parsed = parseAgeKeys(`AGE-PLUGIN-YUBIKEY-1QQQQ\n${a}\n`, '/k.txt');
  t.deepEqual(parsed.identities, [a]);
  t.deepEqual(parsed.notices, ['/k.txt line 1: age plugin identities (AGE-PLUGIN-...) are not supported, skipped']);
  const err = t.throws(() => parseAgeKeys(`${a}\n\nhunter2-secret-looking\n`, '/k.txt'));
  t.is(err!.message, '/k.txt line 3: not an age identity (expected AGE-SECRET-KEY-1...)');
  const bad = a.slice(0, -1) + (a.endsWith('Q') ? 'P' : 'Q');
  const err2 = t.throws(() => parseAgeKeys(bad, '/k.txt'));
  t.is(err2!.message, '/k.txt line 1: malformed age identity (bad length or checksum)');
});

test('parseAgeKeys accepts post-quantum identities', async (t) => {
  const pq = await generateHybridIdentity();
  t.deepEqual(parseAgeKeys(pq, 'x').identities, [pq]);
});

test('splitCommandLine splits like a shell', (t) => {
  t.deepEqual(splitCommandLine('cmd a  b'), ['cmd', 'a', 'b']);
  t.deepEqual(splitCommandLine(`'/my dir/x.sh' "two words" a\\ b "q\\"q" ''`), ['/my dir/x.sh', 'two words', 'a b', 'q"q', '']);
  t.deepEqual(splitCommandLine('pass show age # comment'), ['pass', 'show', 'age']);
  t.deepEqual(splitCommandLine('a#b'), ['a#b']);
  t.deepEqual(splitCommandLine('   '), []);
  t.throws(() => splitCommandLine(`echo 'x`), { message: /unterminated/ });
  t.throws(() => splitCommandLine(`echo "x`), { message: /unterminated/ });
});

// ---------- each source ----------

test('SOPS_AGE_KEY with several identities per line', async (t) => {
  const home = tempDir(t);
  const f = await fixture(home);
  const other = (await generateAgeIdentity()).identity;
  t.deepEqual(await decryptWith(f, ctxFor(home, { SOPS_AGE_KEY: `# mine\n${other}   ${f.identity}\n` })), f.dataKey);
});

test('SOPS_AGE_KEY_FILE, and the default keys file under userConfigDir', async (t) => {
  const home = tempDir(t);
  const f = await fixture(home);
  writeFileSync(join(home, 'k.txt'), `# created\n${f.identity}\n`);
  t.deepEqual(await decryptWith(f, ctxFor(home, { SOPS_AGE_KEY_FILE: join(home, 'k.txt') })), f.dataKey);

  const xdg = join(home, 'xdg');
  mkdirSync(join(xdg, 'sops', 'age'), { recursive: true });
  writeFileSync(join(xdg, 'sops', 'age', 'keys.txt'), `${f.identity}\n`);
  t.deepEqual(await decryptWith(f, ctxFor(home, { XDG_CONFIG_HOME: xdg })), f.dataKey);
  t.deepEqual(await decryptWith(f, makeKeyContext({ env: {}, homeDir: home, userConfigDir: xdg })), f.dataKey);
});

test('all sources are combined: a broken source does not hide a good one', async (t) => {
  const home = tempDir(t);
  const f = await fixture(home);
  mkdirSync(join(home, '.config', 'sops', 'age'), { recursive: true });
  writeFileSync(join(home, '.config', 'sops', 'age', 'keys.txt'), f.identity);
  writeFileSync(join(home, 'garbage.txt'), 'nonsense\n');
  const ctx = ctxFor(home, { SOPS_AGE_KEY: 'also nonsense', SOPS_AGE_KEY_FILE: join(home, 'garbage.txt'), SOPS_AGE_KEY_CMD: 'false' });
  t.deepEqual(await decryptWith(f, ctx), f.dataKey);
});

test('SOPS_AGE_KEY_CMD: a real script that checks SOPS_AGE_RECIPIENT, run once per recipient', async (t) => {
  const home = tempDir(t);
  const f = await fixture(home);
  const dir = join(home, 'my scripts');
  mkdirSync(dir);
  writeFileSync(join(dir, 'key.txt'), `# key\n${f.identity}\n`);
  const script = join(dir, 'get key.sh');
  writeFileSync(script, [
    '#!/bin/sh',
    `echo run >> "${join(dir, 'count')}"`,
    `if [ "$SOPS_AGE_RECIPIENT" != "$2" ]; then echo "wrong recipient $SOPS_AGE_RECIPIENT" >&2; exit 3; fi`,
    'cat "$1"',
    '',
  ].join('\n'), { mode: 0o755 });
  const ctx = ctxFor(home, { SOPS_AGE_KEY_CMD: `'${script}' "${join(dir, 'key.txt')}" ${f.recipient}` });
  t.deepEqual(await decryptWith(f, ctx), f.dataKey);
  t.deepEqual(await decryptWith(f, ctx), f.dataKey);
  t.is(readFileSync(join(dir, 'count'), 'utf8'), 'run\n', 'memoized in ctx.cache');

  // Another recipient: the script is run again with that recipient, and refuses.
  const g = await fixture(home);
  const reason = await reasonFor(t, g, ctx);
  t.true(reason.includes(`SOPS_AGE_KEY_CMD \`'${script}'`), reason);
  t.true(reason.includes(`exited with code 3: wrong recipient ${g.recipient}`), reason);
  t.is(readFileSync(join(dir, 'count'), 'utf8'), 'run\nrun\n');
});

test('SOPS_AGE_KEY_CMD failures name the command', async (t) => {
  const home = tempDir(t);
  const f = await fixture(home);
  const cases: Array<[string, RegExp]> = [
    ['sh -c "echo oops >&2; exit 7"', /SOPS_AGE_KEY_CMD `sh -c "echo oops >&2; exit 7"` exited with code 7: oops/],
    ['/no/such/program arg', /SOPS_AGE_KEY_CMD `\/no\/such\/program arg` could not be started: \/no\/such\/program: not found/],
    [`echo 'unterminated`, /could not be parsed: unterminated single quote/],
    ['echo not-a-key', /SOPS_AGE_KEY_CMD=echo not-a-key line 1: not an age identity/],
    ['true', /SOPS_AGE_KEY_CMD=true \(empty\)/],
  ];
  for (const [cmd, want] of cases) {
    const reason = await reasonFor(t, f, ctxFor(home, { SOPS_AGE_KEY_CMD: cmd }));
    t.regex(reason, want);
  }
});

test('missing, empty and garbage keys files are reported with file and line', async (t) => {
  const home = tempDir(t);
  const f = await fixture(home);
  const other = (await generateAgeIdentity()).identity;
  writeFileSync(join(home, 'empty.txt'), '# nothing here\n\n');
  writeFileSync(join(home, 'garbage.txt'), `${other}\n# ok\nsecret-looking-garbage\n`);
  writeFileSync(join(home, 'plugin.txt'), 'AGE-PLUGIN-YUBIKEY-1QQQ\n');

  let reason = await reasonFor(t, f, ctxFor(home, { SOPS_AGE_KEY_FILE: join(home, 'missing.txt') }));
  t.true(reason.includes(`SOPS_AGE_KEY_FILE=${join(home, 'missing.txt')} (missing)`));
  t.true(reason.includes(`problems: SOPS_AGE_KEY_FILE=${join(home, 'missing.txt')} does not exist`));
  t.true(reason.startsWith('no age identities found'));

  reason = await reasonFor(t, f, ctxFor(home, { SOPS_AGE_KEY_FILE: join(home, 'empty.txt') }));
  t.true(reason.includes(`SOPS_AGE_KEY_FILE=${join(home, 'empty.txt')} (empty)`));

  reason = await reasonFor(t, f, ctxFor(home, { SOPS_AGE_KEY_FILE: join(home, 'garbage.txt') }));
  t.true(reason.includes(`SOPS_AGE_KEY_FILE=${join(home, 'garbage.txt')} line 3: not an age identity`));
  t.false(reason.includes('secret-looking-garbage'));
  t.false(reason.includes(other));

  reason = await reasonFor(t, f, ctxFor(home, { SOPS_AGE_KEY_FILE: join(home, 'plugin.txt') }));
  t.true(reason.includes('line 1: age plugin identities (AGE-PLUGIN-...) are not supported, skipped'));

  reason = await reasonFor(t, f, ctxFor(home, { SOPS_AGE_KEY_FILE: home }));
  t.regex(reason, /could not read SOPS_AGE_KEY_FILE=.*EISDIR/);
});

test('a passphrase-encrypted keys file is reported as not supported', async (t) => {
  const home = tempDir(t);
  const f = await fixture(home);
  const e = new Encrypter();
  e.setScryptWorkFactor(10);
  e.setPassphrase('correct horse');
  const sealed = await e.encrypt(`${f.identity}\n`);
  writeFileSync(join(home, 'keys.age'), sealed);
  writeFileSync(join(home, 'keys.age.txt'), armor.encode(sealed));
  for (const name of ['keys.age', 'keys.age.txt']) {
    const reason = await reasonFor(t, f, ctxFor(home, { SOPS_AGE_KEY_FILE: join(home, name) }));
    t.true(reason.includes(`SOPS_AGE_KEY_FILE=${join(home, name)} (encrypted, not supported)`), reason);
    t.true(reason.includes("SOPS_AGE_KEY_CMD='age -d <file>'"));
  }
});

test('post-quantum identities from SOPS_AGE_KEY_FILE', async (t) => {
  const home = tempDir(t);
  const pq = await generateHybridIdentity();
  const recipient = await identityToRecipient(pq);
  writeFileSync(join(home, 'pq.txt'), `${pq}\n`);
  const ctx = ctxFor(home, { SOPS_AGE_KEY_FILE: join(home, 'pq.txt') });
  const k = ageKind.fromRecipient(recipient, ctx);
  const dataKey = new Uint8Array(randomBytes(32));
  await k.encrypt(dataKey, ctx);
  t.deepEqual(await k.decrypt(ctx), dataKey);
});

test('loadAgeIdentities lists sources in order and memoizes static ones', async (t) => {
  const home = tempDir(t);
  const { identity } = await generateAgeIdentity();
  writeFileSync(join(home, 'k.txt'), `${identity}\n${identity}\n`);
  const ctx = ctxFor(home, { SOPS_AGE_KEY: identity, SOPS_AGE_KEY_FILE: join(home, 'k.txt'), SOPS_AGE_KEY_CMD: '' });
  const found = await loadAgeIdentities(ctx, 'age1x');
  t.is(found.identities.length, 3);
  t.deepEqual(found.searched, [
    'SOPS_AGE_KEY (1 identity)',
    `SOPS_AGE_KEY_FILE=${join(home, 'k.txt')} (2 identities)`,
    `${join(home, '.config', 'sops', 'age', 'keys.txt')} (missing)`,
    `${join(home, '.ssh', 'id_ed25519')} (missing)`,
    `${join(home, '.ssh', 'id_rsa')} (missing)`,
  ]);
  t.deepEqual(found.notSet, ['SOPS_AGE_KEY_CMD', 'SOPS_AGE_SSH_PRIVATE_KEY_FILE', 'SOPS_AGE_SSH_PRIVATE_KEY_CMD']);
  t.deepEqual(found.problems, []);
  rmSync(join(home, 'k.txt'));
  t.is((await loadAgeIdentities(ctx, 'age1y')).identities.length, 3, 'files are read once per context');
  t.false(existsSync(join(home, 'k.txt')));
});
