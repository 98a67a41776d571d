// Deep nesting, end to end through the real CLI: 10,000 levels of JSON and of YAML (flow,
// compact block sequences, a block mapping chain) encrypt, decrypt, set, rotate and convert;
// one level more fails as sops fails (go-yaml: `exceeded max depth of 10000`; encoding/json:
// `exceeded max depth`), cleanly. Deep input the CLI cannot pre-scan (standard input) and the
// library on an ordinary stack give a clean error instead of a RangeError.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decryptBytes, encryptBytes, isSopsError } from '../../src/index.js';
import { ageWorkspace, assertCleanFailure, STACK_LINE, type AgeWorkspace, type CliResult } from '../helpers/cli.js';
import { propertyKeys } from '../helpers/roundtrip.js';

const N = 10_000;

/** `levels` nested objects, the top-level one included, with one string at the bottom. */
const deepJson = (levels: number): string => '{"a":'.repeat(levels - 1) + '{"x":"s3cr3t"}' + '}'.repeat(levels - 1);
/** A mapping holding `levels - 1` nested flow sequences (block output: 1 + levels - 1 indentation levels). */
const deepFlowYaml = (levels: number): string => 'a: ' + '['.repeat(levels - 1) + 's3cr3t' + ']'.repeat(levels - 1) + '\n';
/** go-yaml's block form of the same document (indent 4, nested sequences compact on one line). */
const deepBlockSeqYaml = (levels: number): string => 'a:\n    ' + '- '.repeat(levels - 1) + 's3cr3t\n';
/** A chain of `levels` block mappings, each indented `indent` more than its parent. */
const deepMapYaml = (levels: number, indent: number): string => {
  const lines: string[] = [];
  for (let i = 0; i < levels - 1; i++) lines.push(' '.repeat(i * indent) + 'a:');
  lines.push(' '.repeat((levels - 1) * indent) + 'x: s3cr3t');
  return lines.join('\n') + '\n';
};

function ok(t: import('ava').ExecutionContext, r: CliResult, what: string): void {
  t.is(r.code, 0, `${what}: ${r.stderr.slice(0, 2000)}`);
  t.notRegex(r.stderr, STACK_LINE, `${what}: no stack trace`);
}

const squash = (s: string): string => s.replace(/\s+/g, '');

async function encryptedCopy(ws: AgeWorkspace, name: string, args: string[] = []): Promise<void> {
  const r = await ws.run(['encrypt', '--age', ws.key.recipient, ...args, '-i', name]);
  if (r.code !== 0) throw new Error(`encrypt ${name}: ${r.stderr}`);
}

test.serial('JSON, 10,000 levels: encrypt, decrypt, set, rotate, convert to YAML and back', async (t) => {
  const ws = ageWorkspace(t);
  const src = deepJson(N);
  ws.write('d.json', src);
  await encryptedCopy(ws, 'd.json', ['--indent', '0']);
  t.true(ws.read('d.json').includes('"sops":'), 'encrypted in place');
  t.false(ws.read('d.json').includes('"s3cr3t"'), 'the value is encrypted');

  let r = await ws.run(['decrypt', '--indent', '0', 'd.json']);
  ok(t, r, 'decrypt');
  t.is(squash(r.out), src, 'decrypts to the same data');

  // (a set path 10,000 steps long works too, but parsing it takes seconds: tree/path.ts)
  ok(t, await ws.run(['set', '--indent', '0', 'd.json', '["b"]', '"changed"']), 'set next to the deep value');
  r = await ws.run(['decrypt', '--extract', '["b"]', 'd.json']);
  ok(t, r, 'extract');
  t.is(r.out, 'changed');
  const changed = src.slice(0, -1) + ',"b":"changed"}';

  ok(t, await ws.run(['rotate', '-i', '--indent', '0', 'd.json']), 'rotate');
  r = await ws.run(['decrypt', '--indent', '0', 'd.json']);
  ok(t, r, 'decrypt after rotate');
  t.is(squash(r.out), changed);

});

test.serial('deep JSON in a file over 64 KB (the pre-scan\'s native path) and in a .env file read with --input-type json', async (t) => {
  const ws = ageWorkspace(t);
  const src = '{"pad":"' + 'x'.repeat(100_000) + '","d":' + deepJson(N - 1) + '}';
  ws.write('big.json', src);
  await encryptedCopy(ws, 'big.json', ['--indent', '0']);
  let r = await ws.run(['decrypt', '--indent', '0', 'big.json']);
  ok(t, r, 'decrypt of the large deep file');
  t.is(squash(r.out), src);

  // a name that says dotenv (never scanned) with an explicit JSON input type: scanned
  ws.write('deep.env', deepJson(N));
  r = await ws.run(['encrypt', '--age', ws.key.recipient, '--input-type', 'json', '--output-type', 'json', '--indent', '0', 'deep.env']);
  ok(t, r, 'encrypt of deep JSON named .env');
  t.false(r.out.includes('s3cr3t'));
});

test.serial('JSON arrays, 10,000 levels: convert to YAML and back', async (t) => {
  // (10,000 nested objects as YAML are a 100 MB mapping chain: that case is the block YAML test)
  const ws = ageWorkspace(t);
  const src = '{"a":' + '['.repeat(N - 1) + '"s3cr3t"' + ']'.repeat(N - 1) + '}';
  ws.write('a.json', src);
  await encryptedCopy(ws, 'a.json', ['--indent', '0']);
  let r = await ws.run(['decrypt', '--output-type', 'yaml', 'a.json']);
  ok(t, r, 'JSON -> YAML');
  t.is(r.out, deepBlockSeqYaml(N));
  ws.write('a.yaml', r.stdout);
  r = await ws.run(['encrypt', '--age', ws.key.recipient, '--output-type', 'json', '--indent', '0', 'a.yaml']);
  ok(t, r, 'YAML -> encrypted JSON');
  ws.write('back.json', r.stdout);
  r = await ws.run(['decrypt', '--indent', '0', 'back.json']);
  ok(t, r, 'decrypt the converted file');
  t.is(squash(r.out), src);
});

