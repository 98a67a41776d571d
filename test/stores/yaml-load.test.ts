import test from 'ava';
import { ParseError } from '../../src/errors.js';
import { yamlStore } from '../../src/stores/yaml.js';
import type { LoadedFile } from '../../src/stores/types.js';
import type { CommentNode, Entry, Leaf, MapNode, Node } from '../../src/tree/types.js';

const load = (text: string): LoadedFile => yamlStore.load(new TextEncoder().encode(text));

/** A compact rendering of a loaded tree: `key=value`, `#comment` (`!` = inline), `{...}`, `[...]`. */
function render(n: Node | CommentNode | Entry): string {
  switch (n.kind) {
    case 'comment':
      return `#${n.text}${n.inline ? '!' : ''}`;
    case 'entry':
      return `${n.key}=${render(n.value)}`;
    case 'map':
      return `{${n.items.map(render).join('|')}}`;
    case 'seq':
      return `[${n.items.map(render).join('|')}]`;
    default:
      return renderLeaf(n);
  }
}
function renderLeaf(l: Leaf): string {
  switch (l.kind) {
    case 'str':
      return `s:${l.value}`;
    case 'int':
      return `i:${l.value}`;
    case 'float':
      return `f:${Object.is(l.value, -0) ? '-0' : l.value}`;
    case 'bool':
      return `b:${l.value}`;
    case 'time':
      return `t:${l.value}`;
    case 'null':
      return 'null';
    case 'bytes':
      return `x:${Buffer.from(l.value).toString('hex')}`;
  }
}
const renderFile = (f: LoadedFile): string => f.documents.map(render).join(' ~~~ ');
const valueOf = (text: string): string => {
  const doc = load(text).documents[0]!;
  return render((doc.items[0] as Entry).value);
};

// Comment placement as sops 3.13 gets it from go-yaml v3 (expected trees produced by the real
// go.yaml.in/yaml/v3 code through sops's store logic).
const COMMENTS: Array<[string, string]> = [
  ["# head\na: 1 # inline a\n# before b\nb: 2\n# foot\n", "{# head|# inline a!|a=i:1|# before b|b=i:2|# foot}"],
  ["a:\n    b: 1\n    # indented after b\nc: 2\n", "{a={b=i:1|# indented after b}|c=i:2}"],
  ["a:\n    b: 1\n# col0 after b\nc: 2\n", "{a={b=i:1}|# col0 after b|c=i:2}"],
  ["a:\n    b: 1\n  # col2 after b\nc: 2\n", "{a={b=i:1|# col2 after b}|c=i:2}"],
  ["a:\n    b:\n        c: 1\n    # col4\n# col0\n        # col8\nd: 2\n", "{a={b={c=i:1|# col4}}|# col0|# col8|d=i:2}"],
  ["a:\n    b:\n        c: 1\n    # col4 at end\n", "{a={b={c=i:1}|# col4 at end}}"],
  ["a:\n# first in a, at col 0\n    b: 1\n", "{a={# first in a, at col 0|b=i:1}}"],
  ["a: # on the key line\n    b: 1\n", "{# on the key line|a={b=i:1}}"],
  ["lorem:\n- foo # inline\n#this-is-a-comment\n- bar\n# end\n", "{lorem=[# inline!|s:foo|#this-is-a-comment|s:bar|# end]}"],
  ["# doc head\n\n# first key head\na: 1\n\n# foot of a?\n\nb: 2\n", "{# doc head|# first key head|a=i:1|# foot of a?|b=i:2}"],
  ["list:\n    # before first\n    - a: 1\n      # inside item\n      b: 2\n    # before second\n    - x\n", "{list=[# before first|{a=i:1|# inside item|b=i:2}|# before second|s:x]}"],
  ["a: |\n    text\n# after block\nb: 1\n", "{a=s:text\n|# after block|b=i:1}"],
  ["a: x\n---\n# second doc head\nb: y\n# second doc foot\n", "{a=s:x} ~~~ {# second doc head|b=s:y|# second doc foot}"],
  ["---\n# only a comment\n", "{# only a comment}"],
  ["a: &anchor\n    # in anchored map\n    x: 1\nb: *anchor # alias inline\n", "{a={# in anchored map|x=i:1}|# alias inline!|b={# in anchored map|x=i:1}}"],
  ["k: [a, b] # after flow\nm: {} # empty map\n", "{k=[# after flow|s:a|s:b]|m={# empty map}}"]
];

test('comments are placed where sops places them', (t) => {
  for (const [text, expected] of COMMENTS) t.is(renderFile(load(text)), expected, JSON.stringify(text));
});

