/**
 * Running the user's editor on a file: `$SOPS_EDITOR`, else `$EDITOR` (split shell-style, so
 * `code --wait` works), else the first of vim, nano, vi on PATH.
 */
import { spawn, spawnSync } from 'node:child_process';
import { ExitCode, SopsError } from '../errors.js';
import { splitCommandLine } from '../keys/age-identities.js';

/** The editor command line (without the file). Throws exit 201 when there is none. */
export function editorCommand(env: Record<string, string | undefined>): string[] {
  for (const name of ['SOPS_EDITOR', 'EDITOR'] as const) {
    const v = env[name];
    if (v && v.trim()) {
      let parts: string[];
      try {
        parts = splitCommandLine(v);
      } catch {
        throw new SopsError(`invalid $${name}: ${v}`, ExitCode.NoEditorFound);
      }
      if (parts.length) return parts;
    }
  }
  for (const name of ['vim', 'nano', 'vi']) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { env: env as NodeJS.ProcessEnv, encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return [r.stdout.trim()];
  }
  throw new SopsError('no editor available', ExitCode.NoEditorFound, {
    hint: 'set SOPS_EDITOR or EDITOR (e.g. EDITOR="code --wait"), or install vim, nano or vi',
  });
}

/** Runs the editor on `path` with the terminal attached; resolves when it exits. */
export function runEditor(cmd: string[], path: string, env: Record<string, string | undefined>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0]!, [...cmd.slice(1), path], { stdio: 'inherit', env: env as NodeJS.ProcessEnv });
    child.on('error', (e: NodeJS.ErrnoException) =>
      reject(new SopsError(`could not run editor ${cmd[0]}: ${e.code === 'ENOENT' ? 'not found' : e.message}`, ExitCode.NoEditorFound)),
    );
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else reject(new SopsError(`the editor ${cmd[0]} ${signal ? `was killed by ${signal}` : `exited with status ${code}`}; nothing was changed`, ExitCode.NoEditorFound));
    });
  });
}
