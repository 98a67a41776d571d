// The tampering table (tamper-cases.ts) on real files: each change is made to a file the real
// CLI encrypted, then `tsops decrypt` (with and without --ignore-mac) and the real sops 3.9.2
// engine (the oracle) read it. A detected change fails with sops's exit code, one message that
// says what failed, no stack trace and no plaintext; an undetected one (a change the format
// does not authenticate) is shown to be undetected by sops too.
import test from 'ava';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ageKeygen, assertCleanFailure, baseEnv, runCli, STACK_LINE, type AgeKeyPair, type CliResult } from '../helpers/cli.js';
import { runOracle } from '../helpers/oracle.js';
import { sharedDir } from '../helpers/shared.js';
import { SECRETS, TABLES, type FormatTable, type TamperCase } from './tamper-cases.js';

let root = '';
let key: AgeKeyPair;
let env: Record<string, string>;
const encrypted = new Map<string, Promise<[string, string]>>();

test.before(() => {
  root = mkdtempSync(join(tmpdir(), 'tsops-tamper-'));
  key = ageKeygen(root);
  env = { ...baseEnv(root), SOPS_AGE_KEY_FILE: key.keyFile };
});
test.after.always(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** At most a few CLI processes at once (2 CPUs in CI). */
let running = 0;
const waiting: Array<() => void> = [];
async function limited<T>(fn: () => Promise<T>): Promise<T> {
  if (running >= 4) await new Promise<void>((r) => waiting.push(r));
  running++;
  try {
    return await fn();
  } finally {
    running--;
    waiting.shift()?.();
  }
}

let seq = 0;
function run(args: string[], content: string, ext: string): Promise<CliResult & { file: string }> {
  return limited(async () => {
    const dir = join(root, `c${seq++}`);
    mkdirSync(dir);
    const file = join(dir, `f.${ext}`);
    writeFileSync(file, content);
    const r = await runCli([...args, file], { cwd: dir, env });
    return { ...r, file };
  });
}

/** Two files of the table's format encrypted by the CLI (the second for cross-file cases). */
function encryptedPair(tb: FormatTable): Promise<[string, string]> {
  const id = tb.name ?? tb.format;
  let p = encrypted.get(id);
  if (!p) {
    p = (async () => {
      const one = async () => {
        const r = await run(['encrypt', '--age', key.recipient, ...(tb.encryptArgs ?? [])], tb.plain, tb.ext);
        if (r.code !== 0) throw new Error(`encrypt ${tb.format}: ${r.stderr}`);
        return r.out;
      };
      return [await one(), await one()] as [string, string];
    })();
    encrypted.set(id, p);
  }
  return p;
}

function assertNoSecrets(t: import('ava').ExecutionContext, r: CliResult) {
  for (const s of SECRETS) t.false(r.stderr.includes(s), `secret ${s} on stderr:\n${r.stderr}`);
  t.notRegex(r.stderr, STACK_LINE, 'no stack trace');
}

for (const tb of TABLES) {
  const title = tb.name ?? tb.format;
  test(`${title}: the untouched file decrypts (baseline of the table)`, async (t) => {
    const [enc] = await encryptedPair(tb);
    const r = await run(['decrypt'], enc, tb.ext);
    t.is(r.code, 0, r.stderr);
    t.is(r.out.replace(/\s/g, ''), tb.plain.replace(/\s/g, '')); // same content, formatting aside
  });
  for (const c of tb.cases) {
    test(`${title}: ${c.what}`, async (t) => {
      const [enc, other] = await encryptedPair(tb);
      const tampered = c.mutate(enc, other);
      t.not(tampered, enc);
      const r = await run(['decrypt'], tampered, tb.ext);
      check(t, c, r, c.code);
      if (c.code === 51 || c.ignoreMac !== c.code) {
        // --ignore-mac only matters for the MAC; other failures are the same with it (not re-run)
        const im = await run(['decrypt', '--ignore-mac'], tampered, tb.ext);
        check(t, c, im, c.ignoreMac);
      }
      if (sharedDir) {
        const o = await limited(() => runOracle(tampered, { format: tb.format, ageKey: key.identity }));
        t.is(o.code === 0 ? 'accepts' : 'rejects', c.sops, `sops 3.9.2: ${o.stderr}`);
        if (o.code !== 0) t.is(o.code, 1, `the oracle itself failed: ${o.stderr}`);
      }
    });
  }
}

function check(t: import('ava').ExecutionContext, c: TamperCase, r: CliResult, code: number) {
  if (code === 0) {
    t.is(r.code, 0, r.stderr);
    if (c.out) t.regex(r.out, c.out);
    return;
  }
  assertCleanFailure(t, r, { code, secrets: SECRETS, ...(c.message ? { message: c.message } : {}) });
  assertNoSecrets(t, r);
}
