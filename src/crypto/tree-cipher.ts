/**
 * Encrypting and decrypting whole documents, and the MAC over their values
 * (sops-format.md §4, §5). One walk does both the values and the digest.
 *
 * The walk follows sops's `walkBranch`/`walkSlice`: depth first in document order, a comment
 * stack level per mapping or list, comments pushed on their level, cleared after each
 * non-comment item.
 */
import { createHash } from 'node:crypto';
import { DecryptValueError, SopsError } from '../errors.js';
import type { CommentNode, Leaf, MapNode, Node, SeqNode, TypeTag } from '../tree/types.js';
import { pathAd, type Selector } from '../tree/select.js';
import { isEncryptedValue, type ValueCipher } from './cipher.js';
import { canonicalTime, decodeUtf8Strict, leafBytes, parseGoBool, parseGoFloat, parseGoInt, typeTagOf } from './scalar.js';


export interface TreeCryptOptions {
  selector: Selector;
  macOnlyEncrypted: boolean;
  cipher: ValueCipher;
}

interface WalkState {
  hash: ReturnType<typeof createHash>;
  opts: TreeCryptOptions;
  encrypt: boolean;
  warnings: string[];
  /** Decryption in one batch (see {@link decryptBatched}): what the walk leaves for after it. */
  batch?: DecryptBatch;
  /** Encryption in one batch: the values to encrypt after the walk and their output leaves. */
  sealBatch?: { values: Array<{ plain: Uint8Array; type: TypeTag; ad: string }>; slots: Leaf[] };
}

/** The encrypted leaves a walk found, in order, and the MAC inputs in order (numbers: those leaves). */
interface DecryptBatch {
  texts: string[];
  ads: string[];
  /** The output leaf of each, filled in after the batch. */
  slots: Leaf[];
  mac: Array<Uint8Array | number>;
}

/** The MAC digest state for a walk: upper-case hex SHA-512 when done. */
function newHash(macOnlyEncrypted: boolean) {
  const h = createHash('sha512');
  // SHA-256("sops") goes first when `mac_only_encrypted` is set
  if (macOnlyEncrypted) h.update(createHash('sha256').update('sops').digest());
  return h;
}

export interface WalkResult {
  documents: MapNode[];
  /** Upper-case hex SHA-512 over the values, as sops computes it. */
  mac: string;
  /** Non-fatal findings, e.g. comments that were not encrypted although in an encrypted position. */
  warnings: string[];
}

/** Encrypts every selected leaf and comment; returns new documents and the MAC of the plaintext. */
export function encryptDocuments(docs: readonly MapNode[], opts: TreeCryptOptions): WalkResult {
  // The values are encrypted in one batch after the walk ({@link ValueCipher.encryptMany});
  // comments and the MAC, as always, during it. (An injected IV sequence must be drawn in
  // document order: then value by value.)
  if (!opts.cipher.batchable) return run(docs, opts, true);
  const sealBatch = { values: [] as Array<{ plain: Uint8Array; type: TypeTag; ad: string }>, slots: [] as Leaf[] };
  const st: WalkState = { hash: newHash(opts.macOnlyEncrypted), opts, encrypt: true, warnings: [], sealBatch };
  const documents = docs.map((d) => walkMap(st, d, [], []));
  const texts = opts.cipher.encryptMany(sealBatch.values);
  texts.forEach((text, i) => {
    (sealBatch.slots[i] as { value: string }).value = text;
  });
  return { documents, mac: st.hash.digest('hex').toUpperCase(), warnings: st.warnings };
}

/**
 * Decrypts every selected leaf and comment; returns new documents and the MAC of the
 * plaintext. Throws {@link DecryptValueError} (exit 25) naming the key path of a value that
 * cannot be decrypted.
 */
export function decryptDocuments(docs: readonly MapNode[], opts: TreeCryptOptions): WalkResult {
  return decryptBatched(docs, opts) ?? run(docs, opts, false);
}

