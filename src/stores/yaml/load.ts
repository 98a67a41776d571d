/**
 * Reading YAML as sops 3.13 does with go-yaml v3: every document a mapping, typed scalars,
 * aliases expanded, merge keys kept literally, comments as comment items, the `sops`
 * metadata taken from the first document and removed from all of them.
 */
import { isAscii } from 'node:buffer';
import type { CST, LineCounter } from 'yaml';
import { yamlLib } from './lib.js';
import { ParseError } from '../../errors.js';
import type { MapNode } from '../../tree/types.js';
import type { LoadedFile } from '../types.js';
import { attachComments } from './attach.js';
import { Builder, type LNode } from './build.js';
import { Converter } from './convert.js';
import { fastLoadYaml, inFastCharset } from './fast.js';
import { guardDepth, MAX_NESTING } from '../depth.js';

/** The metadata key sops uses in YAML and JSON files. */
export const METADATA_KEY = 'sops';

function decodeText(data: Uint8Array): string {
  // ASCII (most sops files): every byte is its character, nothing to decode or validate.
  if (isAscii(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  try {
    // A leading byte order mark is dropped, as go-yaml does.
    return new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch (cause) {
    throw new ParseError('the YAML input is not valid UTF-8', { cause });
  }
}

/** Control characters (other than tab and line breaks) fail, as in go-yaml. */
function checkCharacters(text: string): void {
  const bad = /[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/u.exec(text);
  if (bad) {
    const line = text.slice(0, bad.index).split('\n').length;
    throw new ParseError(`line ${line}: control characters are not allowed (U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`, {
      hint: 'YAML text may not contain NUL or other control characters; write them as escapes in a double-quoted string ("\\0", "\\x01")',
    });
  }
}

/** Syntax errors, as the `yaml` package reports them. */
function checkSyntax(tokens: CST.Token[], lineCounter: LineCounter): void {
  const { Composer } = yamlLib();
  const composer = new Composer({ schema: 'failsafe', uniqueKeys: false, merge: false, prettyErrors: false });
  for (const d of composer.compose(tokens, true)) {
    const e = d.errors[0];
    if (!e) continue;
    const pos = lineCounter.linePos(e.pos[0]);
    const msg = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    // the `yaml` package reports its own stack overflow as a syntax error
    if (msg.toLowerCase().includes('call stack')) throw new RangeError('Maximum call stack size exceeded');
    throw new ParseError(`line ${pos.line}, column ${pos.col}: ${msg}`, { hint: 'fix the YAML syntax' });
  }
}

/**
 * A plain `<<` key. go-yaml also treats `!!merge <<` as one, but that is how go-yaml (and so
 * sops) writes a literal `<<` key, so it is read back as a plain key instead of failing.
 */
const isMergeKey = (k: LNode): boolean => k.kind === 'scalar' && k.value === '<<' && k.style === 'plain' && (k.tag === '' || k.tag === '!');

/**
 * What go-yaml checks when sops decodes the first document into a Go map: unique keys in
 * every mapping (compared by their text), and merge keys whose value is a mapping.
 */
function checkFirstDocument(n: LNode | undefined, seen = new Set<LNode>()): void {
  if (!n || seen.has(n)) return;
  seen.add(n);
  if (n.kind === 'seq') {
    for (const c of n.children) checkFirstDocument(c, seen);
    return;
  }
  if (n.kind !== 'map') return;
  const keys = new Map<string, LNode>();
  for (let i = 0; i + 1 < n.children.length; i += 2) {
    const k = n.children[i]!;
    const id = `${k.kind}\u0000${k.value}`;
    const prev = keys.get(id);
    if (prev) {
      throw new ParseError(`line ${k.line}: mapping key ${JSON.stringify(k.value)} already defined at line ${prev.line}`, {
        hint: 'remove or rename one of the duplicate keys',
      });
    }
    keys.set(id, k);
  }
  for (let i = 0; i + 1 < n.children.length; i += 2) {
    const k = n.children[i]!;
    if (isMergeKey(k)) checkMergeValue(n.children[i + 1]!);
    checkFirstDocument(k, seen);
    checkFirstDocument(n.children[i + 1], seen);
  }
}

function checkMergeValue(v: LNode): void {
  const isMap = (x: LNode): boolean => x.kind === 'map' || (x.kind === 'alias' && x.target?.kind === 'map');
  if (isMap(v) || (v.kind === 'seq' && v.children.every(isMap))) return;
  throw new ParseError(`line ${v.line}: map merge requires map or sequence of maps as the value`, {
    hint: 'quote the "<<" key if it is meant as a plain key',
  });
}

/** Parses a YAML file into documents and metadata. */
export function loadYaml(data: Uint8Array): LoadedFile {
  const raw = decodeText(data);
  // The fast reader's characters are all allowed: one scan of the text for both checks.
  const fastChars = inFastCharset(raw);
  if (!fastChars) checkCharacters(raw);
  return guardDepth('could not parse the YAML input', () => {
    // The fast reader does not count nesting levels; text that may reach the limit goes to the full reader.
    const fast = !fastChars || mayBeTooDeep(raw) ? undefined : fastLoadYaml(raw, true);
    return fast ?? loadYamlFull(raw);
  });
}

/**
 * Whether a block collection may start at column {@link MAX_NESTING} - 1 or later, the only
 * way to open more than {@link MAX_NESTING} indentation levels (checked exactly by the full
 * reader). Looks at the indentation and leading `- `/`? ` of each line.
 */
const LONG_LEAD_RE = new RegExp(`^[ \\t?:-]{${MAX_NESTING - 1}}`, 'm');

function mayBeTooDeep(text: string): boolean {
  if (text.length < MAX_NESTING) return false;
  // Such a lead is a run of MAX_NESTING - 1 of these characters at a line start: a regex test
  // (native, a few ms less than the loop below for a 1 MB file) rules most files out. A single
  // character class is safe to repeat this often; see the note below.
  if (!LONG_LEAD_RE.test(text)) return false;
  // A scan of each line's lead, not a regex: `(...){9999,}` makes V8 compile 9,999 copies of
  // the group, which is slow and can exhaust the regex compiler's memory.
  const need = MAX_NESTING - 1;
  for (let start = 0; start < text.length; ) {
    let i = start;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9) i++;
      else if ((c === 45 || c === 63 || c === 58) && (text.charCodeAt(i + 1) === 32 || text.charCodeAt(i + 1) === 9)) i++;
      else break;
    }
    if (i - start >= need) return true;
    // the next line (after any line break JS's `^` with the m flag knows)
    let j = i;
    for (; j < text.length; j++) {
      const c = text.charCodeAt(j);
      if (c === 10 || c === 13 || c === 0x2028 || c === 0x2029) break;
    }
    start = j + 1;
  }
  return false;
}

/**
 * {@link loadYaml} without the fast path: the full go-yaml emulation on the `yaml` package's
 * parser (decoded text in). Exported for the tests that compare both.
 */
export function loadYamlFull(decoded: string): LoadedFile {
  // A lone CR is a line break for go-yaml; CRLF stays as it is (its comment handling differs).
  const text = decoded.replace(/\r(?!\n)/g, '\n');
  const { LineCounter, Parser } = yamlLib();
  const lineCounter = new LineCounter();
  const tokens = [...new Parser(lineCounter.addNewLine).parse(text)];
  checkSyntax(tokens, lineCounter);
  const builder = new Builder(text);
  builder.build(tokens);
  attachComments(builder.model, builder.events, builder.docs);
  checkFirstDocument(builder.docs[0]?.root);
  const conv = new Converter();
  const documents = builder.docs.map((d, i) => conv.document(d, i));
  let metadata: MapNode | undefined;
  documents.forEach((doc, di) => {
    const kept: MapNode['items'] = [];
    for (const it of doc.items) {
      if (it.kind !== 'entry' || it.key !== METADATA_KEY) {
        kept.push(it);
        continue;
      }
      if (di !== 0) continue;
      if (metadata) throw new ParseError(`found a duplicate "${METADATA_KEY}" entry in the first document`);
      if (it.value.kind !== 'map') throw new ParseError(`the "${METADATA_KEY}" entry is not a mapping`, { hint: 'the file is not a sops file, or its metadata is damaged' });
      metadata = it.value;
    }
    doc.items = kept;
  });
  return metadata ? { documents, metadata } : { documents };
}
