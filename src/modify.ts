/**
 * Changing an encrypted file without rotating its data key: `set`, `unset`, the write-back of
 * `edit`, and `encrypt --reuse`. Every path keeps the exact ciphertext of unchanged values,
 * and a change that changes nothing leaves the bytes as they were.
 */
import { decryptTree, loadPlain, type DecryptOptions } from './api.js';
import { ExitCode, SopsError } from './errors.js';
import { isSingleValueStore, rewriteFile } from './engine.js';
import { makeKeyContext } from './io/context.js';
import { storeFor, type FormatName } from './stores/index.js';
import { jsonStore } from './stores/json.js';
import { parseTreePath } from './tree/path.js';
import { setValue, unsetValue } from './tree/mutate.js';
import { clone, type MapNode, type Node } from './tree/types.js';

type Input = string | Uint8Array;
const toBytes = (i: Input): Uint8Array => (typeof i === 'string' ? new TextEncoder().encode(i) : i);

export interface ModifyOptions extends DecryptOptions {
  /** Clock for `lastmodified` (tests). */
  now?: Date;
}

export interface ModifyResult {
  /** The encrypted file to write (the input bytes themselves when nothing changed). */
  output: Uint8Array;
  /** Whether the output differs from the input (a format change alone counts). */
  changed: boolean;
  /** Whether any value, key or comment changed. */
  valuesChanged: boolean;
}

/** Parses a JSON value (`"text"`, `5`, `{"a": 1}`, ...) into a tree node, keeping order and int/float. */
export function parseJsonValue(text: string | Uint8Array): Node {
  const body = typeof text === 'string' ? text : Buffer.from(text).toString('utf8');
  let doc: MapNode;
  try {
    doc = jsonStore.load(new TextEncoder().encode(`{"v": ${body}\n}`), 'plain').documents[0]!;
  } catch {
    throw new SopsError('the value is not valid JSON (strings need quotes: \'"text"\')', ExitCode.InvalidSetFormat);
  }
  const entries = doc.items.filter((i) => i.kind === 'entry');
  if (entries.length !== 1 || entries[0]!.kind !== 'entry') throw new SopsError('the value must be a single JSON value', ExitCode.InvalidSetFormat);
  return entries[0]!.value;
}

/** Applies `change` to the decrypted documents and re-encrypts with the file's own key. */
export async function modifyEncrypted(input: Input, change: (docs: MapNode[]) => void, opts: ModifyOptions & { outputType?: FormatName } = {}): Promise<ModifyResult> {
  const bytes = toBytes(input);
  const ctx = opts.keyContext ?? makeKeyContext(opts.now ? { now: () => opts.now! } : {});
  const dec = await decryptTree(bytes, { ...opts, keyContext: ctx });
  const docs = dec.documents.map((d) => clone(d));
  change(docs);
  const outStore = storeFor(opts.outputType ?? dec.format);
  const res = rewriteFile(dec, dec.source, docs, { ctx, singleValueStore: isSingleValueStore(outStore), ...(opts.now ? { now: opts.now } : {}) });
  const formatChanged = outStore.name !== dec.format;
  if (!res.changed && !formatChanged) return { output: bytes, changed: false, valuesChanged: false };
  const output = outStore.emit({ documents: res.documents, metadata: res.metadataTree }, opts.indent !== undefined ? { indent: opts.indent } : {});
  return { output, changed: true, valuesChanged: res.changed };
}

/** A `set`/`unset` path: a parse failure is exit 7 there, as in sops (91 is `--extract`'s). */
function parseSetPath(treePath: string) {
  try {
    return parseTreePath(treePath);
  } catch (e) {
    if (e instanceof SopsError && e.exitCode === ExitCode.InvalidTreePathFormat) throw new SopsError(e.message, ExitCode.InvalidSetFormat, e.hint ? { hint: e.hint } : {});
    throw e;
  }
}

/** `sops set FILE PATH VALUE`: the value is JSON text or an already-built node. */
export async function setEncrypted(input: Input, treePath: string, value: string | Node, opts: ModifyOptions & { outputType?: FormatName } = {}): Promise<ModifyResult> {
  const steps = parseSetPath(treePath);
  const node = typeof value === 'string' ? parseJsonValue(value) : value;
  return modifyEncrypted(input, (docs) => setValue(docs[0]!, steps, node), opts);
}

/**
 * `sops unset FILE PATH`. A path that does not exist is an error (exit 1) unless `idempotent`,
 * in which case nothing is changed.
 */
export async function unsetEncrypted(input: Input, treePath: string, opts: ModifyOptions & { outputType?: FormatName; idempotent?: boolean } = {}): Promise<ModifyResult> {
  const steps = parseSetPath(treePath);
  return modifyEncrypted(
    input,
    (docs) => {
      if (!unsetValue(docs[0]!, steps) && !opts.idempotent) {
        throw new SopsError(`${treePath} not found`, ExitCode.Generic, { hint: 'use --idempotent to ignore paths that do not exist' });
      }
    },
    opts,
  );
}

/**
 * Encrypts a new plaintext as a new version of an existing encrypted file: same data key and
 * recipients, and the exact ciphertext of every value whose plaintext is unchanged.
 */
export async function reencryptPlaintext(previous: Input, plaintext: Input, opts: ModifyOptions & { inputType?: FormatName; outputType?: FormatName; previousType?: FormatName } = {}): Promise<ModifyResult> {
  const inFormat = opts.inputType ?? 'yaml';
  const plain = loadPlain(toBytes(plaintext), inFormat, opts.filename ?? 'the input');
  return modifyEncrypted(
    previous,
    (docs) => {
      docs.splice(0, docs.length, ...plain.documents);
    },
    { ...opts, inputType: opts.previousType ?? inFormat, outputType: opts.outputType ?? inFormat },
  );
}