/**
 * Decryption with every value decrypted in one batch ({@link ValueCipher.decryptMany}): the
 * walk collects the encrypted leaves and the MAC inputs, then the values are decrypted, filled
 * in and hashed in document order. The result is that of {@link run}. When anything fails
 * (a value that does not decrypt or parse, a plain value where an encrypted one belongs, ...),
 * this gives up and {@link run} redoes the walk value by value, reporting the first problem
 * exactly as it always does.
 */
function decryptBatched(docs: readonly MapNode[], opts: TreeCryptOptions): WalkResult | undefined {
  const batch: DecryptBatch = { texts: [], ads: [], slots: [], mac: [] };
  const st: WalkState = { hash: newHash(opts.macOnlyEncrypted), opts, encrypt: false, warnings: [], batch };
  let documents: MapNode[];
  try {
    documents = docs.map((d) => walkMap(st, d, [], []));
  } catch {
    return undefined;
  }
  const { texts, ads, slots } = batch;
  const results = opts.cipher.decryptMany(texts, ads);
  const canonical: Uint8Array[] = new Array(texts.length);
  for (let i = 0; i < texts.length; i++) {
    const r = results[i];
    if (!r) return undefined;
    const slot = slots[i]!;
    if (r.type === 'str' && texts[i] !== '') {
      // the common case without an intermediate leaf: a string, or bytes if not UTF-8
      const text = decodeUtf8Strict(r.plain);
      if (text === undefined) Object.assign(slot, { kind: 'bytes', value: r.plain });
      else (slot as { value: string }).value = text;
      canonical[i] = r.plain;
      continue;
    }
    let out: Leaf | CommentNode;
    try {
      out = interpret(r.plain, r.type, texts[i] === '');
    } catch {
      return undefined;
    }
    if (out.kind === 'comment') return undefined;
    Object.assign(slot, out);
    // a string's canonical bytes are the (valid UTF-8) plaintext itself
    canonical[i] = out.kind === 'str' || out.kind === 'bytes' ? r.plain : leafBytes(out)!;
  }
  for (let i = 0; i < texts.length; i++) opts.cipher.remember(texts[i]!, results[i]!.type, ads[i]!, canonical[i]!);
  // many small updates cost more than the hashing: feed the digest in large chunks
  const chunk = Buffer.allocUnsafe(64 * 1024);
  let used = 0;
  const macs = batch.mac;
  for (let k = 0; k < macs.length; k++) {
    const m = macs[k]!;
    const b = typeof m === 'number' ? canonical[m]! : m;
    if (used + b.length > chunk.length) {
      st.hash.update(chunk.subarray(0, used));
      used = 0;
    }
    if (b.length > chunk.length) st.hash.update(b);
    else {
      chunk.set(b, used);
      used += b.length;
    }
  }
  st.hash.update(chunk.subarray(0, used));
  return { documents, mac: st.hash.digest('hex').toUpperCase(), warnings: st.warnings };
}

function run(docs: readonly MapNode[], opts: TreeCryptOptions, encrypt: boolean): WalkResult {
  const st: WalkState = { hash: newHash(opts.macOnlyEncrypted), opts, encrypt, warnings: [] };
  const documents = docs.map((d) => walkMap(st, d, [], []));
  return { documents, mac: st.hash.digest('hex').toUpperCase(), warnings: st.warnings };
}

// `path` and `stack` are shared by the whole walk: each level pushes its part and pops it when
// done (copying them per level made a deeply nested document cost O(depth^2) memory). Anything
// that keeps one of them (a message) copies it.

