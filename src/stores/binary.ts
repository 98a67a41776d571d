/**
 * The binary store (sops `BinaryStore` in `stores/json/store.go`): a plain file is its raw
 * bytes under the single key `data`; the encrypted file is a JSON envelope
 * `{"data": "ENC[…]", "sops": {…}}` written by the JSON store.
 */
import { ExitCode, SopsError } from '../errors.js';
import { bytes, entry, map, str } from '../tree/types.js';
import { jsonStore, singleDocument } from './json.js';
import type { EmitOptions, LoadedFile, Store } from './types.js';
import type { Node } from '../tree/types.js';

const utf8Fatal = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const utf8 = new TextEncoder();

/** The binary store. */
export const binaryStore: Store = {
  name: 'binary',

  /** `plain`: the bytes as `data` (a string when valid UTF-8, else bytes); `encrypted`: JSON envelope. */
  load(data: Uint8Array, mode: 'plain' | 'encrypted' = 'encrypted'): LoadedFile {
    if (mode === 'encrypted') return jsonStore.load(data);
    let value: Node;
    try {
      value = str(utf8Fatal.decode(data));
    } catch {
      value = bytes(new Uint8Array(data));
    }
    return { documents: [map([entry('data', value)])] };
  },

  /** With metadata: the JSON envelope (`opts.indent`, default tab). Without: the raw `data` bytes. */
  emit(file: LoadedFile, opts?: EmitOptions): Uint8Array {
    if (file.metadata) return jsonStore.emit(file, opts);
    const doc = singleDocument(file, 'binary');
    for (const it of doc.items) {
      if (it.kind !== 'entry' || it.key !== 'data') continue;
      if (it.value.kind === 'str') return utf8.encode(it.value.value);
      if (it.value.kind === 'bytes') return new Uint8Array(it.value.value);
      throw new SopsError("error emitting binary store: 'data' key in tree does not have a string value", ExitCode.ErrorDumpingTree);
    }
    throw new SopsError('error emitting binary store: no binary data found in tree', ExitCode.ErrorDumpingTree, {
      hint: 'a binary file is decrypted from its "data" key; use --output-type to pick a structured format',
    });
  },

  emitValue(): Uint8Array {
    throw new SopsError('Binary files are not structured and extracting a single value is not possible', ExitCode.ErrorDumpingTree, {
      hint: 'use --input-type/--output-type json or yaml for structured data',
    });
  },
};
