#!/usr/bin/env node
// Secret hygiene check over a transcript of CLI runs (see test/helpers/cli.ts TRANSCRIPT_DIR and
// scripts/hygiene-preload.mjs): `node scripts/hygiene-check.mjs DIR`.
//
// The secrets are
//  - every canary value (TSOPS-CANARY-...) given to a run (argv, stdin, files named on the
//    command line),
//  - every string value of at least 8 characters that a successful `encrypt` run encrypted (it
//    was in the plaintext input and is not in the encrypted output), that a successful
//    `decrypt` revealed (in its output, not in clear in its input), or that `set` stored,
//  - key material: age secret keys (AGE-SECRET-KEY-1...) and PGP private key blocks.
// None of them may appear in what any tsops process wrote to stderr, in stdout of a failed run
// (but see passThrough), or in a file
// a run left behind (its temp files, lock files, private plaintext directories).
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CANARY = /TSOPS-CANARY-[A-Za-z0-9_-]+/g;
const KEY_MATERIAL = [/AGE-SECRET-KEY-1[0-9A-Z]{50,}/, /-----BEGIN PGP PRIVATE KEY BLOCK-----/];
// exec-env/exec-file pass on their command's output and status; diff exits 1 for "differences
// found" with the diff (values only with --show-values, which asks for them) on stdout.
const passThrough = (argv, code) => argv?.[0] === 'exec-env' || argv?.[0] === 'exec-file' || (argv?.[0] === 'diff' && code === 1);
const FORMATS = { yaml: 'yaml', yml: 'yaml', json: 'json', env: 'dotenv', ini: 'ini' };

const formatOf = (name, argv, flag) => {
  const i = argv.findIndex((a) => a === flag);
  if (i >= 0 && argv[i + 1]) return argv[i + 1];
  const eq = argv.find((a) => a.startsWith(`${flag}=`));
  if (eq) return eq.slice(flag.length + 1);
  if (flag === '--output-type') return formatOf(name, argv, '--input-type');
  return FORMATS[/\.([a-z]+)$/.exec(name)?.[1] ?? ''] ?? 'binary';
};

function leaves(node, out) {
  if (!node || typeof node !== 'object') return;
  if (node.kind === 'str' && typeof node.value === 'string') out.push(node.value);
  for (const k of ['items', 'value']) {
    const v = node[k];
    if (Array.isArray(v)) v.forEach((x) => leaves(x, out));
    else if (v && typeof v === 'object') leaves(v, out);
  }
}

// Shorter values are too often ordinary words of messages ("changed", "secret").
const MIN = Number(process.env.TSOPS_HYGIENE_MIN_LENGTH || 8);
const wordChar = (c) => c !== undefined && /[A-Za-z0-9_]/.test(c);
/**
 * Whether `text` holds `secret` as a whole value (not as part of a longer word or name). No
 * regex built from the secret: test values reach tens of MB.
 */
const holds = (text, secret) => {
  for (let i = text.indexOf(secret); i >= 0; i = text.indexOf(secret, i + 1)) {
    if (!wordChar(text[i - 1]) && !wordChar(text[i + secret.length])) return true;
  }
  return false;
};
const hasLetter = (s) => /[A-Za-z]/.test(s);