function walkMap(st: WalkState, m: MapNode, path: string[], stack: string[][]): MapNode {
  const level: string[] = [];
  stack.push(level);
  const items: MapNode['items'] = [];
  // indexed loops: a cold run executes the walk unoptimized, where for-of allocates per step
  for (let i = 0; i < m.items.length; i++) {
    const it = m.items[i]!;
    if (it.kind === 'comment') {
      level.push(it.text);
      items.push(walkComment(st, it, path, stack));
      continue;
    }
    path.push(it.key);
    const v = walkValue(st, it.value, path, stack);
    path.pop();
    items.push({ kind: 'entry', key: it.key, value: v.kind === 'comment' ? { kind: 'str', value: v.text } : v });
    level.length = 0;
  }
  stack.pop();
  return { kind: 'map', items };
}

function walkSeq(st: WalkState, s: SeqNode, path: string[], stack: string[][]): SeqNode {
  const level: string[] = [];
  stack.push(level);
  const inner = stack;
  const items: SeqNode['items'] = [];
  for (let i = 0; i < s.items.length; i++) {
    const it = s.items[i]!;
    if (it.kind === 'comment') {
      level.push(it.text);
      // Comments inside sequences stay in clear text: sops stores an encrypted one as a list
      // element, which sops 3.13.2 cannot decrypt (sops-format.md §5.2, pitfall 23).
      // On decrypt, a clear one is expected (tsops writes them so) and kept without a warning.
      items.push(st.encrypt || !isEncryptedValue(it.text) ? it : walkComment(st, it, path, inner));
      continue;
    }
    items.push(walkValue(st, it, path, inner));
    level.length = 0;
  }
  stack.pop();
  return { kind: 'seq', items };
}

function walkValue(st: WalkState, n: Node, path: string[], stack: string[][]): Node | CommentNode {
  if (n.kind === 'map') return walkMap(st, n, path, stack);
  if (n.kind === 'seq') return walkSeq(st, n, path, stack);
  return st.encrypt ? encryptLeaf(st, n, path, stack) : decryptLeaf(st, n, path, stack);
}

function walkComment(st: WalkState, c: CommentNode, path: string[], stack: string[][]): CommentNode {
  if (!st.opts.selector(path, stack, true)) return c;
  const ad = pathAd(path);
  if (st.encrypt) {
    const text = st.opts.cipher.encrypt(new TextEncoder().encode(c.text), 'comment', ad);
    return c.inline ? { kind: 'comment', text, inline: true } : { kind: 'comment', text };
  }
  if (!isEncryptedValue(c.text)) {
    if (c.text !== '') st.warnings.push(`a comment under ${describePath(path)} is not encrypted; it was kept as it is`);
    return c;
  }
  // A YAML comment at the end of a nested block can be read back one level deeper than the
  // level it was encrypted at (the `sops` key follows it), so the ancestors' ADs are tried too;
  // GCM authentication makes a wrong guess impossible to accept.
  for (let depth = path.length; depth >= 0; depth--) {
    const tryAd = depth === path.length ? ad : pathAd(path.slice(0, depth));
    try {
      const { plain, type } = st.opts.cipher.decrypt(c.text, tryAd);
      if (type !== 'comment') break;
      const text = decodeUtf8Strict(plain) ?? Buffer.from(plain).toString('latin1');
      if (tryAd === ad) st.opts.cipher.remember(c.text, 'comment', ad, plain);
      return c.inline ? { kind: 'comment', text, inline: true } : { kind: 'comment', text };
    } catch {
      /* try the next level up */
    }
  }
  // As sops: a comment that does not decrypt was probably never encrypted. Keep it.
  st.warnings.push(`a comment under ${describePath(path)} could not be decrypted; it was kept as it is`);
  return c;
}

function hashLeaf(st: WalkState, leaf: Leaf, selected: boolean): void {
  if (st.opts.macOnlyEncrypted && !selected) return;
  const b = leafBytes(leaf);
  if (!b) return;
  if (st.batch) st.batch.mac.push(b);
  else st.hash.update(b);
}

