// Bad input gives one clear message and sops's exit code: no stack trace, no secret value on
// stderr or stdout, `-i` leaves the file byte for byte as it was, no stray file in the directory.
import test, { type ExecutionContext } from 'ava';
import { chmodSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ageKeygen, ageWorkspace, assertCleanFailure, canDropRoot, listDir, tempDir, type AgeWorkspace } from '../helpers/cli.js';
import { generateKey, hasGpg, makeGnupgHome } from '../helpers/gpg.js';

const SECRETS = ['hunter2secret', 'adminuser42', 'plainvalue77'];
const PLAIN = `db:\n    password: ${SECRETS[0]}\n    user: ${SECRETS[1]}\nother: ${SECRETS[2]}\nlist:\n    - first-item\n    - second-item\n`;

interface Expect {
  code: number;
  message?: RegExp;
  /** Extra flags before the file. */
  args?: string[];
  /** Also run with -i and check the file is unchanged (default true). */
  inPlace?: boolean;
}

/**
 * Writes `name` with `content`, runs `cmd [args] name` and `cmd -i [args] name`, and checks both
 * fail cleanly with the expected code, leave the file byte-identical and add no file.
 */
async function expectFailure(t: ExecutionContext, ws: AgeWorkspace, cmd: 'encrypt' | 'decrypt', name: string, content: string | Uint8Array, exp: Expect): Promise<void> {
  const path = ws.write(name, content);
  const before = readFileSync(path);
  const listing = listDir(ws.dir);
  const keyArgs = cmd === 'encrypt' ? ['--age', ws.key.recipient] : [];
  for (const inPlace of exp.inPlace === false ? [false] : [false, true]) {
    const args = [cmd, ...(inPlace ? ['-i'] : []), ...keyArgs, ...(exp.args ?? []), name];
    const r = await ws.run(args);
    assertCleanFailure(t, r, { code: exp.code, ...(exp.message ? { message: exp.message } : {}), secrets: SECRETS });
    t.deepEqual(readFileSync(path), before, `${args.join(' ')} changed the file`);
    t.deepEqual(listDir(ws.dir), listing, `${args.join(' ')} left a file behind`);
  }
}

async function encryptedPlain(ws: AgeWorkspace): Promise<string> {
  ws.write('plain.yaml', PLAIN);
  return ws.encrypted('plain.yaml');
}

/** Applies `edit` to the line of the encrypted file that starts with `prefix`. */
function editLine(text: string, prefix: string, edit: (line: string) => string): string {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => l.startsWith(prefix));
  if (i < 0) throw new Error(`no line starting with ${prefix}`);
  const changed = edit(lines[i]!);
  if (changed === lines[i]) throw new Error(`edit of ${prefix} changed nothing`);
  lines[i] = changed;
  return lines.join('\n');
}

/** Flips one base64 character (the third) of field `field` in an ENC[...] line. */
function flipField(field: 'data' | 'iv' | 'tag') {
  return (line: string) => {
    const m = new RegExp(`${field}:([^,]+)`).exec(line)!;
    const at = m.index + field.length + 1 + 2;
    return line.slice(0, at) + (line[at] === 'A' ? 'B' : 'A') + line.slice(at + 1);
  };
}

const MALFORMED: Array<[string, string]> = [
  ['bad.yaml', `password: "${SECRETS[0]}\nuser: x\n`],
  ['indent.yaml', `a:\n  b: ${SECRETS[0]}\n c: d\n`],
  ['dup.yaml', `a: 1\na: ${SECRETS[0]}\n`],
  ['bad.json', `{"password": "${SECRETS[0]}" "x": 1}`],
  ['bare.json', `{"password": ${SECRETS[0]}}`],
  ['bad.env', `${SECRETS[0]}\n`],
  ['bad.ini', `[${SECRETS[0]}\nk = v\n`],
];

