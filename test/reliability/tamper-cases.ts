/**
 * The tampering table: what an attacker (or a bad merge) can change in an encrypted file, per
 * format, and what tsops and sops do about it. Used by tamper.test.ts.
 *
 * `code` is tsops's exit code for `decrypt` (the sops CLI code, from the Go source), `ignoreMac`
 * the code with `--ignore-mac`, and `sops` the verdict of the real sops 3.9.2 engine (the
 * oracle, ../shared/tools/sops-oracle): 'rejects' or 'accepts'.
 */
import type { FormatName } from '../../src/stores/types.js';

export interface TamperCase {
  what: string;
  mutate(enc: string, other: string): string;
  code: number;
  ignoreMac: number;
  sops: 'rejects' | 'accepts';
  /** What the error message must say (code != 0). */
  message?: RegExp;
  /** What the output must show (code 0: the change went through undetected). */
  out?: RegExp;
  /** Where sops and tsops differ, or why a change goes undetected. */
  note?: string;
}

export interface FormatTable {
  /** Defaults to the format. */
  name?: string;
  format: FormatName;
  /** Extra `tsops encrypt` flags. */
  encryptArgs?: string[];
  ext: string;
  plain: string;
  cases: TamperCase[];
}

/** Plaintext values that must never appear on stderr. */
export const SECRETS = ['S3cr3t-Value-1', 'Alpha-Item-2', 'Beta-Item-3', 'Nested-Val-4', 'Other-Val-5', 'Binary-Secret-6'];

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const ENC_RE = /ENC\[AES256_GCM,data:([^,]*),iv:([^,]*),tag:([^,]*),type:([a-z]*)\]/g;

/** The n-th `ENC[...]` value of the text (values come before the MAC in every format). */
function encAt(text: string, n: number): RegExpExecArray {
  const re = new RegExp(ENC_RE.source, 'g');
  let m: RegExpExecArray | null = null;
  for (let i = 0; i <= n; i++) {
    m = re.exec(text);
    if (!m) throw new Error(`no ENC value #${n}`);
  }
  return m!;
}

function must(text: string, changed: string, what: string): string {
  if (changed === text) throw new Error(`the mutation "${what}" changed nothing`);
  return changed;
}

/** Replaces the first match (must match). */
export function sub(text: string, from: RegExp | string, to: string | ((m: string, ...groups: string[]) => string)): string {
  return must(text, typeof to === 'string' ? text.replace(from, to) : text.replace(from, to), String(from));
}

/** Changes one base64 character of field `field` of the n-th ENC value (n = -1: the MAC). */
export function flip(text: string, field: 'data' | 'iv' | 'tag', n: number): string {
  const count = [...text.matchAll(ENC_RE)].length;
  const m = encAt(text, n < 0 ? count + n : n);
  const idx = m.index + m[0].indexOf(`${field}:`) + field.length + 2;
  const c = text[idx]!;
  return text.slice(0, idx) + B64[(B64.indexOf(c) + 1) % 64] + text.slice(idx + 1);
}

/** Rewrites the n-th ENC value with `fn`. */
export function editEnc(text: string, n: number, fn: (parts: { data: string; iv: string; tag: string; type: string }) => string): string {
  const m = encAt(text, n);
  const [, data, iv, tag, type] = m as unknown as [string, string, string, string, string];
  return must(text, text.slice(0, m.index) + fn({ data, iv, tag, type }) + text.slice(m.index + m[0].length), 'editEnc');
}

/** The n-th ENC value's text. */
export const encText = (text: string, n: number): string => encAt(text, n)[0];

/** Swaps the i-th and j-th ENC values (i < j). */
export function swapEnc(text: string, i: number, j: number): string {
  const a = encAt(text, i);
  const b = encAt(text, j);
  return text.slice(0, a.index) + b[0] + text.slice(a.index + a[0].length, b.index) + a[0] + text.slice(b.index + b[0].length);
}

