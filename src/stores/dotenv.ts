/**
 * The dotenv store (sops `stores/dotenv/store.go`): sops's own minimal grammar, not a real
 * dotenv parser. Lines are split on `\n`, empty lines are dropped, `#` lines are comments,
 * everything else is split at the first `=` with no trimming, no quotes, no `export` and no
 * interpolation. Backslash-`n` in a value is a newline. Every value is a string.
 *
 * Metadata lives in keys prefixed `sops_` (anywhere in the file), flattened
 * (`sops_pgp__list_0__map_enc`), and is appended after the data when writing.
 */
import { ExitCode, ParseError, SopsError } from '../errors.js';
import { comment, entry, map } from '../tree/types.js';
import type { CommentNode, Entry, Node } from '../tree/types.js';
import {
  byteStringToBytes,
  byteStringToLeaf,
  byteStringToText,
  bytesToByteString,
  flatten,
  leafToByteString,
  textToByteString,
  unflatten,
} from './flatten.js';
import { singleDocument } from './json.js';
import type { EmitOptions, LoadedFile, Store } from './types.js';

/** The key prefix that marks metadata in a dotenv file. */
export const DOTENV_METADATA_PREFIX = 'sops_';

const FLAT_HINT = 'dotenv files are flat (KEY=value lines); use YAML or JSON for nested data';

/** One `KEY=value` line (byte string, newline included) for a leaf. */
function line(key: string, value: Node): string {
  if (value.kind === 'map' || value.kind === 'seq') {
    throw new SopsError(`cannot use complex value in dotenv file; offending key ${key}`, ExitCode.ErrorDumpingTree, { hint: FLAT_HINT });
  }
  let v = leafToByteString(value);
  if (value.kind === 'str' || value.kind === 'bytes') v = v.replaceAll('\n', '\\n');
  return `${textToByteString(key)}=${v}\n`;
}

/** The dotenv store. */
export const dotenvStore: Store = {
  name: 'dotenv',

  load(data: Uint8Array): LoadedFile {
    const items: Array<Entry | CommentNode> = [];
    const meta: Entry[] = [];
    const lines = bytesToByteString(data).split('\n');
    lines.forEach((l, i) => {
      if (l.length === 0) return;
      if (l[0] === '#') {
        items.push(comment(byteStringToText(l.slice(1))));
        return;
      }
      const pos = l.indexOf('=');
      if (pos < 0) {
        throw new ParseError(`invalid dotenv input line ${i + 1}: no "=" found`, {
          hint: 'each line must be KEY=value or a # comment; write newlines inside values as \\n',
        });
      }
      const key = byteStringToText(l.slice(0, pos));
      const value = byteStringToLeaf(l.slice(pos + 1).replaceAll('\\n', '\n'));
      if (key.startsWith(DOTENV_METADATA_PREFIX)) meta.push(entry(key.slice(DOTENV_METADATA_PREFIX.length), value));
      else items.push(entry(key, value));
    });
    const doc = map(items);
    return meta.length ? { documents: [doc], metadata: unflatten(meta) } : { documents: [doc] };
  },

  emit(file: LoadedFile, _opts?: EmitOptions): Uint8Array {
    const doc = singleDocument(file, 'dotenv');
    let out = '';
    for (const it of doc.items) {
      if (it.kind === 'comment') out += `#${textToByteString(it.text)}\n`;
      else out += line(it.key, it.value);
    }
    if (file.metadata) {
      for (const it of doc.items) {
        if (it.kind === 'entry' && it.key.startsWith(DOTENV_METADATA_PREFIX)) {
          throw new SopsError(
            `found key ${JSON.stringify(it.key)} in encrypted data, which starts with the reserved key prefix "${DOTENV_METADATA_PREFIX}" for SOPS metadata`,
            ExitCode.ErrorDumpingTree,
            { hint: 'rename the key: dotenv keys starting with sops_ are read back as metadata' },
          );
        }
      }
      for (const e of flatten(file.metadata, DOTENV_METADATA_PREFIX)) out += line(e.key, e.value);
    }
    return byteStringToBytes(out);
  },

  emitValue(value: Node): Uint8Array {
    if (value.kind === 'str' || value.kind === 'bytes') return byteStringToBytes(leafToByteString(value));
    throw new SopsError(`the dotenv store only supports emitting strings, got ${value.kind}`, ExitCode.ErrorDumpingTree, {
      hint: 'extract a single string value, or use --output-type json/yaml',
    });
  },
};
