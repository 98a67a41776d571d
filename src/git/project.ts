/**
 * `.sops.yaml` with its creation rules as `verify`, `git setup` and `config explain` need them:
 * the config file, its rules (with their `path_regex`), and the full match explanation for a
 * file, not just the winning rule's settings.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { explainMatch, loadConfigSync, type LoadedConfig, type MatchExplanation } from '../config/index.js';

/** A loaded config and its creation-rule matcher. */
export interface ProjectRules {
  /** Absolute path of the `.sops.yaml`, if one was found. */
  path?: string;
  /** How it was found: `--config`, `SOPS_CONFIG`, the upward search, or not at all. */
  source: LoadedConfig['source'];
  loaded: LoadedConfig;
  /** Its directory (paths are matched relative to it). */
  dir?: string;
  /** The explanation for a file (absolute path); undefined without config or without creation rules. */
  explain(absFile: string): MatchExplanation | undefined;
}

const realFs = {
  exists: (p: string) => {
    try {
      return existsSync(p) && statSync(p).isFile();
    } catch {
      return false;
    }
  },
  readFile: (p: string) => readFileSync(p),
};

/** Finds and validates `.sops.yaml` (an invalid one is an error, exit 1). */
export function loadProjectRules(opts: { cwd: string; configPath?: string; env: Record<string, string | undefined> }): ProjectRules {
  const loaded = loadConfigSync({ cwd: opts.cwd, ...(opts.configPath ? { configPath: opts.configPath } : {}), env: opts.env, fs: realFs });
  const path = loaded.path;
  return {
    ...(path ? { path, dir: dirname(path) } : {}),
    source: loaded.source,
    loaded,
    explain(absFile) {
      if (!loaded.config || !path) return undefined;
      return explainMatch(loaded.config, { configPath: path, filePath: absFile, cwd: opts.cwd });
    },
  };
}
