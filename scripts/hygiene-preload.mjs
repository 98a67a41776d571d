// Loaded into every tsops process of the test suite (NODE_OPTIONS=--import, set by
// test/helpers/cli.ts baseEnv when TSOPS_TRANSCRIPT_DIR is set): records what the process printed
// (stdout, stderr), its argv, cwd and exit code into TSOPS_TRANSCRIPT_DIR/cli-PID-RAND.json when
// it exits. scripts/hygiene-check.mjs then looks for secret values in all of it.
// Costs nothing when TSOPS_TRANSCRIPT_DIR is unset; records only processes running bin/tsops.js.
import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

const dir = process.env.TSOPS_TRANSCRIPT_DIR;
const CAP = 1 << 20;
const isTsops = /(^|\/)bin\/tsops\.js$/.test(process.argv[1] ?? '');

if (dir && isTsops) {
  const chunks = { 1: [], 2: [] };
  const sizes = { 1: 0, 2: 0 };
  const keep = (fd, data, enc) => {
    if (fd !== 1 && fd !== 2) return;
    const b = typeof data === 'string' ? Buffer.from(data, typeof enc === 'string' ? enc : 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    if (sizes[fd] >= CAP) return;
    chunks[fd].push(Buffer.from(b.subarray(0, CAP - sizes[fd])));
    sizes[fd] += b.length;
  };
  const origWriteSync = fs.writeSync;
  fs.writeSync = function (fd, data, ...rest) {
    const n = origWriteSync.call(this, fd, data, ...rest);
    if (typeof data === 'string') keep(fd, data, rest[1]);
    else {
      const off = typeof rest[0] === 'number' ? rest[0] : 0;
      keep(fd, Buffer.from(data.buffer, data.byteOffset, data.byteLength).subarray(off, off + n));
    }
    return n;
  };
  for (const [fd, stream] of [[1, process.stdout], [2, process.stderr]]) {
    const orig = stream.write;
    stream.write = function (data, enc, cb) {
      keep(fd, data, enc);
      return orig.call(this, data, enc, cb);
    };
  }
  process.on('exit', (code) => {
    const rec = {
      kind: 'cli',
      pid: process.pid,
      argv: process.argv.slice(2),
      cwd: process.cwd(),
      code,
      stdout: Buffer.concat(chunks[1]).toString('utf8'),
      stderr: Buffer.concat(chunks[2]).toString('utf8'),
      truncated: sizes[1] > CAP || sizes[2] > CAP,
    };
    try {
      fs.writeFileSync(join(dir, `cli-${process.pid}-${randomBytes(4).toString('hex')}.json`), JSON.stringify(rec), { flag: 'wx', mode: 0o600 });
    } catch {
      /* transcript dir gone: nothing to record into */
    }
  });
}