function encryptLeaf(st: WalkState, leaf: Leaf, path: string[], stack: string[][]): Node {
  const selected = st.opts.selector(path, stack, false);
  hashLeaf(st, leaf, selected);
  if (!selected || leaf.kind === 'null') return leaf;
  const plain = leafBytes(leaf)!;
  if (st.sealBatch) {
    const slot: Leaf = { kind: 'str', value: '' };
    st.sealBatch.values.push({ plain, type: typeTagOf(leaf), ad: pathAd(path) });
    st.sealBatch.slots.push(slot);
    return slot;
  }
  return { kind: 'str', value: st.opts.cipher.encrypt(plain, typeTagOf(leaf), pathAd(path)) };
}

function decryptLeaf(st: WalkState, leaf: Leaf, path: string[], stack: string[][]): Node | CommentNode {
  const selected = st.opts.selector(path, stack, false);
  if (!selected || leaf.kind === 'null') {
    hashLeaf(st, leaf, selected);
    return leaf;
  }
  if (leaf.kind !== 'str') {
    throw new DecryptValueError(`the value at ${describePath(path)} should be encrypted but is a plain ${leaf.kind}`, {
      hint: 'the file was edited by hand or by a tool that does not encrypt; restore it or re-encrypt the plaintext',
    });
  }
  const ad = pathAd(path);
  if (st.batch) {
    // decrypted after the walk (decryptBatched)
    const slot: Leaf = { kind: 'str', value: leaf.value };
    st.batch.mac.push(st.batch.texts.length);
    st.batch.texts.push(leaf.value);
    st.batch.ads.push(ad);
    st.batch.slots.push(slot);
    return slot;
  }
  let out: Leaf | CommentNode;
  try {
    const { plain, type } = st.opts.cipher.decrypt(leaf.value, ad);
    out = interpret(plain, type, leaf.value === '');
    const canonical = out.kind === 'comment' ? plain : leafBytes(out)!;
    st.opts.cipher.remember(leaf.value, type, ad, canonical);
  } catch (e) {
    if (e instanceof SopsError) {
      throw new DecryptValueError(`could not decrypt the value at ${describePath(path)}: ${e.message}`, {
        hint: 'the file is corrupt or was tampered with; restore it from version control',
      });
    }
    throw e;
  }
  // A decrypted sequence comment never counts in the MAC (fixed upstream after 3.13.2).
  if (out.kind !== 'comment') hashLeaf(st, out, true);
  return out;
}

/** Interprets decrypted bytes by their type tag, as Go's cipher does. */
export function interpret(plain: Uint8Array, type: TypeTag, empty = false): Leaf | CommentNode {
  if (empty) return { kind: 'str', value: '' };
  const text = () => decodeUtf8Strict(plain);
  const bad = () => new DecryptValueError(`the decrypted ${type} value does not parse as ${type}`);
  switch (type) {
    case 'str':
    case 'bytes': {
      const s = text();
      return s === undefined ? { kind: 'bytes', value: plain } : { kind: 'str', value: s };
    }
    case 'int': {
      const v = parseGoInt(text() ?? '');
      if (v === undefined) throw bad();
      return { kind: 'int', value: v };
    }
    case 'float': {
      const v = parseGoFloat(text() ?? '');
      if (v === undefined) throw bad();
      return { kind: 'float', value: v };
    }
    case 'bool': {
      const v = parseGoBool(text() ?? '');
      if (v === undefined) throw bad();
      return { kind: 'bool', value: v };
    }
    case 'time': {
      const v = canonicalTime(text() ?? '');
      if (v === undefined) throw bad();
      return { kind: 'time', value: v };
    }
    case 'comment':
      return { kind: 'comment', text: text() ?? Buffer.from(plain).toString('latin1') };
  }
}

/** `["a"]["b"]` style path for messages (list positions are not part of sops paths). */
export function describePath(path: readonly string[]): string {
  return path.length === 0 ? 'the top level' : path.map((p) => `[${JSON.stringify(p)}]`).join('');
}