/** Reads a transcript and returns { runs, cliRuns, secrets, findings }. */
export async function checkTranscript(dir, lib) {
  lib ??= await import(pathToFileURL(join(root, 'dist', 'index.js')).href);
  const runs = [];
  const clis = [];
  for (const n of readdirSync(dir)) {
    if (!n.endsWith('.json')) continue;
    let rec;
    try {
      rec = JSON.parse(readFileSync(join(dir, n), 'utf8'));
    } catch {
      continue; // a record being written when the suite was interrupted
    }
    rec.file = n;
    (rec.kind === 'cli' ? clis : runs).push(rec);
  }
  const cliByPid = new Map(clis.map((c) => [c.pid, c]));
  const secrets = new Map();
  const add = (s, origin) => {
    if (!secrets.has(s)) secrets.set(s, origin);
  };
  // The string values of `plain` (of at least 8 characters, with a letter) that `other`, its
  // encrypted form, does not hold in clear: values the encryption hid.
  const learn = (plain, fmt, name, other, origin) => {
    const values = [];
    try {
      if (fmt === 'binary') values.push(plain);
      else leaves({ items: lib.loadPlain(new TextEncoder().encode(plain), fmt, name).documents }, values);
    } catch {
      return; // not something this parser reads
    }
    for (const v of values) if (v.length >= MIN && hasLetter(v) && !other.includes(v)) add(v, origin);
  };
  for (const r of runs) {
    for (const text of [r.input ?? '', ...Object.values(r.argFiles ?? {}), ...(r.argv ?? [])]) for (const m of text.matchAll(CANARY)) add(m[0], `canary in ${r.file}`);
    if (r.code !== 0) continue;
    const cmd = r.argv?.[0];
    const stdout = cliByPid.get(r.pid)?.stdout ?? '';
    if (cmd === 'encrypt') {
      // The plaintext input against the encrypted output.
      for (const [name, plain] of Object.entries(r.argFiles ?? {})) {
        const output = (r.after?.[name] ?? '') + stdout;
        if (output !== '' && output !== plain) learn(plain, formatOf(name, r.argv, '--input-type'), name, output, `encrypted by ${r.file} (${r.argv.join(' ')})`);
      }
    } else if (cmd === 'decrypt' && stdout && !r.argv.includes('--extract')) {
      // The decrypted output against the encrypted input.
      for (const [name, enc] of Object.entries(r.argFiles ?? {})) {
        if (enc.includes('ENC[')) learn(stdout, formatOf(name, r.argv, '--output-type'), name, enc, `decrypted by ${r.file} (${r.argv.join(' ')})`);
      }
    } else if (cmd === 'set') {
      const json = r.argv.includes('--value-stdin') ? r.input : r.argv.includes('--value-file') ? undefined : r.argv.at(-1);
      try {
        const v = json === undefined ? undefined : JSON.parse(json);
        if (typeof v === 'string' && v.length >= MIN && hasLetter(v)) add(v, `set by ${r.file}`);
      } catch {
        /* not a JSON string */
      }
    }
  }
  const findings = [];
  const scan = (text, where, rec) => {
    if (!text) return;
    for (const re of KEY_MATERIAL) if (re.test(text)) findings.push({ where, secret: re.source, origin: 'key material', argv: rec.argv, file: rec.file });
    for (const m of text.matchAll(CANARY)) findings.push({ where, secret: m[0], origin: 'canary', argv: rec.argv, file: rec.file });
    for (const [s, origin] of secrets) if (!s.startsWith('TSOPS-CANARY-') && holds(text, s)) findings.push({ where, secret: s, origin, argv: rec.argv, file: rec.file });
  };
  for (const c of clis) {
    scan(c.stderr, 'stderr', c);
    if (c.code !== 0 && !passThrough(c.argv, c.code)) scan(c.stdout, `stdout of a failed run (exit ${c.code})`, c);
  }
  let leftoverFiles = 0;
  for (const r of runs) {
    for (const [path, content] of Object.entries(r.leftovers ?? {})) {
      leftoverFiles++;
      scan(`${path}\n${content}`, `left behind: ${path}`, r);
    }
  }
  return { runs: runs.length, cliRuns: clis.length, secrets: secrets.size, leftoverFiles, findings };
}

const asScript = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMainThread && asScript) {
  if (!process.argv[2]) {
    console.error('usage: node scripts/hygiene-check.mjs TRANSCRIPT_DIR');
    process.exit(2);
  }
  // The transcript holds 10,000-level documents, which the library reads on a big stack only:
  // run the check on a thread with one (on the main thread's stack, V8 can abort the process
  // when the stack runs out while a regex is being compiled).
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { dir: process.argv[2] }, resourceLimits: { stackSizeMb: 256 } });
  worker.on('error', (e) => {
    console.error(`hygiene: the check failed: ${e?.stack ?? e}`);
    process.exitCode = 1;
  });
  worker.on('exit', (code) => {
    process.exitCode ??= code;
  });
} else if (!isMainThread && workerData?.dir) {
  const dir = workerData.dir;
  const res = await checkTranscript(dir);
  const shown = (s) => (s.length > 60 ? `${s.slice(0, 57)}...` : s);
  console.log(`hygiene: ${res.cliRuns} tsops processes (what they printed) and ${res.runs} test-side runs (inputs, files left behind: ${res.leftoverFiles}) checked for ${res.secrets} secret values and key material`);
  if (res.findings.length === 0) {
    console.log('hygiene: no secret found where it must not be');
    process.exit(0);
  }
  console.error(`hygiene: ${res.findings.length} leak(s):`);
  for (const f of res.findings.slice(0, 50)) console.error(`  - ${shown(JSON.stringify(f.secret))} (${f.origin}) in ${f.where} of \`tsops ${(f.argv ?? []).join(' ')}\` [${f.file}]`);
  process.exit(1);
}
