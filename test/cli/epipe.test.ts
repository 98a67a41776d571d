// A reader that goes away early (`tsops decrypt f | head -1`): tsops stops quietly, as sops (a Go
// program, ended by SIGPIPE) does, with the shell's code for that signal, 141; no stack trace.
import test from 'ava';
import { spawn } from 'node:child_process';
import { BIN, ageWorkspace } from '../helpers/cli.js';

test('decrypt to a pipe whose reader closes after the first bytes: exit 141, nothing on stderr', async (t) => {
  const ws = ageWorkspace(t);
  const lines: string[] = [];
  for (let i = 0; i < 100_000; i++) lines.push(`key${i}: value number ${i}`);
  ws.write('big.yaml', lines.join('\n') + '\n');
  const enc = await ws.run(['encrypt', '--age', ws.key.recipient, '-i', 'big.yaml']);
  t.is(enc.code, 0, enc.stderr);
  for (const args of [['decrypt', 'big.yaml'], ['decrypt', '--output-type', 'json', 'big.yaml']]) {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ws.dir, env: ws.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const first = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString())));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    t.true(first.length > 0, `${args.join(' ')}: some output arrived`);
    t.is(code, 141, `${args.join(' ')}: ${stderr}`);
    t.is(stderr, '', `${args.join(' ')}: quiet`);
  }
});
