import type { ExecutionContext } from 'ava';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ParseError, SopsError } from '../../src/errors.js';
import { createIniStore, iniStore } from '../../src/stores/ini.js';
import { bool, bytes, comment, entry, float, get, int, map, nul, seq, str } from '../../src/tree/types.js';
import type { CommentNode, Entry, MapNode } from '../../src/tree/types.js';
import { sharedTest, test, vectorsDir } from '../helpers/shared.js';

const enc = new TextEncoder();
const dec = new TextDecoder();
const load = (s: string) => iniStore.load(enc.encode(s));
const emit = (doc: MapNode, metadata?: MapNode) => dec.decode(iniStore.emit(metadata ? { documents: [doc], metadata } : { documents: [doc] }));
const section = (name: string, items: Array<Entry | CommentNode>) => entry(name, map(items));

test('sops test vector: DEFAULT first, section comment first, key comment after the key, values trimmed and unquoted', (t) => {
  const src = '\n; last modified 1 April 2001 by John Doe\n[owner]\nname=John Doe\norganization=Acme Widgets Inc.\n\n[database]\n; use IP address in case network name resolution is not working\nserver=192.0.2.62     \nport=143\nfile="payroll.dat"\n';
  t.deepEqual(
    load(src).documents[0],
    map([
      section('DEFAULT', []),
      section('owner', [comment('last modified 1 April 2001 by John Doe'), entry('name', str('John Doe')), entry('organization', str('Acme Widgets Inc.'))]),
      section('database', [
        entry('server', str('192.0.2.62')),
        comment('use IP address in case network name resolution is not working'),
        entry('port', str('143')),
        entry('file', str('payroll.dat')),
      ]),
    ]),
  );
});

test('parsing: delimiters, quotes, continuation, inline comments, duplicates, auto-increment', (t) => {
  const src = [
    'top = 1',
    '[s]',
    'a: colon',
    "b = 'single'",
    'c = `back # tick`',
    'd = """multi',
    'line""" ; after',
    'e = one \\',
    '  two \\',
    '  three',
    'f = value # inline',
    '# above g',
    'g = x;y',
    'a = again',
    '- = first',
    '- = second',
    '`k=ey` = quoted key',
    'h = "a"b"',
    '[s]',
    'x = dup section',
  ].join('\n');
  t.deepEqual(
    load(src).documents[0],
    map([
      section('DEFAULT', [entry('top', str('1'))]),
      section('s', [
        entry('a', str('again')),
        entry('b', str('single')),
        entry('c', str('back # tick')),
        entry('d', str('multi\nline')),
        comment('after'),
        entry('e', str('one two three')),
        entry('f', str('value')),
        comment('inline'),
        entry('g', str('x')),
        comment('above g\n;y'),
        entry('#1', str('first')),
        entry('#2', str('second')),
        entry('k=ey', str('quoted key')),
        entry('h', str('"a"b"')),
      ]),
      section('s', [entry('x', str('dup section'))]),
    ]),
  );
});

