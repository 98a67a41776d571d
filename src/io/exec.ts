/**
 * exec-env / exec-file: run a command (through /bin/sh -c, as sops does) with decrypted values
 * in its environment, or with the decrypted file at `{}`. The child's exit status becomes
 * ours; temporary plaintext (FIFO or 0600 file on tmpfs) is removed however the command ends.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, constants, openSync, writeFileSync, createWriteStream } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { isAbsolute, join, normalize } from 'node:path';
import { ExitCode, SopsError } from '../errors.js';
import { makePrivateDir } from './private-temp.js';

export interface ExecOptions {
  command: string;
  /** Extra environment entries (the decrypted values for exec-env). */
  env?: Record<string, string>;
  /** Start from an empty environment instead of ours. */
  pristine?: boolean;
  /** Run as this user (needs the privileges to switch users). */
  user?: string;
}

function userIds(user: string): { uid: number; gid: number; home: string } {
  const r = spawnSync('getent', ['passwd', user], { encoding: 'utf8' });
  const fields = r.status === 0 ? r.stdout.trim().split(':') : [];
  if (fields.length < 6) throw new SopsError(`unknown user ${user}`, ExitCode.Generic);
  return { uid: Number(fields[2]), gid: Number(fields[3]), home: fields[5]! };
}

/** Runs `/bin/sh -c command`; resolves to its exit status (128+n for a signal). */
export function runCommand(opts: ExecOptions): Promise<number> {
  const base = opts.pristine ? {} : { ...process.env };
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) env[k] = v;
  let ids: { uid: number; gid: number } | undefined;
  if (opts.user) {
    const u = userIds(opts.user);
    ids = { uid: u.uid, gid: u.gid };
    Object.assign(env, { HOME: u.home, USER: opts.user, LOGNAME: opts.user });
  }
  Object.assign(env, opts.env ?? {});
  return new Promise((resolve, reject) => {
    const child = spawn('/bin/sh', ['-c', opts.command], { stdio: 'inherit', env, ...(ids ?? {}) });
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, forward(s)] as const);
    // First in line: the plaintext cleanup (private-temp.ts) re-raises the signal, which ends
    // this process at once, so a listener after it would never run.
    for (const [s, h] of handlers) process.prependListener(s, h);
    const done = () => {
      for (const [s, h] of handlers) process.off(s, h);
    };
    child.on('error', (e) => {
      done();
      reject(new SopsError(`could not run the command: ${e.message}`, ExitCode.Generic));
    });
    child.on('exit', (code, signal) => {
      done();
      resolve(code ?? 128 + (signal ? (osConstants.signals[signal] ?? 1) : 1));
    });
  });
}

export interface ExecFileOptions extends ExecOptions {
  plaintext: Uint8Array;
  /** A regular file instead of a FIFO. */
  noFifo?: boolean;
  /** Name of the file inside the private directory. */
  filename?: string;
}

/** Runs a command with the plaintext at `{}`; the file or FIFO is removed afterwards. */
export async function execWithFile(opts: ExecFileOptions): Promise<number> {
  if (opts.filename !== undefined) {
    const n = normalize(opts.filename);
    if (isAbsolute(opts.filename) || n.startsWith('..') || n === '.' || n.includes('/')) {
      throw new SopsError(`--filename must be a plain file name, not a path: ${opts.filename}`, ExitCode.Generic);
    }
  }
  const tmp = makePrivateDir('tsops-exec-');
  try {
    const path = join(tmp.dir, opts.filename ?? 'tmp-file');
    let writer: Promise<void> | undefined;
    if (opts.noFifo) {
      writeFileSync(path, opts.plaintext, { mode: 0o600 });
    } else {
      const r = spawnSync('mkfifo', ['-m', '600', path]);
      if (r.status !== 0) throw new SopsError(`could not create a FIFO (${r.stderr.toString().trim() || 'mkfifo failed'}); use --no-fifo`, ExitCode.Generic);
      writer = new Promise<void>((resolve) => {
        const ws = createWriteStream(path);
        ws.on('error', () => resolve());
        ws.end(opts.plaintext, () => resolve());
      });
    }
    const code = await runCommand({ ...opts, command: opts.command.split('{}').join(path) });
    if (writer) {
      // If the command did not read the whole FIFO, our writer is blocked opening it, or will be:
      // its open runs on libuv's thread pool and may start only after the command has ended.
      // Open the read end ourselves, briefly and again until the writer is done (all written,
      // or EPIPE), so that no blocked open keeps this process alive.
      let settled = false;
      void writer.then(() => {
        settled = true;
      });
      for (let i = 0; !settled && i < 200; i++) {
        let fd: number;
        try {
          fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
        } catch {
          break; /* already gone */
        }
        await Promise.race([writer, new Promise((r) => setTimeout(r, 25))]);
        closeSync(fd);
      }
    }
    return code;
  } finally {
    tmp.remove();
  }
}
