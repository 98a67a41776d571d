/**
 * A store turns file bytes into documents (ordered trees) and back. Stores are pure: bytes in,
 * bytes out. They know where each format keeps the `sops` metadata (YAML/JSON: a top-level
 * `sops` key; INI: a `[sops]` section; dotenv: `sops_`-prefixed keys) and hand it over as a
 * generic tree, which `metadata.ts` interprets.
 */
import type { MapNode, Node } from '../tree/types.js';

export type FormatName = 'yaml' | 'json' | 'dotenv' | 'ini' | 'binary';

export interface LoadedFile {
  /** One mapping per document (YAML may have several; every other format has exactly one). */
  documents: MapNode[];
  /**
   * The metadata block, unflattened, if the file has one (YAML: from the first document).
   * Values from dotenv/INI are all strings. Removed from `documents`.
   */
  metadata?: MapNode;
}

export interface EmitOptions {
  /** Indentation (spaces). undefined = the format's default (YAML 4, JSON tab). */
  indent?: number;
}

export interface Store {
  readonly name: FormatName;
  /**
   * Parses a file (`mode` matters for binary only: a plain file is raw bytes under `data`, an
   * encrypted one is a JSON envelope; default `encrypted`). Throws {@link ParseError} (exit 2) with line/column for malformed input,
   * for duplicate keys, non-mapping documents and so on.
   */
  load(data: Uint8Array, mode?: "plain" | "encrypted"): LoadedFile;
  /**
   * Writes documents, with `metadata` appended where the format keeps it (every YAML document
   * gets it as its last key). Metadata must already be in the order to write.
   */
  emit(file: LoadedFile, opts?: EmitOptions): Uint8Array;
  /** Emits one value for `decrypt --extract` of a non-string value. */
  emitValue(value: Node, opts?: EmitOptions): Uint8Array;
}
