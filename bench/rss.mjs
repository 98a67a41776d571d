// Runs the tsops CLI in this process and reports its peak resident memory on stderr.
import { main } from '../dist/cli/main.js';
import { createWriteStream } from 'node:fs';

const devnull = createWriteStream('/dev/null');
process.stdout.write = (chunk, enc, cb) => devnull.write(chunk, enc, cb);
const code = await main(process.argv.slice(2));
process.stderr.write(`maxrss-kb ${process.resourceUsage().maxRSS}\n`);
process.exitCode = code;
