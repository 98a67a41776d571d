/**
 * The YAML store: bytes <-> documents exactly as sops 3.13 reads and writes YAML with
 * go-yaml v3 (typing, quoting, comments, indentation, metadata in every document).
 */
import type { Node } from '../tree/types.js';
import type { EmitOptions, LoadedFile, Store } from './types.js';
import { emitYaml, emitYamlValue } from './yaml/emit.js';
import { loadYaml } from './yaml/load.js';
import { guardDepth } from './depth.js';
import { ExitCode } from '../errors.js';

const encoder = new TextEncoder();

/** A new YAML store (stateless; {@link yamlStore} is a shared instance). */
export function createYamlStore(): Store {
  return {
    name: 'yaml',
    load(data: Uint8Array): LoadedFile {
      return loadYaml(data);
    },
    emit(file: LoadedFile, opts?: EmitOptions): Uint8Array {
      return encoder.encode(guardDepth('could not write YAML', () => emitYaml(file, opts), ExitCode.ErrorDumpingTree));
    },
    emitValue(value: Node): Uint8Array {
      return encoder.encode(guardDepth('could not write YAML', () => emitYamlValue(value), ExitCode.ErrorDumpingTree));
    },
  };
}

/** The YAML store. */
export const yamlStore: Store = createYamlStore();
