/**
 * `.sops.yaml` as the CLI and file-level API use it: found from the working directory (or
 * `--config` / `SOPS_CONFIG`), validated, then asked for the creation rule of a file and the
 * output indentation of a format.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { loadConfigSync, matchCreationRule, storeSettings, type SopsConfig } from '../config/index.js';
import { ConfigError } from '../errors.js';
import type { ConfigSettings } from '../settings.js';
import type { FormatName } from '../stores/types.js';

export interface ProjectConfig {
  /** The config file used, if any. */
  path?: string;
  /** Discovery and validation warnings (not printed here). */
  warnings: string[];
  /**
   * The creation rule for a file (absolute path, or undefined for standard input). When rules
   * exist but none matches: an error, unless keys were given directly, in which case the
   * config is not needed (sops fails there too; tsops lets the given keys win).
   */
  creationRuleFor(absFile: string | undefined, opts?: { keysGiven?: boolean }): ConfigSettings | undefined;
  /** Output indentation for a format from `stores:` (undefined = the format's default). */
  indentFor(format: FormatName): number | undefined;
}

export interface LoadProjectConfigOptions {
  cwd: string;
  configPath?: string;
  env: Record<string, string | undefined>;
}

/** Loads and validates `.sops.yaml`; an invalid file is an error (exit 1) for every command. */
export function loadProjectConfig(opts: LoadProjectConfigOptions): ProjectConfig {
  const loaded = loadConfigSync({
    cwd: opts.cwd,
    ...(opts.configPath ? { configPath: opts.configPath } : {}),
    env: opts.env,
    fs: {
      exists: (p) => {
        try {
          return existsSync(p) && statSync(p).isFile();
        } catch {
          return false;
        }
      },
      readFile: (p) => readFileSync(p),
    },
  });
  const config: SopsConfig | undefined = loaded.config;
  const stores = storeSettings(config);
  return {
    ...(loaded.path ? { path: loaded.path } : {}),
    warnings: loaded.warnings,
    creationRuleFor(absFile, o = {}) {
      if (!config || !loaded.path) return undefined;
      try {
        const m = matchCreationRule(config, { configPath: loaded.path, filePath: absFile ?? '', cwd: opts.cwd });
        return m?.rule;
      } catch (e) {
        if (e instanceof ConfigError && o.keysGiven) return undefined;
        throw e;
      }
    },
    indentFor(format) {
      const v = format === 'yaml' ? stores.yaml.indent : format === 'json' ? stores.json.indent : format === 'binary' ? stores.json_binary.indent : undefined;
      return v === undefined || v === 0 || v === -1 ? undefined : v;
    },
  };
}