for (const [name, content] of MALFORMED) {
  test(`malformed ${name}: encrypt exit 2, decrypt exit 1`, async (t) => {
    const ws = ageWorkspace(t);
    await expectFailure(t, ws, 'encrypt', name, content, { code: 2 });
    await expectFailure(t, ws, 'decrypt', name, content, { code: 1 });
  });
}

const TAMPERED: Array<[string, (s: string) => string, RegExp]> = [
  ['one flipped base64 char in data', (s) => editLine(s, '    password:', flipField('data')), /\["db"\]\["password"\]/],
  ['one flipped base64 char in iv', (s) => editLine(s, '    password:', flipField('iv')), /\["db"\]\["password"\]/],
  ['one flipped base64 char in tag', (s) => editLine(s, '    password:', flipField('tag')), /\["db"\]\["password"\]/],
  ['a truncated ENC value', (s) => editLine(s, '    password:', (l) => l.slice(0, l.indexOf('ENC[') + 40)), /\["db"\]\["password"\]/],
  ['an ENC value without its closing bracket', (s) => editLine(s, '    password:', (l) => l.replace(/\]$/, '')), /\["db"\]\["password"\]/],
  ['a wrong type name (type:str -> type:int)', (s) => editLine(s, '    password:', (l) => l.replace('type:str', 'type:int')), /\["db"\]\["password"\]/],
  ['an unknown type name', (s) => editLine(s, '    password:', (l) => l.replace('type:str', 'type:strng')), /\["db"\]\["password"\]/],
  ['a value moved to another key', (s) => editLine(s, 'other:', () => `other: ${/^ {4}password: (.*)$/m.exec(s)![1]}`), /\["other"\]/],
  ['two values swapped between keys', (s) => {
    const pw = /^ {4}password: (.*)$/m.exec(s)![1]!;
    const user = /^ {4}user: (.*)$/m.exec(s)![1]!;
    return s.replace(`password: ${pw}`, `password: ${user}`).replace(`user: ${user}`, `user: ${pw}`);
  }, /\["db"\]\["password"\]/],
];

for (const [what, tamper, path] of TAMPERED) {
  test(`decrypt: ${what} is exit 25 naming the key path`, async (t) => {
    const ws = ageWorkspace(t);
    const enc = await encryptedPlain(ws);
    await expectFailure(t, ws, 'decrypt', 'tampered.yaml', tamper(enc), { code: 25, message: path });
  });
}

