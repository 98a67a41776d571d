/**
 * Format selection as sops does it: `--input-type`/`--output-type`, else the file suffix
 * (case-sensitive); anything else, stdin included, is binary.
 */
import { binaryStore } from './binary.js';
import { dotenvStore } from './dotenv.js';
import { iniStore } from './ini.js';
import { jsonStore } from './json.js';
import type { FormatName, Store } from './types.js';
import { yamlStore } from './yaml.js';

export const FORMATS: readonly FormatName[] = ['yaml', 'json', 'dotenv', 'ini', 'binary'];

const STORES: Record<FormatName, Store> = {
  yaml: yamlStore,
  json: jsonStore,
  dotenv: dotenvStore,
  ini: iniStore,
  binary: binaryStore,
};

/** The format a file name implies. */
export function formatFromPath(path: string | undefined): FormatName {
  if (!path) return 'binary';
  if (path.endsWith('.yaml') || path.endsWith('.yml')) return 'yaml';
  if (path.endsWith('.json')) return 'json';
  if (path.endsWith('.env')) return 'dotenv';
  if (path.endsWith('.ini')) return 'ini';
  return 'binary';
}

export function isFormatName(s: string | undefined): s is FormatName {
  return s !== undefined && (FORMATS as readonly string[]).includes(s);
}

/** `--input-type`/`--output-type` value if it names a format, else the file name's format. */
export function resolveFormat(explicit: string | undefined, path: string | undefined): FormatName {
  return isFormatName(explicit) ? explicit : formatFromPath(path);
}

export function storeFor(format: FormatName): Store {
  return STORES[format];
}

export type { FormatName, Store };