/** Swaps the first lines matching `a` and `b` (a before b). */
export function swapLines(text: string, a: RegExp, b: RegExp): string {
  const lines = text.split('\n');
  const i = lines.findIndex((l) => a.test(l));
  const j = lines.findIndex((l) => b.test(l));
  if (i < 0 || j < 0) throw new Error(`swapLines: ${a} or ${b} not found`);
  [lines[i], lines[j]] = [lines[j]!, lines[i]!];
  return lines.join('\n');
}

const MAC = /MAC/;
const VALUE = (path: string) => new RegExp(`could not decrypt the value at ${path.replace(/[[\]]/g, '\\$&')}`);
const META = /invalid sops metadata/;
const lastYear = (t: string) => sub(t, /(lastmodified["\s:=]*"?)(\d{4})/, (_m, pre) => `${pre}2001`);

/** Cases that apply to every structured format, given its key-name spellings. */
function common(keys: { secret: string; unenc: string; unencRenamed: string }): TamperCase[] {
  return [
    { what: 'one data (ciphertext) character of a value', mutate: (e) => flip(e, 'data', 0), code: 25, ignoreMac: 25, sops: 'rejects', message: VALUE(keys.secret) },
    { what: 'one IV character of a value', mutate: (e) => flip(e, 'iv', 0), code: 25, ignoreMac: 25, sops: 'rejects', message: VALUE(keys.secret) },
    { what: 'one tag character of a value', mutate: (e) => flip(e, 'tag', 0), code: 25, ignoreMac: 25, sops: 'rejects', message: VALUE(keys.secret) },
    { what: 'a truncated tag (8 bytes)', mutate: (e) => editEnc(e, 0, (p) => `ENC[AES256_GCM,data:${p.data},iv:${p.iv},tag:${p.tag.slice(0, 12)},type:${p.type}]`), code: 25, ignoreMac: 25, sops: 'rejects', message: VALUE(keys.secret) },
    { what: 'a 12-byte IV instead of 32', mutate: (e) => editEnc(e, 0, (p) => `ENC[AES256_GCM,data:${p.data},iv:${p.iv.slice(0, 16)},tag:${p.tag},type:${p.type}]`), code: 25, ignoreMac: 25, sops: 'rejects', message: VALUE(keys.secret) },
    { what: 'an ENC value cut short (no type)', mutate: (e) => editEnc(e, 0, (p) => `ENC[AES256_GCM,data:${p.data},iv:${p.iv},tag:${p.tag}]`), code: 25, ignoreMac: 25, sops: 'rejects', message: VALUE(keys.secret) },
    { what: 'the type tag of a string changed to int', mutate: (e) => editEnc(e, 0, (p) => `ENC[AES256_GCM,data:${p.data},iv:${p.iv},tag:${p.tag},type:int]`), code: 25, ignoreMac: 25, sops: 'rejects', message: VALUE(keys.secret) },
    { what: 'the type tag of a string changed to bytes (same MAC bytes)', mutate: (e) => editEnc(e, 0, (p) => `ENC[AES256_GCM,data:${p.data},iv:${p.iv},tag:${p.tag},type:bytes]`), code: 0, ignoreMac: 0, sops: 'rejects', out: /S3cr3t-Value-1/,
      note: 'sops (3.9.2 and 3.13) panics on any type:bytes value (hash of unhashable []uint8 in its decryption stash); tsops decrypts it to the same text: the MAC covers the bytes' },
    { what: 'the type tag changed to an unknown type', mutate: (e) => editEnc(e, 0, (p) => `ENC[AES256_GCM,data:${p.data},iv:${p.iv},tag:${p.tag},type:blob]`), code: 25, ignoreMac: 25, sops: 'rejects', message: VALUE(keys.secret) },
    { what: "a value moved under another key (another value's ENC copied over it)", mutate: (e) => editEnc(e, 0, () => encText(e, 1)), code: 25, ignoreMac: 25, sops: 'rejects', message: VALUE(keys.secret) },
    { what: 'a value from another file (other data key)', mutate: (e, o) => editEnc(e, 0, () => encText(o, 0)), code: 25, ignoreMac: 25, sops: 'rejects', message: VALUE(keys.secret) },
    { what: 'a plaintext value the MAC covers (unencrypted key)', mutate: (e) => sub(e, 'visible', 'tampered'), code: 51, ignoreMac: 0, sops: 'rejects', message: MAC },
    { what: 'an unencrypted key renamed (key names are not in the MAC)', mutate: (e) => sub(e, keys.unenc, keys.unencRenamed), code: 0, ignoreMac: 0, sops: 'accepts', out: new RegExp(keys.unencRenamed) },
    { what: 'lastmodified (another year)', mutate: lastYear, code: 51, ignoreMac: 0, sops: 'rejects', message: /MAC could not be decrypted/ },
    { what: 'lastmodified not a timestamp', mutate: (e) => sub(e, /(lastmodified["\s:=]*"?)\d{4}-\d\d-\d\dT[0-9:]+Z/, '$1yesterday'), code: 1, ignoreMac: 1, sops: 'rejects', message: /lastmodified is not an RFC 3339 timestamp/ },
    { what: 'lastmodified, the same instant written +00:00 (Go normalises it: not a change)', mutate: (e) => sub(e, /(lastmodified["\s:=]*"?\d{4}-\d\d-\d\dT[0-9:]+)Z/, '$1+00:00'), code: 0, ignoreMac: 0, sops: 'accepts', out: /S3cr3t-Value-1/ },
    { what: 'the mac: one data character', mutate: (e) => flip(e, 'data', -1), code: 51, ignoreMac: 0, sops: 'rejects', message: /MAC could not be decrypted/ },
    { what: 'the mac: one tag character', mutate: (e) => flip(e, 'tag', -1), code: 51, ignoreMac: 0, sops: 'rejects', message: /MAC could not be decrypted/ },
    { what: "the mac replaced by another file's mac", mutate: (e, o) => sub(e, /ENC\[[^\]]*\](?![\s\S]*ENC\[)/, /ENC\[[^\]]*\](?![\s\S]*ENC\[)/.exec(o)![0]), code: 51, ignoreMac: 0, sops: 'rejects', message: /MAC could not be decrypted/ },
    { what: 'the mac emptied', mutate: (e) => sub(e, /ENC\[[^\]]*\](?![\s\S]*ENC\[)/, ''), code: 51, ignoreMac: 0, sops: 'rejects', message: /has no MAC/ },
    { what: 'the age recipient label changed (only the enc stanza matters)', mutate: (e) => sub(e, /age1[0-9a-z]{58}/, 'age1' + 'q'.repeat(58)), code: 0, ignoreMac: 0, sops: 'accepts', out: /S3cr3t-Value-1/ },
    { what: 'the age enc stanza corrupted', mutate: (e) => sub(e, 'YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0', 'YWdlLWVuY3J5cHRpb24ub3JnL3YyCi0'), code: 128, ignoreMac: 128, sops: 'rejects', message: /could not decrypt the data key/ },
    { what: 'version changed to 3.0.0', mutate: (e) => sub(e, /(version["\s:=]*"?)3\.13\.2/, (_m, pre) => `${pre}3.0.0`), code: 0, ignoreMac: 0, sops: 'accepts', out: /S3cr3t-Value-1/ },
    // sops 3.13's CLI refuses it (semver check of LoadEncryptedFileWithBugFixes, exit 1); the 3.9.2 library does not look
    { what: 'version not a semantic version', mutate: (e) => sub(e, /(version["\s:=]*"?)3\.13\.2/, (_m, pre) => `${pre}garbage`), code: 1, ignoreMac: 1, sops: 'accepts', message: /version "garbage" is not a semantic version/ },
    { what: 'mac_only_encrypted flag added', mutate: (e) => sub(e, 'unencrypted_suffix', `${macOnlyLine(e)}unencrypted_suffix`), code: 51, ignoreMac: 0, sops: 'rejects', message: MAC },
    { what: 'unencrypted_suffix changed (a clear value is now expected encrypted)', mutate: (e) => sub(e, /_unencrypted(?![\s\S]*_unencrypted)/, '_plain'), code: 25, ignoreMac: 25, sops: 'rejects', message: /does not match sops' data format/ },
    { what: 'the rule replaced by encrypted_regex: ^nomatch$ (values read as clear text)', mutate: (e) => sub(e, /unencrypted_suffix(["\s:=]*)"?_unencrypted"?/, (m) => m.replace('unencrypted_suffix', 'encrypted_regex').replace('_unencrypted', '^nomatch$')), code: 51, ignoreMac: 0, sops: 'rejects', message: MAC },
    { what: 'a second encryption rule added', mutate: (e) => sub(e, 'unencrypted_suffix', `${ruleLine(e)}unencrypted_suffix`), code: 1, ignoreMac: 1, sops: 'rejects', message: /only one encryption rule/ },
  ];
}

/** A `mac_only_encrypted: true` line in the style of the metadata block of `e`, ending just before `unencrypted_suffix`. */
function macOnlyLine(e: string): string {
  if (/^sops_unencrypted_suffix=/m.test(e)) return 'mac_only_encrypted=true\nsops_';
  if (/^\[sops\]/m.test(e)) return 'mac_only_encrypted = true\n';
  if (/^\t\t"unencrypted_suffix"/m.test(e)) return 'mac_only_encrypted": true,\n\t\t"';
  return 'mac_only_encrypted: true\n    ';
}

function ruleLine(e: string): string {
  return macOnlyLine(e).replace('mac_only_encrypted', 'encrypted_regex').replace('true', /^\t\t"/m.test(e) ? '"^x$"' : '^x$');
}

export const TABLES: FormatTable[] = [
  {
    format: 'yaml',
    ext: 'yaml',
    plain: 'secret: S3cr3t-Value-1\nnum: 42\nflag: true\nlist:\n    - Alpha-Item-2\n    - Beta-Item-3\nnested:\n    k: Nested-Val-4\nplain_unencrypted: visible\n',
    cases: [
      ...common({ secret: '["secret"]', unenc: 'plain_unencrypted', unencRenamed: 'plain2_unencrypted' }),
      { what: 'an encrypted key renamed', mutate: (e) => sub(e, /^secret:/m, 'secreT:'), code: 25, ignoreMac: 25, sops: 'rejects', message: VALUE('["secreT"]') },
      { what: 'a parent key renamed', mutate: (e) => sub(e, /^nested:/m, 'nesteD:'), code: 25, ignoreMac: 25, sops: 'rejects', message: VALUE('["nesteD"]["k"]') },
      { what: 'the type tag of an int changed to str (same MAC bytes)', mutate: (e) => editEnc(e, 1, (p) => `ENC[AES256_GCM,data:${p.data},iv:${p.iv},tag:${p.tag},type:str]`), code: 0, ignoreMac: 0, sops: 'accepts', out: /num: "42"/ },
      { what: 'the type tag of a value changed to comment', mutate: (e) => editEnc(e, 1, (p) => `ENC[AES256_GCM,data:${p.data},iv:${p.iv},tag:${p.tag},type:comment]`), code: 51, ignoreMac: 0, sops: 'rejects', message: MAC },
      { what: 'two keys reordered', mutate: (e) => swapLines(e, /^secret:/, /^num:/), code: 51, ignoreMac: 0, sops: 'rejects', message: MAC },
      { what: 'two list items reordered', mutate: (e) => swapEnc(e, 3, 4), code: 51, ignoreMac: 0, sops: 'rejects', message: MAC },
      { what: 'a key removed', mutate: (e) => sub(e, /^num: .*\n/m, ''), code: 51, ignoreMac: 0, sops: 'rejects', message: MAC },
      { what: 'a list item removed', mutate: (e) => sub(e, /^ {4}- ENC.*\n(?= {4}- ENC)/m, ''), code: 51, ignoreMac: 0, sops: 'rejects', message: MAC },
      { what: 'a list item duplicated', mutate: (e) => sub(e, /^( {4}- ENC.*\n)/m, '$1$1'), code: 51, ignoreMac: 0, sops: 'rejects', message: MAC },
      { what: 'an unencrypted key added', mutate: (e) => sub(e, /^sops:/m, 'extra_unencrypted: new\nsops:'), code: 51, ignoreMac: 0, sops: 'rejects', message: MAC },
      { what: "an encrypted key added (another key's ENC)", mutate: (e) => sub(e, /^sops:/m, `secret2: ${encText(e, 0)}\nsops:`), code: 25, ignoreMac: 25, sops: 'rejects', message: VALUE('["secret2"]') },
      { what: 'a key with a null value added (null is not encrypted nor in the MAC)', mutate: (e) => sub(e, /^sops:/m, 'extra: null\nsops:'), code: 0, ignoreMac: 0, sops: 'accepts', out: /extra: null/ },
      { what: 'a key with an empty string added (empty values are not encrypted)', mutate: (e) => sub(e, /^sops:/m, 'extra: ""\nsops:'), code: 0, ignoreMac: 0, sops: 'accepts', out: /extra: ""/ },
      { what: 'a comment added (comments are not in the MAC)', mutate: (e) => sub(e, /^num:/m, '# injected\nnum:'), code: 0, ignoreMac: 0, sops: 'accepts', out: /# injected/ },
      { what: 'the unencrypted_suffix removed (the default is the same)', mutate: (e) => sub(e, /^ {4}unencrypted_suffix: .*\n/m, ''), code: 0, ignoreMac: 0, sops: 'accepts', out: /S3cr3t-Value-1/ },
      { what: 'the version removed', mutate: (e) => sub(e, /^ {4}version: .*\n/m, ''), code: 1, ignoreMac: 1, sops: 'accepts', message: /version is missing/ },
      { what: 'the lastmodified removed', mutate: (e) => sub(e, /^ {4}lastmodified: .*\n/m, ''), code: 1, ignoreMac: 1, sops: 'rejects', message: /lastmodified is missing/ },
      { what: 'the mac removed', mutate: (e) => sub(e, /^ {4}mac: .*\n/m, ''), code: 51, ignoreMac: 0, sops: 'rejects', message: /has no MAC/ },
      { what: 'the age key entry removed (no key groups)', mutate: (e) => sub(e, /^ {4}age:\n(?: {8}.*\n| {12}.*\n)+/m, ''), code: 128, ignoreMac: 128, sops: 'rejects', message: /data key/ },
      { what: 'the sops block removed', mutate: (e) => sub(e, /^sops:\n[\s\S]*$/m, ''), code: 1, ignoreMac: 1, sops: 'rejects', message: /sops metadata not found/ },
      { what: 'the sops block made a list', mutate: (e) => sub(e, /^sops:\n[\s\S]*$/m, 'sops:\n    - 1\n'), code: 1, ignoreMac: 1, sops: 'rejects', message: /metadata/ },
    ],
  },
  {
    format: 'json',
    ext: 'json',
    plain: '{"secret": "S3cr3t-Value-1", "num": 42, "list": ["Alpha-Item-2", "Beta-Item-3"], "nested": {"k": "Nested-Val-4"}, "plain_unencrypted": "visible"}',
    cases: [
      ...common({ secret: '["secret"]', unenc: 'plain_unencrypted', unencRenamed: 'plain2_unencrypted' }),
      { what: 'an encrypted key renamed', mutate: (e) => sub(e, /^\t"secret":/m, '\t"secreT":'), code: 25, ignoreMac: 25, sops: 'rejects', message: VALUE('["secreT"]') },
      { what: 'the type tag of a number changed to str (same MAC bytes)', mutate: (e) => editEnc(e, 1, (p) => `ENC[AES256_GCM,data:${p.data},iv:${p.iv},tag:${p.tag},type:str]`), code: 0, ignoreMac: 0, sops: 'accepts', out: /"num": "42"/ },
      { what: 'two keys reordered', mutate: (e) => swapLines(e, /^\t"secret":/, /^\t"num":/), code: 51, ignoreMac: 0, sops: 'rejects', message: MAC },
      { what: 'two list items reordered', mutate: (e) => swapEnc(e, 2, 3), code: 51, ignoreMac: 0, sops: 'rejects', message: MAC },
      { what: 'a key removed', mutate: (e) => sub(e, /^\t"num": .*\n/m, ''), code: 51, ignoreMac: 0, sops: 'rejects', message: MAC },
      { what: 'a list item removed', mutate: (e) => sub(e, /,\n\t\t"ENC[^"]*"\n/, '\n'), code: 51, ignoreMac: 0, sops: 'rejects', message: MAC },
      { what: 'an unencrypted key added', mutate: (e) => sub(e, /^\t"sops":/m, '\t"extra_unencrypted": "new",\n\t"sops":'), code: 51, ignoreMac: 0, sops: 'rejects', message: MAC },
      { what: 'a key with a null value added', mutate: (e) => sub(e, /^\t"sops":/m, '\t"extra": null,\n\t"sops":'), code: 0, ignoreMac: 0, sops: 'accepts', out: /"extra": null/ },
      { what: 'the sops block removed', mutate: (e) => sub(e, /,\n\t"sops": [\s\S]*$/, '\n}\n'), code: 1, ignoreMac: 1, sops: 'rejects', message: /sops metadata not found/ },
    ],
  },
  {
    format: 'dotenv',
    ext: 'env',
    plain: 'SECRET=S3cr3t-Value-1\nOTHER=Other-Val-5\nPLAIN_unencrypted=visible\n',
    cases: [
      ...common({ secret: '["SECRET"]', unenc: 'PLAIN_unencrypted', unencRenamed: 'PLAIN2_unencrypted' }),
      { what: 'an encrypted key renamed', mutate: (e) => sub(e, /^SECRET=/m, 'SECRET2='), code: 25, ignoreMac: 25, sops: 'rejects', message: VALUE('["SECRET2"]') },
      { what: 'two keys reordered', mutate: (e) => swapLines(e, /^SECRET=/, /^OTHER=/), code: 51, ignoreMac: 0, sops: 'rejects', message: MAC },
      { what: 'a key removed', mutate: (e) => sub(e, /^OTHER=.*\n/m, ''), code: 51, ignoreMac: 0, sops: 'rejects', message: MAC },
      { what: 'an unencrypted key added', mutate: (e) => `EXTRA_unencrypted=new\n${e}`, code: 51, ignoreMac: 0, sops: 'rejects', message: MAC },
      { what: 'a key with an empty value added', mutate: (e) => `EXTRA=\n${e}`, code: 0, ignoreMac: 0, sops: 'accepts', out: /^EXTRA=$/m },
      { what: 'the sops_ lines removed', mutate: (e) => sub(e, /^sops_[\s\S]*$/m, ''), code: 1, ignoreMac: 1, sops: 'rejects', message: /sops metadata not found/ },
    ],
  },
  {
    format: 'ini',
    ext: 'ini',
    plain: '[db]\nsecret = S3cr3t-Value-1\nother = Other-Val-5\nplain_unencrypted = visible\n\n[app]\nkey = Nested-Val-4\n',
    cases: [
      ...common({ secret: '["db"]["secret"]', unenc: 'plain_unencrypted', unencRenamed: 'plain2_unencrypted' }),
      { what: 'an encrypted key renamed', mutate: (e) => sub(e, /^secret /m, 'secreT '), code: 25, ignoreMac: 25, sops: 'rejects', message: VALUE('["db"]["secreT"]') },
      { what: 'a section renamed', mutate: (e) => sub(e, /^\[app\]/m, '[ap2]'), code: 25, ignoreMac: 25, sops: 'rejects', message: VALUE('["ap2"]["key"]') },
      { what: 'two keys reordered', mutate: (e) => swapLines(e, /^secret /, /^other /), code: 51, ignoreMac: 0, sops: 'rejects', message: MAC },
      { what: 'a key removed', mutate: (e) => sub(e, /^other .*\n/m, ''), code: 51, ignoreMac: 0, sops: 'rejects', message: MAC },
      { what: 'an unencrypted key added', mutate: (e) => sub(e, /^\[db\]\n/m, '[db]\nextra_unencrypted = new\n'), code: 51, ignoreMac: 0, sops: 'rejects', message: MAC },
      { what: 'the [sops] section removed', mutate: (e) => sub(e, /^\[sops\][\s\S]*$/m, ''), code: 1, ignoreMac: 1, sops: 'rejects', message: /sops metadata not found/ },
    ],
  },
  {
    format: 'binary',
    ext: 'bin',
    plain: 'Binary-Secret-6 and more\n',
    cases: [
      { what: 'one data (ciphertext) character', mutate: (e) => flip(e, 'data', 0), code: 25, ignoreMac: 25, sops: 'rejects', message: VALUE('["data"]') },
      { what: 'one tag character', mutate: (e) => flip(e, 'tag', 0), code: 25, ignoreMac: 25, sops: 'rejects', message: VALUE('["data"]') },
      { what: 'the data of another file (other data key)', mutate: (e, o) => editEnc(e, 0, () => encText(o, 0)), code: 25, ignoreMac: 25, sops: 'rejects', message: VALUE('["data"]') },
      { what: 'lastmodified (another year)', mutate: lastYear, code: 51, ignoreMac: 0, sops: 'rejects', message: /MAC could not be decrypted/ },
      { what: 'the mac: one data character', mutate: (e) => flip(e, 'data', -1), code: 51, ignoreMac: 0, sops: 'rejects', message: /MAC could not be decrypted/ },
      { what: 'the mac removed', mutate: (e) => sub(e, /^\t\t"mac": .*\n/m, ''), code: 51, ignoreMac: 0, sops: 'rejects', message: /has no MAC/ },
      { what: 'the sops block removed', mutate: (e) => sub(e, /,\n\t"sops": [\s\S]*$/, '\n}\n'), code: 1, ignoreMac: 1, sops: 'rejects', message: /sops metadata not found/ },
    ],
  },
  {
    name: 'yaml --mac-only-encrypted',
    format: 'yaml',
    ext: 'yaml',
    encryptArgs: ['--mac-only-encrypted'],
    plain: 'secret: S3cr3t-Value-1\nnum: 42\nplain_unencrypted: visible\n',
    cases: [
      { what: 'the mac_only_encrypted flag removed', mutate: (e) => sub(e, /^ {4}mac_only_encrypted: true\n/m, ''), code: 51, ignoreMac: 0, sops: 'rejects', message: MAC },
      { what: 'an unencrypted value changed (not in the MAC, by the choice of --mac-only-encrypted)', mutate: (e) => sub(e, 'visible', 'tampered'), code: 0, ignoreMac: 0, sops: 'accepts', out: /tampered/ },
      { what: 'an unencrypted key added (not in the MAC)', mutate: (e) => sub(e, /^sops:/m, 'extra_unencrypted: new\nsops:'), code: 0, ignoreMac: 0, sops: 'accepts', out: /extra_unencrypted: new/ },
      { what: 'one data character of an encrypted value', mutate: (e) => flip(e, 'data', 0), code: 25, ignoreMac: 25, sops: 'rejects', message: VALUE('["secret"]') },
      { what: 'two encrypted keys reordered', mutate: (e) => swapLines(e, /^secret:/, /^num:/), code: 51, ignoreMac: 0, sops: 'rejects', message: MAC },
      { what: 'an encrypted key removed', mutate: (e) => sub(e, /^num: .*\n/m, ''), code: 51, ignoreMac: 0, sops: 'rejects', message: MAC },
    ],
  },
];
