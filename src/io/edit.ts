/**
 * `tsops edit FILE`: decrypt into a private temp file, run the editor, and encrypt back what
 * changed. Unchanged content exits 200 and leaves the file alone; invalid content is shown and
 * the editor reopened with the user's text (or the edit aborted on request); the plaintext temp
 * file is removed on every way out.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { decryptTree, loadPlain } from '../api.js';
import { ExitCode, SopsError, isSopsError } from '../errors.js';
import { encryptFile, isSingleValueStore, rewriteFile } from '../engine.js';
import type { KeyContext } from '../keys/types.js';
import { resolveSettings, type ConfigSettings, type DirectSettings } from '../settings.js';
import { readMetadata, writeMetadata } from '../stores/metadata.js';
import { storeFor, type FormatName, type Store } from '../stores/index.js';
import { bool, comment, entry, float, map, seq, str, type MapNode } from '../tree/types.js';
import { makeKeyContext } from './context.js';
import { editorCommand, runEditor } from './editor.js';
import { endUpdate, lockForUpdate, readInputFile, updateTarget, writeFileAtomic } from './files.js';
import { checkUnchanged } from './lock.js';
import { makePrivateDir } from './private-temp.js';

export interface EditOptions {
  path: string;
  format: FormatName;
  ignoreMac?: boolean;
  decryptionOrder?: string;
  /** Show (and take back) the `sops` metadata in the editor. */
  showMasterKeys?: boolean;
  indent?: number;
  /** For a new file: keys and rules from flags / `.sops.yaml`. */
  direct?: DirectSettings;
  creationRule?: ConfigSettings;
  keyContext?: KeyContext;
  env?: Record<string, string | undefined>;
  /** Asked after invalid content: true = reopen the editor, false = abort. */
  askRetry: (problem: string) => Promise<boolean>;
  log?: (msg: string) => void;
}

export type EditOutcome = 'written' | 'created' | 'values-unchanged';

