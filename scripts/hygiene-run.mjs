#!/usr/bin/env node
// `npm test` after the build: runs ava (arguments passed on) with TSOPS_TRANSCRIPT_DIR set, so
// that every tsops process of the suite is recorded, then the secret hygiene check over the
// transcript (scripts/hygiene-check.mjs). Fails when ava fails or a secret leaked. The
// transcript (test secrets only) is removed afterwards unless TSOPS_KEEP_TRANSCRIPT is set.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'tsops-transcript-'));
const ava = spawnSync('npx', ['ava', ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, TSOPS_TRANSCRIPT_DIR: dir } });
const check = spawnSync(process.execPath, [join(import.meta.dirname, 'hygiene-check.mjs'), dir], { stdio: 'inherit' });
if (process.env.TSOPS_KEEP_TRANSCRIPT) console.log(`hygiene: transcript kept in ${dir}`);
else rmSync(dir, { recursive: true, force: true });
process.exit(ava.status !== 0 ? (ava.status ?? 1) : (check.status ?? 1));