test('CRLF input: go-yaml treats each CRLF comment line as followed by a blank line', (t) => {
  t.is(renderFile(load('key0:\r\n    - x # ic\r\n #x\r\nx2: 1\r\n')), '{key0=[# ic!|s:x]|#x|x2=i:1}');
  t.is(renderFile(load('a: |\r\n  x\r\n  y\r\nb: "q\r\n  r"\r\n')), '{a=s:x\ny\n|b=s:q r}');
});

// Plain scalars typed as go-yaml v3 resolve() types them (checked against go-yaml).
const TYPING: Array<[string, string]> = [
  ['true', 'b:true'], ['True', 'b:true'], ['TRUE', 'b:true'], ['false', 'b:false'], ['yes', 's:yes'], ['no', 's:no'],
  ['on', 's:on'], ['off', 's:off'], ['y', 's:y'], ['n', 's:n'], ['~', 'null'], ['null', 'null'], ['Null', 'null'],
  ['NULL', 'null'], ['', 'null'], ['.inf', 'f:Infinity'], ['-.Inf', 'f:-Infinity'], ['+.INF', 'f:Infinity'],
  ['.nan', 'f:NaN'], ['.NaN', 'f:NaN'], ['.5', 'f:0.5'], ['-.5e3', 'f:-500'], ['1', 'i:1'], ['-1', 'i:-1'], ['+5', 'i:5'],
  ['0', 'i:0'], ['-0', 'i:0'], ['017', 'i:15'], ['08', 'f:8'], ['09.5', 'f:9.5'], ['0x1F', 'i:31'], ['0X1f', 'i:31'],
  ['0o17', 'i:15'], ['0b101', 'i:5'], ['-0b101', 'i:-5'], ['1_000', 'i:1000'], ['0x_1F', 'i:31'], ['1__0', 'i:10'],
  ['9223372036854775807', 'i:9223372036854775807'], ['-9223372036854775808', 'i:-9223372036854775808'],
  ['-9223372036854775809', 'f:-9223372036854776000'], ['18446744073709551616', 'f:18446744073709552000'],
  ['1e3', 'f:1000'], ['1E-3', 'f:0.001'], ['1.', 'f:1'], ['1.5', 'f:1.5'], ['-0.0', 'f:-0'], ['1e400', 's:1e400'],
  ['2024-01-01', 't:2024-01-01T00:00:00Z'], ['2024-1-2', 't:2024-01-02T00:00:00Z'],
  ['2024-01-01T10:00:00Z', 't:2024-01-01T10:00:00Z'], ['2024-01-01t10:00:00.500Z', 't:2024-01-01T10:00:00.5Z'],
  ['2024-01-01T10:00:00+02:00', 't:2024-01-01T10:00:00+02:00'], ['2024-01-01T10:00:00+00:00', 't:2024-01-01T10:00:00Z'],
  ['2024-01-01T10:00:00-00:00', 't:2024-01-01T10:00:00Z'], ['2024-01-01 10:00:00', 't:2024-01-01T10:00:00Z'],
  ['2024-01-01 1:2:3.5', 't:2024-01-01T01:02:03.5Z'], ['2024-01-01T10:00:00,25Z', 't:2024-01-01T10:00:00.25Z'],
  ['2024-02-30', 's:2024-02-30'], ['2024-02-29', 't:2024-02-29T00:00:00Z'], ['2023-02-29', 's:2023-02-29'],
  ['2024-01-01T10:00:00', 's:2024-01-01T10:00:00'], ['2024-01-01T24:00:00Z', 's:2024-01-01T24:00:00Z'],
  ['2001-12-14 21:59:43.10 -5', 's:2001-12-14 21:59:43.10 -5'], ['10000-01-01', 's:10000-01-01'], ['12:30', 's:12:30'],
  ['1:30:00', 's:1:30:00'], ['<<', 's:<<'], ['=', 's:='], ['foo', 's:foo'], ['0.1.2', 's:0.1.2'], ['+', 's:+'],
  ['1e', 's:1e'], ['0xG', 's:0xG'], ['.', 's:.'], ['._5', 's:._5'], ['multi\n  line', 's:multi line'],
];

test('plain scalars are typed as go-yaml v3 types them', (t) => {
  for (const [text, expected] of TYPING) t.is(valueOf(`k: ${text}\n`), expected, JSON.stringify(text));
});

