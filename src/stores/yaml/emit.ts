/**
 * Writing YAML exactly as sops does with go-yaml v3: block style, `indent` spaces (default 4),
 * the metadata appended to every document as its last key `sops`.
 */
import { SopsError } from '../../errors.js';
import { entry, map, type MapNode, type Node } from '../../tree/types.js';
import { directYaml } from './direct.js';
import type { EmitOptions, LoadedFile } from '../types.js';
import { documentEvents, toGNode } from './encode.js';
import { clampIndent, emitEvents, type EmitEvent } from './emitter.js';

/** Default indentation of sops's YAML store. */
export const DEFAULT_INDENT = 4;

function indentOf(opts: EmitOptions | undefined): number {
  const indent = opts?.indent;
  if (indent === undefined || indent === 0) return DEFAULT_INDENT;
  if (!Number.isInteger(indent) || indent < 0) {
    throw new SopsError(`invalid YAML indentation ${indent}`, undefined, { hint: 'use a positive number of spaces (or 0 for the default of 4)' });
  }
  return indent;
}

/** The YAML text of a whole file (sops `EmitEncryptedFile` / `EmitPlainFile`). */
export function emitYaml(file: LoadedFile, opts?: EmitOptions): string {
  const indent = indentOf(opts);
  const roots = file.documents.map((doc) => (file.metadata ? map([...doc.items, entry('sops', file.metadata)]) : doc));
  return directYaml(roots, clampIndent(indent)) ?? emitYamlEvents(roots, indent);
}

/**
 * {@link emitYaml} of document roots through go-yaml nodes and events, for any tree.
 * Exported for the tests that compare it with the direct writer.
 */
export function emitYamlEvents(roots: MapNode[], indent: number): string {
  const events: EmitEvent[] = [];
  for (const root of roots) documentEvents(toGNode(root), events);
  return events.length ? emitEvents(events, indent) : '';
}

/** One value as `yaml.Marshal` writes it (sops `EmitValue`; always go-yaml's default indent 4). */
export function emitYamlValue(value: Node): string {
  return emitEvents(documentEvents(toGNode(value)), DEFAULT_INDENT);
}
