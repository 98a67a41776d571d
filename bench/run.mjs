#!/usr/bin/env node
// npm run bench: whole-process timings of the tsops CLI side by side with `node -e 0` and the
// real sops 3.9.2 engine (../shared/tools/sops-oracle --timing), interleaved per round so all
// commands share the machine's noise. Prints medians and ratios and writes bench/results.json.
//
//   BENCH_ROUNDS=7 (default)   rounds per measurement
//   BENCH_SKIP_ORACLE=1        skip the sops comparison
//
// Besides the whole-process figures it reports an engine-to-engine one (bench/engine.mjs):
// tsops's decrypt inside the process over the span of sops's decrypt.Data, start-up excluded.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, type as osType, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from './gen.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'bench', 'out');
const BIN = join(root, 'bin', 'tsops.js');
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
// The real path: oracle.mjs runs only when argv[1] is its own (symlink-resolved) file name, so
// through a symlinked ../shared it would exit 0 having done nothing.
const oracleLink = join(root, '..', 'shared', 'tools', 'sops-oracle');
const oracleDir = existsSync(oracleLink) ? realpathSync(oracleLink) : oracleLink;

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
generate(out);

const { generateAgeIdentity } = await import(join(root, 'dist', 'index.js'));
const { identity, recipient } = await generateAgeIdentity();
const keyFile = join(out, 'keys.txt');
writeFileSync(keyFile, identity + '\n');
const env = { PATH: process.env.PATH, HOME: out, SOPS_AGE_KEY_FILE: keyFile, LANG: 'C.UTF-8' };

