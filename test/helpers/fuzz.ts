/**
 * Shared settings for the fuzz suite (test/fuzz/). `npm test` runs it with a fixed seed and a
 * size that fits CI; `npm run fuzz` (scripts/fuzz.mjs) sets TSOPS_FUZZ_RUNS / TSOPS_FUZZ_SEED
 * for long runs. fast-check prints the seed, the path and the shrunk counterexample of a failure;
 * {@link fuzzParams} adds the command that replays it.
 */
import type { Parameters } from 'fast-check';

/** The seed of CI runs (any fixed number; change it only on purpose). */
export const DEFAULT_SEED = 20261122;

const envInt = (name: string): number | undefined => {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`${name} must be an integer, got ${JSON.stringify(v)}`);
  return n;
};

/** The seed of this run: TSOPS_FUZZ_SEED or {@link DEFAULT_SEED}. */
export const fuzzSeed = (): number => envInt('TSOPS_FUZZ_SEED') ?? DEFAULT_SEED;

/**
 * How many cases a property runs: `ciRuns` in `npm test`, TSOPS_FUZZ_RUNS in a long run
 * (scaled by `weight`, so that an expensive property can run a fraction of the cheap ones).
 */
export function fuzzRuns(ciRuns: number, weight = 1): number {
  const long = envInt('TSOPS_FUZZ_RUNS');
  return long === undefined ? ciRuns : Math.max(1, Math.round(long * weight));
}

/** fast-check parameters for one property: the run's seed, its size, and a replay hint. */
export function fuzzParams<T>(ciRuns: number, weight = 1, extra: Parameters<T> = {}): Parameters<T> {
  const seed = fuzzSeed();
  return {
    seed,
    numRuns: fuzzRuns(ciRuns, weight),
    endOnFailure: false,
    reporter(details) {
      if (!details.failed) return;
      const msg = [
        `fuzz failure (seed ${details.seed}, path ${JSON.stringify(details.counterexamplePath)}, after ${details.numRuns} runs)`,
        `minimal case: ${JSON.stringify(details.counterexample, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))?.slice(0, 2000)}`,
        `replay: TSOPS_FUZZ_SEED=${details.seed} npx ava <this file> (or npm run fuzz -- --seed ${details.seed})`,
        details.errorInstance instanceof Error ? `error: ${details.errorInstance.message.slice(0, 2000)}` : '',
      ].join('\n');
      throw new Error(msg);
    },
    ...extra,
  };
}
