/**
 * Finding `.sops.yaml`, as sops does: `--config PATH`, else `SOPS_CONFIG`, else a search from
 * the working directory (not the target file's directory) upward, at most 100 levels. A
 * `.sops.yml` met on the way is not used; it only produces a warning.
 *
 * The file system comes in as functions ({@link ConfigFs}), so this module stays pure.
 */
import { posix, win32 } from 'node:path';
import { ConfigError } from '../errors.js';

/** The file name sops looks for. */
export const CONFIG_FILE_NAME = '.sops.yaml';
/** The name people often use by mistake; sops ignores it (with a warning). */
export const ALTERNATE_CONFIG_NAME = '.sops.yml';
/** How many directories the search looks at, the working directory included. */
export const MAX_SEARCH_DEPTH = 100;

/** What discovery and loading need from the file system. Sync or async results both work. */
export interface ConfigFs {
  /** Whether a file exists at the path. */
  exists(path: string): boolean | Promise<boolean>;
  /** The file's content; may throw (the error is reported with the path). */
  readFile(path: string): string | Uint8Array | Promise<string | Uint8Array>;
}

/** {@link ConfigFs} with synchronous results, for {@link discoverConfigSync}. */
export interface ConfigFsSync {
  exists(path: string): boolean;
  readFile(path: string): string | Uint8Array;
}

/** Where to look. */
export interface DiscoverOptions {
  /** Absolute working directory: the search starts here, relative paths resolve against it. */
  cwd: string;
  /** `--config`; wins over `SOPS_CONFIG`. */
  configPath?: string;
  /** The environment (`SOPS_CONFIG`). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Path syntax; default: win32 when `cwd` looks like `C:\...` or `\\server\...`. */
  platform?: 'posix' | 'win32';
}

/** Where the config came from. */
export type ConfigSource = 'flag' | 'env' | 'search' | 'none';

/** What discovery found. */
export interface DiscoveryResult {
  /** Absolute path of the config file; undefined when the search found none. */
  path?: string;
  source: ConfigSource;
  /** Messages for the user (a `.sops.yml` that was ignored); returned, never printed. */
  warnings: string[];
}

const WINDOWS_PATH = /^(?:[A-Za-z]:[\\/]|\\\\)/;

function pathApi(opts: DiscoverOptions) {
  return (opts.platform ?? (WINDOWS_PATH.test(opts.cwd) ? 'win32' : 'posix')) === 'win32' ? win32 : posix;
}

/** The explicitly named config file, if any (`--config` first, then `SOPS_CONFIG`). */
function explicit(opts: DiscoverOptions): { path: string; source: 'flag' | 'env' } | undefined {
  const api = pathApi(opts);
  if (opts.configPath) return { path: api.resolve(opts.cwd, opts.configPath), source: 'flag' };
  const env = opts.env?.SOPS_CONFIG;
  if (env) return { path: api.resolve(opts.cwd, env), source: 'env' };
  return undefined;
}

function missing(path: string, source: 'flag' | 'env'): ConfigError {
  const from = source === 'flag' ? '--config' : 'SOPS_CONFIG';
  return new ConfigError(`config file ${path} (from ${from}) does not exist`, [], {
    hint: source === 'flag' ? 'check the --config path' : 'check or unset the SOPS_CONFIG environment variable',
  });
}

/** The directories the search looks in, nearest first. */
export function searchDirectories(opts: DiscoverOptions): string[] {
  const api = pathApi(opts);
  const dirs: string[] = [];
  let dir = api.resolve(opts.cwd);
  for (let i = 0; i < MAX_SEARCH_DEPTH; i++) {
    dirs.push(dir);
    const parent = api.dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return dirs;
}

function alternateWarning(alternate: string, found: string | undefined): string {
  const base = `ignoring "${alternate}" when searching for config file; the config file must be called "${CONFIG_FILE_NAME}"`;
  return found ? `${base}; using "${found}" instead` : base;
}

/** Finds the config file. Throws {@link ConfigError} when `--config`/`SOPS_CONFIG` names a missing file. */
export async function discoverConfig(opts: DiscoverOptions & { fs: Pick<ConfigFs, 'exists'> }): Promise<DiscoveryResult> {
  const named = explicit(opts);
  if (named) {
    if (!(await opts.fs.exists(named.path))) throw missing(named.path, named.source);
    return { ...named, warnings: [] };
  }
  const api = pathApi(opts);
  let alternate: string | undefined;
  for (const dir of searchDirectories(opts)) {
    const candidate = api.join(dir, CONFIG_FILE_NAME);
    if (await opts.fs.exists(candidate)) {
      return { path: candidate, source: 'search', warnings: alternate ? [alternateWarning(alternate, candidate)] : [] };
    }
    const alt = api.join(dir, ALTERNATE_CONFIG_NAME);
    if (!alternate && (await opts.fs.exists(alt))) alternate = alt;
  }
  return { source: 'none', warnings: alternate ? [alternateWarning(alternate, undefined)] : [] };
}

/** {@link discoverConfig} with a synchronous file system. */
export function discoverConfigSync(opts: DiscoverOptions & { fs: Pick<ConfigFsSync, 'exists'> }): DiscoveryResult {
  const named = explicit(opts);
  if (named) {
    if (!opts.fs.exists(named.path)) throw missing(named.path, named.source);
    return { ...named, warnings: [] };
  }
  const api = pathApi(opts);
  let alternate: string | undefined;
  for (const dir of searchDirectories(opts)) {
    const candidate = api.join(dir, CONFIG_FILE_NAME);
    if (opts.fs.exists(candidate)) {
      return { path: candidate, source: 'search', warnings: alternate ? [alternateWarning(alternate, candidate)] : [] };
    }
    const alt = api.join(dir, ALTERNATE_CONFIG_NAME);
    if (!alternate && opts.fs.exists(alt)) alternate = alt;
  }
  return { source: 'none', warnings: alternate ? [alternateWarning(alternate, undefined)] : [] };
}
