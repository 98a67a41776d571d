#!/usr/bin/env node
// Long fuzz runs: `npm run fuzz -- [--runs N] [--seed S] [ava file filters...]`.
// Runs test/fuzz/ with TSOPS_FUZZ_RUNS (default 50,000 cases per property, scaled by each
// property's weight) and TSOPS_FUZZ_SEED (default: a random seed, printed first so that a
// failure can be replayed).
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
let runs = 50000;
let seed = Math.floor(Math.random() * 2 ** 31);
const rest = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runs') runs = Number(args[++i]);
  else if (args[i] === '--seed') seed = Number(args[++i]);
  else rest.push(args[i]);
}
if (!Number.isInteger(runs) || runs < 1 || !Number.isInteger(seed)) {
  console.error('usage: npm run fuzz -- [--runs N] [--seed S] [test files...]');
  process.exit(2);
}
console.log(`fuzz: ${runs} runs per property, seed ${seed}`);
const files = rest.length > 0 ? rest : ['test/fuzz/'];
const r = spawnSync('npx', ['ava', '--timeout=60m', '--serial', ...files], {
  stdio: 'inherit',
  env: { ...process.env, TSOPS_FUZZ_RUNS: String(runs), TSOPS_FUZZ_SEED: String(seed) },
});
if (r.status !== 0) console.error(`fuzz: failed; replay with npm run fuzz -- --runs ${runs} --seed ${seed}`);
process.exit(r.status ?? 1);
