/**
 * Discover + parse + validate `.sops.yaml` in one call. The file system is injected
 * ({@link ConfigFs}); `io/` passes the real one.
 */
import { ConfigError } from '../errors.js';
import {
  discoverConfig,
  discoverConfigSync,
  type ConfigFs,
  type ConfigFsSync,
  type ConfigSource,
  type DiscoverOptions,
} from './discover.js';
import { parseConfig, storeSettings, type ConfigProblem, type SopsConfig, type StoreSettings } from './schema.js';

/** {@link loadConfig} options: discovery options plus the file system. */
export interface LoadOptions extends DiscoverOptions {
  fs: ConfigFs;
}

/** {@link loadConfigSync} options. */
export interface LoadSyncOptions extends DiscoverOptions {
  fs: ConfigFsSync;
}

/** A loaded config, or the absence of one. */
export interface LoadedConfig {
  /** Absolute path of the config file; undefined when none was found. */
  path?: string;
  source: ConfigSource;
  /** The validated config; undefined when no file was found. */
  config?: SopsConfig;
  /** Discovery and validation warnings, formatted (`FILE:LINE: FIELD: message`); not printed. */
  warnings: string[];
  /** The validation warnings as structured problems. */
  problems: ConfigProblem[];
}

/** `FILE:LINE: FIELD: message` (parts left out when unknown). */
export function formatProblem(p: ConfigProblem, file?: string): string {
  const where = [file, p.line].filter((x) => x !== undefined && x !== '').join(':');
  return [where, p.path, p.message].filter((x) => x).join(': ');
}

function decode(path: string, data: string | Uint8Array): string {
  if (typeof data === 'string') return data;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    throw new ConfigError(`could not read config file ${path}: it is not valid UTF-8`);
  }
}

function readError(path: string, e: unknown): ConfigError {
  return new ConfigError(`could not read config file ${path}: ${e instanceof Error ? e.message : String(e)}`, [], { cause: e });
}

/** Parses and validates; throws {@link ConfigError} listing every error. */
function interpret(path: string, source: ConfigSource, text: string, discoveryWarnings: string[]): LoadedConfig {
  const { config, problems } = parseConfig(text);
  const errors = problems.filter((p) => p.severity === 'error');
  const warnings = problems.filter((p) => p.severity === 'warning');
  if (errors.length > 0) {
    throw new ConfigError(
      `invalid config file ${path}: ${errors.length} ${errors.length === 1 ? 'problem' : 'problems'}`,
      errors.map((p) => formatProblem(p, path)),
      { hint: `fix ${path}; tsops rejects unknown or misspelled fields that sops would silently ignore` },
    );
  }
  return { path, source, config, warnings: [...discoveryWarnings, ...warnings.map((p) => formatProblem(p, path))], problems: warnings };
}

/**
 * Finds (`--config`, `SOPS_CONFIG`, or upward from `cwd`), reads, parses and validates the
 * config. No file found is not an error (`config` undefined). Throws {@link ConfigError}
 * (exit 1) for a missing explicit file, an unreadable file, or any validation error; the
 * message names the file and `problems` lists each error with its line and field path.
 */
export async function loadConfig(opts: LoadOptions): Promise<LoadedConfig> {
  const found = await discoverConfig(opts);
  if (!found.path) return { source: found.source, warnings: found.warnings, problems: [] };
  let data: string | Uint8Array;
  try {
    data = await opts.fs.readFile(found.path);
  } catch (e) {
    throw readError(found.path, e);
  }
  return interpret(found.path, found.source, decode(found.path, data), found.warnings);
}

/** {@link loadConfig} with a synchronous file system. */
export function loadConfigSync(opts: LoadSyncOptions): LoadedConfig {
  const found = discoverConfigSync(opts);
  if (!found.path) return { source: found.source, warnings: found.warnings, problems: [] };
  let data: string | Uint8Array;
  try {
    data = opts.fs.readFile(found.path);
  } catch (e) {
    throw readError(found.path, e);
  }
  return interpret(found.path, found.source, decode(found.path, data), found.warnings);
}

/** {@link loadStoreSettings} result. */
export interface LoadedStoreSettings {
  path?: string;
  stores: StoreSettings;
  warnings: string[];
}

/**
 * The `stores:` settings, for decrypt (which uses nothing else from the config). As in sops, an
 * unreadable or invalid config still fails; no config gives the defaults.
 */
export async function loadStoreSettings(opts: LoadOptions): Promise<LoadedStoreSettings> {
  const loaded = await loadConfig(opts);
  return { ...(loaded.path ? { path: loaded.path } : {}), stores: storeSettings(loaded.config), warnings: loaded.warnings };
}