test('quoted and block scalars are strings; tags', (t) => {
  t.is(valueOf('k: "1"'), 's:1');
  t.is(valueOf("k: 'true'"), 's:true');
  t.is(valueOf('k: |\n  123\n'), 's:123\n');
  t.is(valueOf('k: >-\n  a\n  b\n'), 's:a b');
  t.is(valueOf('k: !!str 123'), 's:123');
  t.is(valueOf('k: !!int "12"'), 'i:12');
  t.is(valueOf('k: !!float 1'), 'f:1');
  t.is(valueOf('k: !!bool true'), 'b:true');
  t.is(valueOf('k: !!null ""'), 'null');
  t.is(valueOf('k: !!timestamp 2024-01-01'), 't:2024-01-01T00:00:00Z');
  t.is(valueOf('k: !Ref 123'), 's:123');
  t.is(valueOf('k: !custom true'), 's:true');
  t.is(valueOf('k: ! 12'), 'i:12');
  t.is(valueOf('k: !!binary aGVsbG8='), 's:hello');
  t.is(valueOf('k: !!binary |\n  /wAB\n'), 'x:ff0001');
  t.throws(() => load('k: !!int foo'), { instanceOf: ParseError });
  t.throws(() => load('k: !!binary not-base64!'), { instanceOf: ParseError, message: /base64/ });
});

test('integers above 2^63-1 are rejected with a hint to quote them', (t) => {
  const e = t.throws(() => load('a:\n  big: 9223372036854775808\n'), { instanceOf: ParseError });
  t.regex(e!.message, /line 2 \(key a:big\): the integer 9223372036854775808 is larger than 2\^63-1/);
  t.regex((e as ParseError).hint ?? '', /quote/);
  t.throws(() => load('k: 0xFFFFFFFFFFFFFFFF'), { instanceOf: ParseError });
  t.is(valueOf('k: "9223372036854775808"'), 's:9223372036854775808');
});

test('keys must be strings', (t) => {
  for (const k of ['1', 'true', 'null', '2024-01-01', '1.5', '~']) {
    const e = t.throws(() => load(`a: 1\n${k}: x\n`), { instanceOf: ParseError }, k);
    t.regex(e!.message, /line 2: the key .* only string keys are supported/, k);
  }
  t.throws(() => load('a:\n  1: x\n'), { instanceOf: ParseError });
  t.throws(() => load('? [a]\n: x\n'), { instanceOf: ParseError });
  t.is(renderFile(load('"1": a\n\'true\': b\n!!str 2: c\n"": d\n')), '{1=s:a|true=s:b|2=s:c|=s:d}');
});

test('odd keys: colons, hashes, spaces, unicode', (t) => {
  const text = '"a: b": 1\na:b: 2\n"#x": 3\nx#y: 4\n"with space": 5\nwith space2: 6\nclé: 7\n日本: 8\n"": 9\n';
  t.is(renderFile(load(text)), '{a: b=i:1|a:b=i:2|#x=i:3|x#y=i:4|with space=i:5|with space2=i:6|clé=i:7|日本=i:8|=i:9}');
  const out = Buffer.from(yamlStore.emit(load(text))).toString();
  t.is(out, "'a: b': 1\na:b: 2\n'#x': 3\nx#y: 4\nwith space: 5\nwith space2: 6\nclé: 7\n日本: 8\n\"\": 9\n");
});

test('duplicate keys in the first document are an error naming the key and lines', (t) => {
  const e = t.throws(() => load('a: 1\nb:\n  c: 1\n  c: 2\n'), { instanceOf: ParseError });
  t.is(e!.message, 'line 4: mapping key "c" already defined at line 3');
  t.throws(() => load('"a": 1\na: 2\n'), { message: /mapping key "a" already defined/ });
  // go-yaml compares the key text: 1 and "1" collide, ~ and null do not.
  t.throws(() => load('"1": a\n1: b\n'), { instanceOf: ParseError });
  // sops only checks the first document.
  t.is(renderFile(load('a: 1\n---\nb: 2\nb: 3\n')), '{a=i:1} ~~~ {b=i:2|b=i:3}');
});

test('documents must be mappings', (t) => {
  t.throws(() => load('- a\n- b\n'), { instanceOf: ParseError, message: /sequence/ });
  t.throws(() => load('just a string\n'), { instanceOf: ParseError, message: /single value/ });
  t.throws(() => load('a: 1\n---\n- x\n'), { instanceOf: ParseError, message: /document 2/ });
  t.deepEqual(load('').documents, []);
  t.deepEqual(load('# only a comment\n').documents, []);
  t.is(renderFile(load('---\n')), '{}');
  t.is(renderFile(load('---\n---\na: 1\n')), '{} ~~~ {a=i:1}');
  t.is(renderFile(load('null\n')), '{}');
  t.throws(() => load('a: [1, 2\n'), { instanceOf: ParseError });
  t.throws(() => load('a: b: c\n'), { instanceOf: ParseError });
  t.throws(() => load('...\na: 1\n'), { instanceOf: ParseError });
  t.throws(() => yamlStore.load(new Uint8Array([0x61, 0x3a, 0x20, 0xff])), { instanceOf: ParseError, message: /UTF-8/ });
});

