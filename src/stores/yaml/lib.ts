/**
 * The `yaml` package, loaded on first use. It is the full YAML parser behind the go-yaml
 * emulation and `.sops.yaml`; most sops files never need it (see `fast.ts`), and loading it
 * is a noticeable part of a small command's run time. It is a CommonJS package, so it can be
 * loaded synchronously (in the CommonJS bundle of the CLI with its own `require`).
 */
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';

let lib: typeof Yaml | undefined;

/** The `yaml` package. */
export function yamlLib(): typeof Yaml {
  return (lib ??= (typeof require === 'function' ? require('yaml') : createRequire(import.meta.url)('yaml')) as typeof Yaml);
}