/** The example document sops starts a new file with, per format. */
export function exampleDocument(format: FormatName): MapNode {
  const hello = entry('hello', str('Welcome to SOPS! Edit this file as you please!'));
  const key = entry('example_key', str('example_value'));
  if (format === 'dotenv') return map([comment(' This is an example file.'), hello, key, entry('example_multiline', str('foo\nbar\nbaz'))]);
  if (format === 'ini') return map([entry('Welcome!', map([comment(' This is an example file.'), hello, key]))]);
  if (format === 'binary') return map([entry('data', str('Welcome to SOPS! Edit this file as you please!'))]);
  return map([
    hello,
    key,
    comment(' Example comment'),
    entry('example_array', seq([str('example_value1'), str('example_value2')])),
    entry('example_number', float(1234.56789)),
    entry('example_booleans', seq([bool(true), bool(false)])),
  ]);
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Parses what the user saved; returns documents (and metadata with -s) or a problem text. */
function parseEdited(store: Store, text: Uint8Array, showMasterKeys: boolean, path: string): { docs: MapNode[]; metadata?: MapNode } | string {
  try {
    const loaded = store.load(text, showMasterKeys ? 'encrypted' : 'plain');
    if (showMasterKeys) {
      if (!loaded.metadata) return 'the sops metadata block is missing (it was shown because of --show-master-keys; keep it)';
      readMetadata(loaded.metadata);
      return { docs: loaded.documents, metadata: loaded.metadata };
    }
    if (loaded.metadata) return 'the file contains a top-level `sops` key, which is reserved for the metadata; rename or remove it';
    return { docs: loadPlain(text, store.name, path).documents };
  } catch (e) {
    if (isSopsError(e)) return e.message;
    throw e;
  }
}

/** Runs one edit session. Throws SopsError 200 when the editor saved nothing new. */
export async function editFile(opts: EditOptions): Promise<EditOutcome> {
  const env = opts.env ?? (process.env as Record<string, string | undefined>);
  const ctx = opts.keyContext ?? makeKeyContext({ env });
  const store = storeFor(opts.format);
  const isNew = !existsSync(opts.path);
  if (isNew && !existsSync(dirname(resolve(opts.path)))) {
    throw new SopsError(`${opts.path}: the directory ${dirname(opts.path)} does not exist`, ExitCode.NoFileSpecified, { hint: 'create the directory first; nothing was opened in the editor' });
  }
  const editor = editorCommand(env);
  // Held for the whole session: a concurrent set/rotate waits (bounded) and then fails clearly.
  lockForUpdate(opts.path, 'edit');
  try {
    return await editLocked(opts, ctx, store, isNew, editor, env);
  } finally {
    endUpdate(opts.path);
  }
}

/**
 * Writes the edited version unless a program that ignores the lock changed the file meanwhile;
 * then the user's version is kept, encrypted, next to it instead of being lost.
 */
function writeBack(path: string, out: Uint8Array): void {
  try {
    checkUnchanged(updateTarget(path));
  } catch {
    const saved = `${path}.tsops-edit-${new Date().toISOString().replace(/[-:.]/g, '').slice(0, 15)}`;
    writeFileAtomic(saved, out);
    throw new SopsError(`${path}: the file was changed by another program while you were editing it; your version was not written over it`, ExitCode.CouldNotWriteOutputFile, {
      hint: `your version is saved, encrypted, in ${saved}: compare the two (tsops decrypt), merge, then remove it`,
    });
  }
  writeFileAtomic(path, out);
}

async function editLocked(opts: EditOptions, ctx: KeyContext, store: Store, isNew: boolean, editor: string[], env: Record<string, string | undefined>): Promise<EditOutcome> {
  let plaintext: Uint8Array;
  let dec: Awaited<ReturnType<typeof decryptTree>> | undefined;
  if (isNew) {
    plaintext = store.emit({ documents: [exampleDocument(opts.format)] }, opts.indent !== undefined ? { indent: opts.indent } : {});
  } else {
    dec = await decryptTree(readInputFile(opts.path), {
      inputType: opts.format,
      filename: opts.path,
      ignoreMac: !!opts.ignoreMac,
      ...(opts.decryptionOrder ? { decryptionOrder: opts.decryptionOrder } : {}),
      keyContext: ctx,
    });
    const eo = opts.indent !== undefined ? { indent: opts.indent } : {};
    plaintext = opts.showMasterKeys
      ? store.emit({ documents: dec.documents, metadata: writeMetadata(dec.metadata, { singleValueStore: isSingleValueStore(store) }) }, eo)
      : store.emit({ documents: dec.documents }, eo);
  }
  // Settings for a new file are resolved before the editor opens, so a missing key fails fast.
  const settings = isNew ? resolveSettings(opts.direct ?? {}, opts.creationRule, ctx) : undefined;

  const tmp = makePrivateDir('tsops-edit-');
  try {
    const file = join(tmp.dir, basename(opts.path));
    writeFileSync(file, plaintext, { mode: 0o600 });
    const before = sha256(plaintext);
    let parsed: { docs: MapNode[]; metadata?: MapNode };
    for (;;) {
      await runEditor(editor, file, env);
      const text = new Uint8Array(readFileSync(file));
      if (sha256(text) === before) throw new SopsError('File has not changed, exiting.', ExitCode.FileHasNotBeenModified);
      const p = parseEdited(store, text, !!opts.showMasterKeys, opts.path);
      if (typeof p !== 'string') {
        parsed = p;
        break;
      }
      if (!(await opts.askRetry(p))) {
        throw new SopsError(`edit aborted: ${p}`, ExitCode.CouldNotReadInputFile, { hint: `${opts.path} was not changed` });
      }
    }

    const single = isSingleValueStore(store);
    if (isNew) {
      const res = await encryptFile(parsed.docs, settings!, { ctx, singleValueStore: single });
      writeBack(opts.path, store.emit({ documents: res.documents, metadata: res.metadataTree }, opts.indent !== undefined ? { indent: opts.indent } : {}));
      return 'created';
    }
    const d = dec!;
    if (parsed.metadata) d.metadata = { ...readMetadata(parsed.metadata), mac: d.metadata.mac ?? '', lastModified: d.metadata.lastModified };
    if (d.metadata.keyGroups.every((g) => g.length === 0)) throw new SopsError('the file has no master keys left; nothing was written', ExitCode.Generic);
    const res = rewriteFile(d, d.source, parsed.docs, { ctx, singleValueStore: single });
    if (!res.changed && !parsed.metadata) {
      opts.log?.('the values did not change; the file was left untouched');
      return 'values-unchanged';
    }
    writeBack(opts.path, store.emit({ documents: res.documents, metadata: res.metadataTree }, opts.indent !== undefined ? { indent: opts.indent } : {}));
    return 'written';
  } finally {
    tmp.remove();
  }
}
