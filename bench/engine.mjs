#!/usr/bin/env node
// The engine-to-engine figure: tsops's own time for what sops's `decrypt.Data` does, measured
// inside one fresh Node process, without the process start-up and module loading around it.
//
//   node bench/engine.mjs FORMAT FILE [WARM_REPS]
//
// sops's decrypt.Data (decrypt/decrypt.go, v3.9.2) takes the file's bytes already read and
// covers: parsing them (store.LoadEncryptedFile), recovering the data key
// (Metadata.GetDataKey: reading the age identities from SOPS_AGE_KEY_FILE and unwrapping),
// decrypting every value with the MAC computed in the same walk, checking the MAC, and
// emitting the plaintext (store.EmitPlainFile). The sops oracle times exactly that call (its
// `sops_decrypt_data_ms`). Here the same span is `decryptBytes(bytes)`: the file is read
// before the clock starts, the output is not written anywhere.
//
// Go code is compiled ahead of time; JavaScript is compiled while it runs. The first call in a
// fresh process ("cold") is what one CLI run pays and is the figure compared with sops; the
// median of WARM_REPS further calls in the same process ("warm") shows the engine once V8 has
// optimized it. Prints one line: `engine-timing {"cold_ms":...,"warm_ms":...,"output_bytes":...}`.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [format, file, repsText] = process.argv.slice(2);
if (!format || !file) {
  console.error('usage: node bench/engine.mjs FORMAT FILE [WARM_REPS]');
  process.exit(2);
}
const reps = Number(repsText ?? 5);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { decryptBytes } = await import(join(root, 'dist', 'index.js'));

const bytes = readFileSync(file);
const once = async () => {
  const t0 = process.hrtime.bigint();
  const out = await decryptBytes(bytes, { inputType: format, filename: file });
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, out };
};
const first = await once();
const warm = [];
for (let i = 0; i < reps; i++) {
  const r = await once();
  if (Buffer.compare(r.out, first.out) !== 0) throw new Error('engine.mjs: a repeated decrypt gave a different output');
  warm.push(r.ms);
}
warm.sort((a, b) => a - b);
const round = (x) => Math.round(x * 10) / 10;
const result = { cold_ms: round(first.ms), warm_ms: warm.length ? round(warm[warm.length >> 1]) : null, output_bytes: first.out.length };
process.stdout.write(`engine-timing ${JSON.stringify(result)}\n`);