test('anchors are expanded, merge keys are kept as a literal << key', (t) => {
  const text = 'base: &b\n  x: 1\n  y: [1, 2]\nother:\n  <<: *b\n  z: 3\nlist: &l [a, b]\ncopy: *l\nscalar: &s hello\nagain: *s\n';
  t.is(renderFile(load(text)),
    '{base={x=i:1|y=[i:1|i:2]}|other={<<={x=i:1|y=[i:1|i:2]}|z=i:3}|list=[s:a|s:b]|copy=[s:a|s:b]|scalar=s:hello|again=s:hello}');
  // A deep copy: changing one copy does not change the other.
  const f = load(text);
  const other = (f.documents[0]!.items[1] as Entry).value as MapNode;
  ((other.items[0] as Entry).value as MapNode).items.length = 0;
  t.is(render(((f.documents[0]!.items[0] as Entry).value)), '{x=i:1|y=[i:1|i:2]}');
  t.throws(() => load('<<: not a map\n'), { instanceOf: ParseError, message: /map merge/ });
  t.throws(() => load('a: &x [*x]\n'), { instanceOf: ParseError, message: /contains itself/ });
  t.throws(() => load('a: *nope\n'), { instanceOf: ParseError });
  // go-yaml (and so sops) writes a literal "<<" key as `!!merge <<`; tsops writes "<<" quoted so
  // that sops can read it back, and reads sops's `!!merge <<` form as a plain key too.
  t.is(Buffer.from(yamlStore.emit(load('a: &x 1\n<<: {b: 2}\n'))).toString(), 'a: 1\n"<<":\n    b: 2\n');
  const written = Buffer.from(yamlStore.emit(load('"<<": 1\n'))).toString();
  t.is(written, '"<<": 1\n');
  t.is(renderFile(load(written)), '{<<=i:1}');
  t.is(renderFile(load('!!merge <<: 1\n')), '{<<=i:1}');
});

test('alias bombs fail with a ParseError instead of eating memory', (t) => {
  const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 12; i++) {
    const prev = String.fromCharCode(96 + i);
    const cur = String.fromCharCode(97 + i);
    lines.push(`${cur}: &${cur} [${Array(9).fill('*' + prev).join(',')}]`);
  }
  const started = Date.now();
  t.throws(() => load(lines.join('\n') + '\n'), { instanceOf: ParseError, message: /alias/ });
  t.true(Date.now() - started < 5000);
  // A bomb in a later document is stopped too (sops itself would run out of memory there).
  t.throws(() => load('x: 1\n---\n' + lines.join('\n') + '\n'), { instanceOf: ParseError });
});

test('multiple documents and metadata from the first one', (t) => {
  const text = 'a: 1\nsops:\n    version: 3.13.2\n    lastmodified: 2024-01-01T00:00:00Z\n    mac: x\n---\nb: 2\nsops:\n    version: other\n';
  const f = load(text);
  t.is(renderFile(f), '{a=i:1} ~~~ {b=i:2}');
  t.is(render(f.metadata!), '{version=s:3.13.2|lastmodified=s:2024-01-01T00:00:00Z|mac=s:x}');
  t.is(load('a: 1\n').metadata, undefined);
  t.throws(() => load('a: 1\nsops: 2\n'), { instanceOf: ParseError, message: /not a mapping/ });
  t.throws(() => load('sops: {}\nsops: {}\n'), { instanceOf: ParseError });
  // Only the first document's `sops` counts; later ones are dropped.
  t.is(load('a: 1\n---\nsops:\n  version: x\n').metadata, undefined);
});

test('sequence elements that are encrypted comments stay strings', (t) => {
  t.is(renderFile(load('l:\n    - ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:comment]\n')),
    '{l=[s:ENC[AES256_GCM,data:AA==,iv:AA==,tag:AA==,type:comment]]}');
});

test('block scalars, unicode and empty strings survive load and emit', (t) => {
  const text = 'lit: |\n    a\n      b\n\n    c\nkeep: |+\n    x\n\n\nstrip: |-\n    y\nfold: >\n    one\n    two\n\n    three\nuni: "é 😀 \\t"\nempty: ""\nsq: \'\'\n';
  t.is(renderFile(load(text)), '{lit=s:a\n  b\n\nc\n|keep=s:x\n\n\n|strip=s:y|fold=s:one two\nthree\n|uni=s:é 😀 \t|empty=s:|sq=s:}');
  const out = Buffer.from(yamlStore.emit(load(text))).toString();
  t.is(out, 'lit: |\n    a\n      b\n\n    c\nkeep: |+\n    x\n\n\nstrip: "y"\nfold: |\n    one two\n    three\nuni: "é \\U0001F600 \\t"\nempty: ""\nsq: ""\n');
  t.is(renderFile(load(out)), renderFile(load(text)));
});