test.serial('JSON, 10,001 levels: clean failure with encoding/json\'s limit, nothing written', async (t) => {
  const ws = ageWorkspace(t);
  const src = deepJson(N + 1);
  ws.write('d.json', src);
  assertCleanFailure(t, await ws.run(['encrypt', '--age', ws.key.recipient, '-i', 'd.json']), { code: 2, message: /exceeded max depth of 10000/, secrets: ['s3cr3t'] });
  t.is(ws.read('d.json'), src, 'the file is untouched');
});

test.serial('flow YAML, 10,000 levels: encrypt, decrypt (go-yaml block form), convert to JSON', async (t) => {
  const ws = ageWorkspace(t);
  ws.write('f.yaml', deepFlowYaml(N));
  await encryptedCopy(ws, 'f.yaml');
  t.false(ws.read('f.yaml').includes('s3cr3t'));
  let r = await ws.run(['decrypt', 'f.yaml']);
  ok(t, r, 'decrypt');
  t.is(r.out, deepBlockSeqYaml(N), 'written as go-yaml writes it');
  r = await ws.run(['decrypt', '--output-type', 'json', '--indent', '0', 'f.yaml']);
  ok(t, r, 'YAML -> JSON');
  t.is(squash(r.out), '{"a":' + '['.repeat(N - 1) + '"s3cr3t"' + ']'.repeat(N - 1) + '}');
});

test.serial('block YAML, 10,000 levels: compact sequences and a mapping chain round-trip', async (t) => {
  const ws = ageWorkspace(t);
  // compact sequences: the decrypted block form is read back (10,000 indentation levels)
  ws.write('s.yaml', deepBlockSeqYaml(N));
  await encryptedCopy(ws, 's.yaml');
  let r = await ws.run(['decrypt', 's.yaml']);
  ok(t, r, 'decrypt sequences');
  t.is(r.out, deepBlockSeqYaml(N));
  ok(t, await ws.run(['set', 's.yaml', '["b"]', '"added"']), 'set next to the deep value');
  r = await ws.run(['decrypt', 's.yaml']);
  ok(t, r, 'decrypt after set');
  t.is(r.out, deepBlockSeqYaml(N) + 'b: added\n');

  // a chain of 10,000 block mappings (2 spaces per level: go-yaml's smallest indent)
  const chain = deepMapYaml(N, 2);
  ws.write('m.yaml', chain);
  await encryptedCopy(ws, 'm.yaml', ['--indent', '2']);
  r = await ws.run(['decrypt', '--indent', '2', 'm.yaml']);
  ok(t, r, 'decrypt mapping chain');
  t.true(r.out === chain, 'the mapping chain round-trips byte for byte');
});

test.serial('YAML, 10,001 levels: go-yaml\'s "exceeded max depth of 10000", cleanly, for flow and block', async (t) => {
  const ws = ageWorkspace(t);
  const flow = 'a: ' + '['.repeat(N + 1) + 's3cr3t' + ']'.repeat(N + 1) + '\n';
  ws.write('f.yaml', flow);
  assertCleanFailure(t, await ws.run(['encrypt', '--age', ws.key.recipient, 'f.yaml']), { code: 2, message: /line 1: exceeded max depth of 10000/, secrets: ['s3cr3t'] });
  // `- ` at columns 0, 2, 4, ...: the first is indentless under `a:`, so N + 2 dashes open N + 1 levels
  ws.write('s.yaml', 'a:\n' + '- '.repeat(N + 2) + 's3cr3t\n');
  assertCleanFailure(t, await ws.run(['encrypt', '--age', ws.key.recipient, 's.yaml']), { code: 2, message: /line 2: exceeded max depth of 10000/, secrets: ['s3cr3t'] });
  t.is(readFileSync(join(ws.dir, 'f.yaml'), 'utf8'), flow, 'untouched');
});

test.serial('deep input on standard input (not pre-scanned) and on a small stack: a clean error, not a RangeError', async (t) => {
  const ws = ageWorkspace(t);
  const r = await ws.run(['encrypt', '--age', ws.key.recipient, '--input-type', 'json', '--output-type', 'json'], { input: deepJson(N) });
  // either it fits the main thread's stack, or the guard reports it (exit 2)
  if (r.code === 0) t.true(r.out.includes('"sops":'), 'encrypted');
  else assertCleanFailure(t, r, { code: 2, message: /nested too deeply/, secrets: ['s3cr3t'] });
  t.notRegex(r.stderr, /RangeError|Maximum call stack/);

  const { recipient, ctx } = await propertyKeys();
  for (const [src, type] of [[deepJson(N), 'json'], [deepFlowYaml(N), 'yaml'], [deepBlockSeqYaml(N), 'yaml']] as const) {
    try {
      const enc = await encryptBytes(src, { inputType: type, age: [recipient], keyContext: ctx });
      // it fit: decrypting must then work or fail cleanly too
      await decryptBytes(enc, { inputType: type, keyContext: ctx }).catch((e: unknown) => t.true(isSopsError(e), String(e)));
      t.pass();
    } catch (e) {
      t.true(isSopsError(e), `library ${type}: ${String(e)}`);
      t.regex((e as Error).message, /nested too deeply|exceeded max depth/);
    }
  }
});