const MAC_ONLY: Array<[string, (s: string) => string]> = [
  ['two list elements swapped (indices are not authenticated)', (s) => {
    const l = s.split('\n');
    const i = l.findIndex((x) => x.startsWith('    - ENC['));
    [l[i], l[i + 1]] = [l[i + 1]!, l[i]!];
    return l.join('\n');
  }],
  ['a value removed', (s) => editLine(s, '    user:', () => '    user: ""')],
  ['a key removed', (s) => s.replace(/^other: .*\n/m, '')],
  ['a flipped char in the mac', (s) => editLine(s, '    mac:', flipField('data'))],
  ['the mac removed', (s) => s.replace(/^ {4}mac: .*\n/m, '')],
  ['lastmodified changed', (s) => editLine(s, '    lastmodified:', (l) => l.replace(/"(\d{4})/, (_, y: string) => `"${Number(y) - 1}`))],
];

for (const [what, tamper] of MAC_ONLY) {
  test(`decrypt: ${what} is exit 51 (only the MAC can tell)`, async (t) => {
    const ws = ageWorkspace(t);
    const enc = await encryptedPlain(ws);
    await expectFailure(t, ws, 'decrypt', 'tampered.yaml', tamper(enc), { code: 51, message: /MAC/ });
  });
}

const BAD_METADATA: Array<[string, (s: string) => string, RegExp]> = [
  ['no sops metadata', (s) => s.slice(0, s.indexOf('sops:')), /metadata not found/],
  ['no version', (s) => s.replace(/^ {4}version: .*\n/m, ''), /version/],
  ['an invalid version', (s) => editLine(s, '    version:', () => '    version: v3'), /version/],
  ['no lastmodified', (s) => s.replace(/^ {4}lastmodified: .*\n/m, ''), /lastmodified/],
  ['an invalid lastmodified', (s) => editLine(s, '    lastmodified:', () => '    lastmodified: yesterday'), /lastmodified/],
];

for (const [what, tamper, message] of BAD_METADATA) {
  test(`decrypt: ${what} is exit 1`, async (t) => {
    const ws = ageWorkspace(t);
    const enc = await encryptedPlain(ws);
    await expectFailure(t, ws, 'decrypt', 'broken.yaml', tamper(enc), { code: 1, message });
  });
}

test('decrypt with a non-matching age identity is exit 128 listing the key tried', async (t) => {
  const ws = ageWorkspace(t);
  const enc = await encryptedPlain(ws);
  const wrong = ageKeygen(tempDir(t), 'wrong.txt');
  ws.env.SOPS_AGE_KEY_FILE = wrong.keyFile;
  await expectFailure(t, ws, 'decrypt', 'enc.yaml', enc, { code: 128, message: new RegExp(`- age ${ws.key.recipient}: .*SOPS_AGE_KEY_FILE`) });
});

test('decrypt with no age identity and no gpg secret key is exit 128 listing every key tried', async (t) => {
  if (!hasGpg()) return t.fail('gpg is required');
  const ws = ageWorkspace(t);
  const keys = makeGnupgHome(t);
  const fp = generateKey(keys, 'tsops errors <errors@example.test>');
  ws.write('plain.yaml', PLAIN);
  const e = await ws.run(['encrypt', '--age', ws.key.recipient, '--pgp', fp, 'plain.yaml'], { extraEnv: { GNUPGHOME: keys } });
  t.is(e.code, 0, e.stderr);
  delete ws.env.SOPS_AGE_KEY_FILE;
  ws.env.GNUPGHOME = makeGnupgHome(t); // empty
  await expectFailure(t, ws, 'decrypt', 'enc.yaml', e.stdout, {
    code: 128,
    message: new RegExp(`- age ${ws.key.recipient}: [^\\n]+\\n(.*\\n)*tsops: {3}- pgp ${fp}: `),
  });
});

test('a missing input file is exit 100 and creates nothing', async (t) => {
  const ws = ageWorkspace(t);
  for (const args of [['decrypt', 'nope.yaml'], ['encrypt', '--age', ws.key.recipient, 'nope.yaml'], ['decrypt', '-i', 'nope.yaml'], ['decrypt', '--output', 'out.yaml', 'nope.yaml']]) {
    assertCleanFailure(t, await ws.run(args), { code: 100, message: /nope\.yaml/ });
  }
  t.deepEqual(listDir(ws.dir), []);
});

test('an unwritable output is exit 3 and nothing else is written', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('enc.yaml', await encryptedPlain(ws));
  const listing = listDir(ws.dir);
  // the directory does not exist
  assertCleanFailure(t, await ws.run(['decrypt', '--output', 'missing-dir/out.yaml', 'enc.yaml']), { code: 3, message: /out\.yaml/, secrets: SECRETS });
  // the target is a directory: the temp file written beside it must be removed again
  mkdirSync(join(ws.dir, 'target.yaml'));
  assertCleanFailure(t, await ws.run(['decrypt', '--output', 'target.yaml', 'enc.yaml']), { code: 3, message: /target\.yaml/, secrets: SECRETS });
  t.deepEqual(listDir(join(ws.dir, 'target.yaml')), []);
  t.deepEqual(listDir(ws.dir), [...listing, 'target.yaml'].sort());
  // a read-only directory: root ignores permissions, so as root the CLI runs as nobody
  const asUser = canDropRoot() ? 65534 : undefined;
  if (process.getuid?.() === 0 && asUser === undefined) return t.fail('running as root without setpriv: cannot test a read-only directory');
  if (asUser !== undefined) {
    chmodSync(ws.home, 0o755);
    chmodSync(ws.key.keyFile, 0o644);
  }
  const ro = join(ws.dir, 'ro');
  mkdirSync(ro);
  ws.write('ro/enc.yaml', ws.read('enc.yaml'));
  chmodSync(ro, 0o555);
  t.teardown(() => chmodSync(ro, 0o755));
  const as = asUser !== undefined ? { asUser } : {};
  assertCleanFailure(t, await ws.run(['decrypt', '--output', 'ro/out.yaml', 'enc.yaml'], as), { code: 3, message: /out\.yaml/, secrets: SECRETS });
  // -i on a file there: the temp file cannot be made, so the file is kept as it was
  assertCleanFailure(t, await ws.run(['decrypt', '-i', 'ro/enc.yaml'], as), { code: 3, message: /enc\.yaml/, secrets: SECRETS });
  t.is(ws.read('ro/enc.yaml'), ws.read('enc.yaml'));
  t.deepEqual(listDir(ro), ['enc.yaml']);
});

const BAD_CONFIGS: Array<[string, string, RegExp]> = [
  ['an unknown field', 'creation_rules:\n  - path_regex: .*\n    encrypted_regexp: ^a\n', /encrypted_regexp.*did you mean `?encrypted_regex/],
  ['an invalid regex', "creation_rules:\n  - path_regex: '(unclosed'\n", /path_regex/],
  ['a look-around (not RE2)', "creation_rules:\n  - path_regex: '^(?!x)'\n", /path_regex/],
  ['a wrong type', 'creation_rules:\n  - path_regex: .*\n    shamir_threshold: two\n', /shamir_threshold/],
  ['creation_rules not a list', 'creation_rules:\n  path_regex: .*\n', /creation_rules/],
  ['invalid YAML', 'creation_rules: [\n', /\.sops\.yaml/],
];

for (const [what, config, field] of BAD_CONFIGS) {
  test(`.sops.yaml with ${what} is exit 1 naming the field, on encrypt and decrypt`, async (t) => {
    const ws = ageWorkspace(t);
    const enc = await encryptedPlain(ws);
    ws.write('.sops.yaml', config);
    await expectFailure(t, ws, 'encrypt', 'new.yaml', PLAIN, { code: 1, message: field });
    await expectFailure(t, ws, 'decrypt', 'enc.yaml', enc, { code: 1, message: field });
  });
}

test('encrypt without any recipient is a clear error (exit 1)', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('plain.yaml', PLAIN);
  const listing = listDir(ws.dir);
  for (const args of [['encrypt', 'plain.yaml'], ['encrypt', '-i', 'plain.yaml'], ['encrypt', '--age', '', 'plain.yaml']]) {
    assertCleanFailure(t, await ws.run(args), { code: 1, message: /no recipients/, secrets: SECRETS });
  }
  // a .sops.yaml whose only rule has no keys: sops's own message, verbatim (scripts compare it)
  ws.write('.sops.yaml', 'creation_rules:\n  - path_regex: .*\\.yaml$\n    encrypted_regex: ^password$\n');
  const keyless = await ws.run(['encrypt', '-i', 'plain.yaml']);
  t.is(keyless.code, 1);
  t.is(keyless.out, '');
  t.is(keyless.stderr, 'Could not generate data key: [empty key group provided]\n');
  t.is(ws.read('plain.yaml'), PLAIN);
  t.deepEqual(listDir(ws.dir), [...listing, '.sops.yaml'].sort());
});

test('an invalid recipient is a clear error (exit 1), never echoed as a secret', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('plain.yaml', PLAIN);
  assertCleanFailure(t, await ws.run(['encrypt', '-i', '--age', 'age1notakey', 'plain.yaml']), { code: 1, message: /age1notakey/, secrets: SECRETS });
  t.is(ws.read('plain.yaml'), PLAIN);
  t.deepEqual(listDir(ws.dir), ['plain.yaml']);
});