function run(args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(args[0], args.slice(1), { env, maxBuffer: 1 << 30, ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { ms, stdout: r.stdout, stderr: r.stderr?.toString() ?? '' };
}
const tsops = (...a) => [process.execPath, BIN, ...a];

// Encrypt every input once (these files are what the decrypt rounds read).
const inputs = ['tiny.yaml', '10k.yaml', '10k.json', '10k.env', '100k.yaml'];
for (const f of inputs) run(tsops('encrypt', '--age', recipient, '--output', join(out, `enc.${f}`), join(out, f)));
const small = readdirSync(join(out, 'small')).map((f) => join(out, 'small', f));
mkdirSync(join(out, 'small-enc'));
for (const f of small) run(tsops('encrypt', '--age', recipient, '--output', join(out, 'small-enc', f.split('/').pop()), f));
const smallEnc = readdirSync(join(out, 'small-enc')).map((f) => join(out, 'small-enc', f));

// The sops oracle (real sops 3.9.2), if ../shared is here.
let bootstrap;
if (!process.env.BENCH_SKIP_ORACLE && existsSync(oracleDir)) {
  bootstrap = process.env.SOPS_ORACLE_BOOTSTRAP ?? join(root, 'node_modules', '.cache', 'sops-oracle', 'bootstrap');
  if (!existsSync(bootstrap)) execFileSync('bash', [join(oracleDir, 'fetch-bootstrap.sh'), dirname(bootstrap)], { stdio: 'inherit' });
} else console.error('bench: ../shared/tools/sops-oracle not found or BENCH_SKIP_ORACLE set: no sops comparison');
function oracleDecryptMs(file, format) {
  const r = run([process.execPath, join(oracleDir, 'oracle.mjs'), '--bootstrap', bootstrap, '--age-key-file', keyFile, '--format', format, '--timing', file]);
  const m = /sops-oracle-timing (\{.*\})/.exec(r.stderr);
  if (!m) throw new Error(`the sops oracle printed no timing for ${file}: ${r.stderr.slice(0, 500)}`);
  return JSON.parse(m[1]).sops_decrypt_data_ms ?? NaN;
}

const measures = {
  'node -e 0': () => run([process.execPath, '-e', '0']).ms,
  'decrypt tiny.yaml': () => run(tsops('decrypt', join(out, 'enc.tiny.yaml'))).ms,
  'decrypt 10k.yaml': () => run(tsops('decrypt', join(out, 'enc.10k.yaml'))).ms,
  'decrypt 10k.json': () => run(tsops('decrypt', join(out, 'enc.10k.json'))).ms,
  'decrypt 10k.env': () => run(tsops('decrypt', join(out, 'enc.10k.env'))).ms,
  'encrypt 10k.yaml': () => run(tsops('encrypt', '--age', recipient, join(out, '10k.yaml'))).ms,
  'decrypt 200 small files, one process': () => {
    const dir = join(out, 'small-dec');
    rmSync(dir, { recursive: true, force: true });
    return run(tsops('decrypt', '--output-dir', dir, ...smallEnc)).ms;
  },
};
// The engine-to-engine figure (bench/engine.mjs): tsops's own decrypt, inside the process,
// over the span sops's decrypt.Data covers (bytes in memory -> plaintext bytes). Cold is the
// first call in a fresh process (what a CLI run pays); warm, the median of later calls.
const warmSamples = {};
function engineMs(name, file, format) {
  const r = run([process.execPath, join(root, 'bench', 'engine.mjs'), format, file, '3']);
  const m = /engine-timing (\{.*\})/.exec(r.stdout.toString());
  if (!m) throw new Error(`bench/engine.mjs printed no timing for ${file}`);
  const t = JSON.parse(m[1]);
  (warmSamples[name] ??= []).push(t.warm_ms);
  return t.cold_ms;
}
for (const [f, format] of [['10k.yaml', 'yaml'], ['10k.json', 'json'], ['10k.env', 'dotenv']]) {
  measures[`tsops engine decrypt ${f}`] = () => engineMs(`tsops engine decrypt ${f}`, join(out, `enc.${f}`), format);
}
if (bootstrap) {
  measures['sops 3.9.2 decrypt 10k.yaml'] = () => oracleDecryptMs(join(out, 'enc.10k.yaml'), 'yaml');
  measures['sops 3.9.2 decrypt 10k.json'] = () => oracleDecryptMs(join(out, 'enc.10k.json'), 'json');
  measures['sops 3.9.2 decrypt 10k.env'] = () => oracleDecryptMs(join(out, 'enc.10k.env'), 'dotenv');
}
const heavy = { 'decrypt 100k.yaml': () => run(tsops('decrypt', join(out, 'enc.100k.yaml'))).ms };

const samples = Object.fromEntries([...Object.keys(measures), ...Object.keys(heavy)].map((k) => [k, []]));
for (let r = 0; r < ROUNDS; r++) {
  for (const [k, fn] of Object.entries(measures)) samples[k].push(fn());
  if (r < Math.max(3, Math.ceil(ROUNDS / 2))) for (const [k, fn] of Object.entries(heavy)) samples[k].push(fn());
  process.stderr.write(`bench: round ${r + 1}/${ROUNDS} done\n`);
}

// Peak memory of the 100k-key decrypt, measured inside the process itself.
const rss = run([process.execPath, join(root, 'bench', 'rss.mjs'), 'decrypt', join(out, 'enc.100k.yaml')], { stdio: ['ignore', 'ignore', 'pipe'] });
const peakMb = Number(/maxrss-kb (\d+)/.exec(rss.stderr)[1]) / 1024;

const median = (xs) => {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};
const med = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
const ratio = (a, b) => med[a] / med[b];
const targets = [
  ['decrypt tiny.yaml / node -e 0', ratio('decrypt tiny.yaml', 'node -e 0'), 1.6],
  ['decrypt 10k.yaml / sops decrypt 10k.yaml', ratio('decrypt 10k.yaml', 'sops 3.9.2 decrypt 10k.yaml'), 0.5],
  ['decrypt 10k.json / sops decrypt 10k.json', ratio('decrypt 10k.json', 'sops 3.9.2 decrypt 10k.json'), 0.2],
  ['decrypt 10k.env / sops decrypt 10k.env', ratio('decrypt 10k.env', 'sops 3.9.2 decrypt 10k.env'), 1],
  ['decrypt 100k.yaml / decrypt 10k.yaml', ratio('decrypt 100k.yaml', 'decrypt 10k.yaml'), 11],
  ['encrypt 10k.yaml / decrypt 10k.yaml', ratio('encrypt 10k.yaml', 'decrypt 10k.yaml'), 1.5],
  ['200 files in one process / decrypt tiny.yaml', ratio('decrypt 200 small files, one process', 'decrypt tiny.yaml'), 3],
  ['peak memory of decrypt 100k.yaml (MB)', peakMb, 600],
];

// Engine to engine, process start-up excluded on both sides (not targets of the issue).
const warmMed = Object.fromEntries(Object.entries(warmSamples).map(([k, v]) => [k, median(v)]));
const engines = ['10k.yaml', '10k.json', '10k.env'].map((f) => {
  const sops = med[`sops 3.9.2 decrypt ${f}`];
  const cold = med[`tsops engine decrypt ${f}`];
  const warm = warmMed[`tsops engine decrypt ${f}`];
  return { file: f, tsops_cold_ms: cold, tsops_warm_ms: warm, sops_decrypt_data_ms: sops ?? NaN, cold_ratio: cold / sops, warm_ratio: warm / sops };
});

const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${osType()} ${release()}, node ${process.version}`;
console.log(`\ntsops benchmark (${ROUNDS} rounds, medians; ${machine})\n`);
console.log('| command | median ms |\n| --- | ---: |');
for (const [k, v] of Object.entries(med)) console.log(`| ${k} | ${v.toFixed(1)} |`);
console.log('\n| ratio | value | target | holds |\n| --- | ---: | ---: | --- |');
for (const [name, v, t] of targets) console.log(`| ${name} | ${Number.isFinite(v) ? v.toFixed(2) : 'n/a'} | <= ${t} | ${Number.isFinite(v) ? (v <= t ? 'yes' : 'NO') : 'n/a'} |`);
const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : 'n/a');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');
console.log('\nEngine to engine, start-up excluded: tsops decryptBytes() in a fresh process (cold: first call; warm: later calls) vs sops decrypt.Data\n');
console.log('| file | tsops cold ms | tsops warm ms | sops decrypt.Data ms | cold / sops | warm / sops |\n| --- | ---: | ---: | ---: | ---: | ---: |');
for (const e of engines) console.log(`| ${e.file} | ${f1(e.tsops_cold_ms)} | ${f1(e.tsops_warm_ms)} | ${f1(e.sops_decrypt_data_ms)} | ${f2(e.cold_ratio)} | ${f2(e.warm_ratio)} |`);

writeFileSync(
  join(root, 'bench', 'results.json'),
  JSON.stringify({ date: new Date().toISOString(), machine, rounds: ROUNDS, medians_ms: med, samples_ms: samples, engine_warm_samples_ms: warmSamples, engine_to_engine: engines, peak_memory_100k_mb: peakMb, targets: targets.map(([name, value, target]) => ({ name, value, target, holds: value <= target })) }, null, 2) + '\n',
);