test('parsing errors are ParseErrors with a line number', (t) => {
  for (const [src, re] of [
    ['[a]\nno delimiter here', /delimiter not found \(line 2\)/],
    ['[unclosed', /unclosed section \(line 1\)/],
    ['[]', /empty section name/],
    ['= v', /empty key name/],
    ['k = """never\nclosed', /missing closing """ quote .*\(line 1\)/],
  ] as const) {
    const e = t.throws(() => load(src), { instanceOf: ParseError }, src);
    t.regex(e!.message, re, src);
    t.notRegex(e!.message, /never|here/);
  }
});

test('BOM, CRLF and Unicode spaces are handled as ini.v1 does', (t) => {
  const f = iniStore.load(new Uint8Array([0xef, 0xbb, 0xbf, ...enc.encode('\u00a0k\u2003=\u3000v\r\n')]));
  t.deepEqual(f.documents[0], map([section('DEFAULT', [entry('k', str('v'))])]));
});

test('values that are not UTF-8 stay bytes and are written back raw', (t) => {
  const raw = new Uint8Array([...enc.encode('[s]\nk = a'), 0xff, 0x0a]);
  const f = iniStore.load(raw);
  t.deepEqual(get(get(f.documents[0], 's') as MapNode, 'k'), bytes(new Uint8Array([0x61, 0xff])));
  t.deepEqual(iniStore.emit(f), raw);
});

test('emit: pretty format, aligned =, blank line between sections, no DEFAULT header', (t) => {
  const doc = map([
    section('DEFAULT', [entry('a', str('1')), entry('long_key', str('2'))]),
    section('s', [comment('section comment'), entry('k', str('v')), comment('key comment'), entry('kk', str(''))]),
    section('empty', []),
  ]);
  t.is(emit(doc), 'a        = 1\nlong_key = 2\n\n; section comment\n[s]\n; key comment\nk  = v\nkk = \n\n[empty]\n');
  t.is(emit(map([section('DEFAULT', []), section('x', [entry('k', str('v'))])])), '[x]\nk = v\n');
  t.is(emit(map([section('x', []), section('DEFAULT', [entry('k', str('v'))])])), '[x]\n\n[DEFAULT]\nk = v\n');
});

test('emit: value and key quoting', (t) => {
  const doc = map([
    section('q', [
      entry('nl', str('a\nb')), entry('tick', str('a`b')), entry('hash', str('a#b')), entry('semi', str('a;b')),
      entry('lead', str(' x')), entry('trail', str('x\t')), entry('plain', str('x "y"')),
      entry('k"q', str('1')), entry('k=e', str('2')), entry('k:c', str('3')), entry('k`t', str('4')),
    ]),
  ]);
  t.is(
    emit(doc),
    '[q]\nnl        = """a\nb"""\ntick      = """a`b"""\nhash      = `a#b`\nsemi      = `a;b`\nlead      = " x"\ntrail     = "x\t"\nplain     = x "y"\n`k"q`     = 1\n`k=e`     = 2\n`k:c`     = 3\n"""k`t""" = 4\n',
  );
  t.deepEqual(iniStore.load(iniStore.emit({ documents: [doc] })).documents[0], map([section('DEFAULT', []), ...doc.items]));
});

test('emit: alignment counts UTF-8 bytes (as Go len)', (t) => {
  t.is(emit(map([section('u', [entry('é', str('1')), entry('abc', str('2'))])])), '[u]\né  = 1\nabc = 2\n');
});

test('emit: comment handling follows sops encodeTree + ini.v1', (t) => {
  const doc = map([
    comment('top-level comments are dropped'),
    section('s', [comment(' first: section comment'), comment('dropped: no key yet'), entry('a', str('1')), comment('x'), comment('last wins'), entry('b', str('2')), comment('# hashed\nsecond line')]),
  ]);
  t.is(emit(doc), ';  first: section comment\n[s]\n; last wins\na = 1\n# hashed\n; second line\nb = 2\n');
});

test('emit: repeated keys collapse into one (first place, last value), as ini.v1 does', (t) => {
  t.is(emit(map([section('s', [entry('a', str('1')), entry('b', str('2')), entry('a', str('3'))])])), '[s]\na = 3\nb = 2\n');
});

test('emit: non-string leaves use Go formatting', (t) => {
  t.is(emit(map([section('s', [entry('i', int(1)), entry('f', float(3)), entry('b', bool(false)), entry('n', nul())])])), '[s]\ni = 1\nf = 3.0\nb = false\nn = <nil>\n');
});

test('emit: shapes INI cannot hold are SopsErrors with a hint', (t) => {
  for (const doc of [map([entry('k', str('v'))]), map([section('s', [entry('n', map())])]), map([section('s', [entry('n', seq())])])]) {
    const e = t.throws(() => emit(doc), { instanceOf: SopsError });
    t.truthy(e!.hint);
    t.is(e!.exitCode, 4);
  }
  t.throws(() => emit(map([section('', [])])), { instanceOf: SopsError, message: /empty section name/ });
  t.throws(() => emit(map([section('s', [entry('', str('v'))])])), { instanceOf: SopsError, message: /empty key name/ });
});

test('metadata: [sops] section, flattened, both newline layouts read', (t) => {
  const escaped = load('[a]\nk = v\n\n[sops]\npgp__list_0__map_enc = L1\\n\\nL2\nversion = 3.13.2\n');
  const triple = load('[a]\nk = v\n\n[sops]\npgp__list_0__map_enc = """L1\n\nL2"""\nversion = 3.13.2\n');
  const expected = map([entry('pgp', seq([map([entry('enc', str('L1\n\nL2'))])])), entry('version', str('3.13.2'))]);
  t.deepEqual(escaped.metadata, expected);
  t.deepEqual(triple.metadata, expected);
  t.deepEqual(escaped.documents[0], map([section('DEFAULT', []), section('a', [entry('k', str('v'))])]));
  t.throws(() => load('[sops]\n[sops]\n'), { instanceOf: ParseError, message: /duplicate/ });
});

test('metadata: written last, triple-quoted by default, escaped on request', (t) => {
  const md = map([entry('lastmodified', str('T')), entry('pgp', seq([map([entry('enc', str('A\nB')), entry('fp', str('F'))])])), entry('shamir_threshold', int(2))]);
  const doc = map([section('DEFAULT', []), section('a', [entry('k', str('v'))])]);
  t.is(emit(doc, md), '[a]\nk = v\n\n[sops]\nlastmodified         = T\npgp__list_0__map_enc = """A\nB"""\npgp__list_0__map_fp  = F\nshamir_threshold     = 2\n');
  const escaped = createIniStore({ metadataNewlines: 'escaped' });
  t.is(dec.decode(escaped.emit({ documents: [doc], metadata: md })), '[a]\nk = v\n\n[sops]\nlastmodified         = T\npgp__list_0__map_enc = A\\nB\npgp__list_0__map_fp  = F\nshamir_threshold     = 2\n');
  t.throws(() => emit(map([section('sops', [])]), md), { instanceOf: SopsError, message: /reserved/ });
});

test('emitValue: Go json.Marshal for non-strings; a mapping is written as INI', (t) => {
  t.is(dec.decode(iniStore.emitValue(int(3))), '3');
  t.is(dec.decode(iniStore.emitValue(seq([str('a<'), float(1.5)]))), '["a\\u003c",1.5]');
  t.is(dec.decode(iniStore.emitValue(map([section('s', [entry('k', str('v'))])]))), '[s]\nk = v\n');
});

sharedTest('vector format.enc.ini (3.13.2, escaped): loads; escaped store reproduces it byte for byte', (t: ExecutionContext) => {
  const raw = readFileSync(join(vectorsDir, 'format.enc.ini'));
  const f = iniStore.load(raw);
  t.deepEqual(f.documents[0].items.map((i) => (i.kind === 'entry' ? i.key : '#')), ['DEFAULT', 'foo']);
  const pgp0 = (get(f.metadata!, 'pgp') as { items: MapNode[] }).items[0];
  t.deepEqual(get(pgp0, 'fp'), str('FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4'));
  t.deepEqual(get(pgp0, 'created_at'), str('2026-05-22T20:15:53Z'));
  const armor = (get(pgp0, 'enc') as { value: string }).value;
  t.true(armor.startsWith('-----BEGIN PGP MESSAGE-----\n\nwcBMA'));
  t.true(armor.endsWith('\n=Axgz\n-----END PGP MESSAGE-----'));
  t.deepEqual(get(f.metadata!, 'version'), str('3.13.2'));
  t.deepEqual(Buffer.from(createIniStore({ metadataNewlines: 'escaped' }).emit(f)), raw);
  // the default store writes the same data part and the triple-quoted metadata
  const out = dec.decode(iniStore.emit(f));
  const src = raw.toString();
  t.is(out.slice(0, out.indexOf('[sops]')), src.slice(0, src.indexOf('[sops]')));
  t.true(out.includes('pgp__list_0__map_enc        = """-----BEGIN PGP MESSAGE-----\n\nwcBMA'));
  t.deepEqual(iniStore.load(enc.encode(out)), f);
});

sharedTest('vector format-2.enc.ini (3.13.1, triple-quoted): load and emit byte for byte', (t: ExecutionContext) => {
  const raw = readFileSync(join(vectorsDir, 'format-2.enc.ini'));
  const f = iniStore.load(raw);
  const pgp0 = (get(f.metadata!, 'pgp') as { items: MapNode[] }).items[0];
  const armor = (get(pgp0, 'enc') as { value: string }).value;
  t.true(armor.startsWith('-----BEGIN PGP MESSAGE-----\n\nwcBMA'));
  t.true(armor.endsWith('\n=j3Rn\n-----END PGP MESSAGE-----'));
  t.deepEqual(get(f.metadata!, 'version'), str('3.13.1'));
  t.deepEqual(Buffer.from(iniStore.emit(f)), raw);
});

sharedTest('vector example.ini (sops 3.5.0): loads with its encrypted section comment and metadata', (t: ExecutionContext) => {
  const raw = readFileSync(join(vectorsDir, 'example.ini'));
  const f = iniStore.load(raw);
  const doc = f.documents[0];
  t.deepEqual(doc.items.map((i) => (i.kind === 'entry' ? i.key : '#')), ['DEFAULT', 'name', 'address', 'phoneNumbers', 'not private']);
  const name = get(doc, 'name') as MapNode;
  t.regex((name.items[0] as CommentNode).text, /^ENC\[AES256_GCM,.*type:comment\]$/);
  t.deepEqual(get(get(doc, 'not private') as MapNode, 'notsecret_unencrypted'), str('hi there!'));
  const pgp = (get(f.metadata!, 'pgp') as { items: MapNode[] }).items;
  t.is(pgp.length, 2);
  t.deepEqual(get(pgp[1], 'fp'), str('D7229043384BCC60326C6FB9D8720D957C3D3074'));
  t.true((get(pgp[1], 'enc') as { value: string }).value.includes('\n=XdTd\n'));
  // 3.5.0 wrote random metadata order and a blank line after the last section; the data part
  // is reproduced exactly.
  const out = dec.decode(iniStore.emit(f));
  const src = raw.toString();
  t.is(out.slice(0, out.indexOf('[sops]')), src.slice(0, src.indexOf('[sops]')));
});

// ---- property: INI documents survive emit -> load ----

const gospace = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/;
const chars = fc.constantFrom('a', 'b', 'Z', '0', ' ', '\t', '#', ';', '=', ':', '"', "'", '`', '\\', '[', ']', '-', '\n', 'é', '\u00a0', '😀');
const text = (max: number) => fc.array(chars, { maxLength: max }).map((cs) => cs.join(''));
const surrounded = (v: string) => v.length >= 2 && (v[0] === '"' || v[0] === "'") && v[v.length - 1] === v[0] && v.indexOf(v[0], 1) === v.length - 1;
/** The values ini.v1 reads back as written (its quoting cannot express the others). */
function valueRoundTrips(v: string): boolean {
  if (/[\n`]/.test(v)) return !v.includes('"""');
  if (/[#;]/.test(v)) return true;
  if (gospace.test(v)) return !v.includes('"');
  return !v.endsWith('\\') && !surrounded(v) && !v.startsWith('"""');
}
const keyText = text(6).filter(
  (k) => k.length > 0 && k !== '-' && !k.includes('\n') && !gospace.test(k) && !/^[#;[]/.test(k) && !(k.includes('`') && /["=:]/.test(k)),
);
const valueText = text(10).filter(valueRoundTrips);
const commentText = text(8).filter((c) => c.length > 0 && !c.includes('\n') && !gospace.test(c) && !/^[;#]/.test(c));
const keys = fc.uniqueArray(fc.tuple(keyText, valueText, fc.option(commentText, { nil: undefined })), { maxLength: 4, selector: ([k]) => k });
const toItems = (ks: Array<[string, string, string | undefined]>): Array<Entry | CommentNode> =>
  ks.flatMap(([k, v, c]) => (c === undefined ? [entry(k, str(v))] : [entry(k, str(v)), comment(c)]));
const sectionName = text(6).filter((n) => n.length > 0 && !n.includes('\n') && !n.includes(']') && n !== 'sops');
const doc = fc
  .tuple(keys, fc.array(fc.tuple(sectionName, fc.option(commentText, { nil: undefined }), keys), { maxLength: 4 }))
  .map(([defaults, secs]) =>
    map([section('DEFAULT', toItems(defaults)), ...secs.map(([n, c, ks]) => section(n, [...(c === undefined ? [] : [comment(c)]), ...toItems(ks)]))]),
  );
const mvalue = fc.string({ maxLength: 30 }).filter((v) => !v.includes('\\n') && valueRoundTrips(v));
const metadata = fc.option(
  fc.uniqueArray(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/), mvalue), { minLength: 1, maxLength: 4, selector: ([k]) => k }).map((es) =>
    map(es.sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => entry(k, str(v)))),
  ),
  { nil: undefined },
);

test('property: load(emit(doc)) is the doc (fixed seed)', (t) => {
  fc.assert(
    fc.property(doc, metadata, fc.boolean(), (d, md, escaped) => {
      const store = escaped ? createIniStore({ metadataNewlines: 'escaped' }) : iniStore;
      const back = store.load(store.emit(md ? { documents: [d], metadata: md } : { documents: [d] }));
      t.deepEqual(back.documents[0], d);
      t.deepEqual(back.metadata, md);
    }),
    { numRuns: 300, seed: 7 },
  );
});
