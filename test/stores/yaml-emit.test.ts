import test from 'ava';
import { yamlStore } from '../../src/stores/yaml.js';
import { bool, bytes, comment, entry, float, int, map, nul, seq, str, time, type MapNode, type Node } from '../../src/tree/types.js';

const emit = (documents: MapNode[], metadata?: MapNode, indent?: number): string =>
  Buffer.from(yamlStore.emit(metadata ? { documents, metadata } : { documents }, indent === undefined ? {} : { indent })).toString();
const emitValue = (v: Node): string => Buffer.from(yamlStore.emitValue(v)).toString();

// Each string as a value and as a key, with the exact bytes go-yaml v3 writes (via sops's
// YAML store, produced by the real go.yaml.in/yaml/v3 v3.0.4 code).
const QUOTING: Array<[string, string]> = [
  ["plain", "k: plain\nplain: 1\n"],
  ["two words", "k: two words\ntwo words: 1\n"],
  ["", "k: \"\"\n\"\": 1\n"],
  [" lead", "k: ' lead'\n' lead': 1\n"],
  ["trail ", "k: 'trail '\n'trail ': 1\n"],
  ["yes", "k: \"yes\"\n\"yes\": 1\n"],
  ["No", "k: \"No\"\n\"No\": 1\n"],
  ["on", "k: \"on\"\n\"on\": 1\n"],
  ["y", "k: \"y\"\n\"y\": 1\n"],
  ["true", "k: \"true\"\n\"true\": 1\n"],
  ["False", "k: \"False\"\n\"False\": 1\n"],
  ["null", "k: \"null\"\n\"null\": 1\n"],
  ["~", "k: \"~\"\n\"~\": 1\n"],
  ["123", "k: \"123\"\n\"123\": 1\n"],
  ["1.5", "k: \"1.5\"\n\"1.5\": 1\n"],
  ["0x1F", "k: \"0x1F\"\n\"0x1F\": 1\n"],
  ["08", "k: \"08\"\n\"08\": 1\n"],
  ["1e3", "k: \"1e3\"\n\"1e3\": 1\n"],
  [".inf", "k: \".inf\"\n\".inf\": 1\n"],
  ["2024-01-01", "k: \"2024-01-01\"\n\"2024-01-01\": 1\n"],
  ["12:30", "k: \"12:30\"\n\"12:30\": 1\n"],
  // go-yaml writes `!!merge <<` here, which sops cannot read back: tsops quotes it.
  ["<<", "k: \"<<\"\n\"<<\": 1\n"],
  ["a: b", "k: 'a: b'\n'a: b': 1\n"],
  ["a:b", "k: a:b\na:b: 1\n"],
  ["a #b", "k: 'a #b'\n'a #b': 1\n"],
  ["a#b", "k: a#b\na#b: 1\n"],
  ["#a", "k: '#a'\n'#a': 1\n"],
  ["- a", "k: '- a'\n'- a': 1\n"],
  ["-a", "k: -a\n-a: 1\n"],
  ["? a", "k: '? a'\n'? a': 1\n"],
  [":a", "k: :a\n:a: 1\n"],
  ["@a", "k: '@a'\n'@a': 1\n"],
  ["`a", "k: '`a'\n'`a': 1\n"],
  ["%a", "k: '%a'\n'%a': 1\n"],
  ["!a", "k: '!a'\n'!a': 1\n"],
  ["&a", "k: '&a'\n'&a': 1\n"],
  ["*a", "k: '*a'\n'*a': 1\n"],
  ["|", "k: '|'\n'|': 1\n"],
  [">", "k: '>'\n'>': 1\n"],
  ["it's", "k: it's\nit's: 1\n"],
  ["\"q\"", "k: '\"q\"'\n'\"q\"': 1\n"],
  ["'", "k: ''''\n'''': 1\n"],
  ["[a]", "k: '[a]'\n'[a]': 1\n"],
  ["{a}", "k: '{a}'\n'{a}': 1\n"],
  ["a,b", "k: a,b\na,b: 1\n"],
  ["a]", "k: a]\na]: 1\n"],
  ["---", "k: '---'\n'---': 1\n"],
  ["...", "k: '...'\n'...': 1\n"],
  ["--- a", "k: '--- a'\n'--- a': 1\n"],
  ["tab\there", "k: \"tab\\there\"\n\"tab\\there\": 1\n"],
  ["cr\rhere", "k: \"cr\\rhere\"\n? \"cr\\rhere\"\n: 1\n"],
  ["nul\u0000", "k: \"nul\\0\"\n\"nul\\0\": 1\n"],
  ["bell\u0007", "k: \"bell\\a\"\n\"bell\\a\": 1\n"],
  ["\u00e9", "k: \u00e9\n\u00e9: 1\n"],
  ["\u65e5\u672c", "k: \u65e5\u672c\n\u65e5\u672c: 1\n"],
  ["\ud83d\ude00", "k: \"\\U0001F600\"\n\"\\U0001F600\": 1\n"],
  ["\u0085", "k: \"\\N\"\n? \"\\N\"\n: 1\n"],
  ["\u00a0x", "k: \u00a0x\n\u00a0x: 1\n"],
  ["\ufeffx", "k: \"\\uFEFF\\x78\"\n\"\\uFEFF\\x78\": 1\n"],
  // go-yaml writes U+2028/U+2029 raw in single quotes (a line break to YAML 1.1 readers); tsops
  // escapes them in double quotes so every reader gets the same string back.
  ["a\u2028b", 'k: "a\\Lb"\n? "a\\Lb"\n: 1\n'],
  ["line1\nline2", "k: |-\n    line1\n    line2\n? |-\n    line1\n    line2\n: 1\n"],
  ["line1\nline2\n", "k: |\n    line1\n    line2\n? |\n    line1\n    line2\n: 1\n"],
  ["line1\n\nline2\n\n", "k: |+\n    line1\n\n    line2\n\n? |+\n    line1\n\n    line2\n\n: 1\n"],
  // go-yaml writes `|4-` here, which it misplaces inside lists; tsops always double-quotes
  // multi-line strings that need an indentation indicator.
  [" indented\nx", "k: \" indented\\nx\"\n? \" indented\\nx\"\n: 1\n"],
  ["x\n indented", "k: |-\n    x\n     indented\n? |-\n    x\n     indented\n: 1\n"],
  ["trailing \nspace", "k: \"trailing \\nspace\"\n? \"trailing \\nspace\"\n: 1\n"],
  ["\nleading", "k: \"\\nleading\"\n? \"\\nleading\"\n: 1\n"],
  ["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "k: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n? aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n: 1\n"]
];

test('strings are quoted exactly as go-yaml v3 quotes them', (t) => {
  for (const [s, expected] of QUOTING) {
    t.is(emit([map([entry('k', str(s)), entry(s, int(1))])]), expected, JSON.stringify(s));
  }
});

test('non-string leaves', (t) => {
  const doc = map([
    entry('i', int(-42)), entry('big', int(9223372036854775807n)), entry('f', float(0.5)), entry('fe', float(1e21)),
    entry('fsmall', float(1e-7)), entry('fint', float(2)), entry('fneg0', float(-0)), entry('inf', float(Infinity)),
    entry('ninf', float(-Infinity)), entry('nan', float(NaN)), entry('b', bool(true)), entry('n', nul()),
    entry('t', time('2024-01-01T10:00:00.5+02:00')), entry('bin', bytes(new Uint8Array([0xff, 0, 1]))),
    entry('utf8bytes', bytes(new TextEncoder().encode('hi'))),
  ]);
  t.is(emit([doc]), [
    'i: -42', 'big: 9223372036854775807', 'f: 0.5', 'fe: 1e+21', 'fsmall: 1e-07', 'fint: 2', 'fneg0: -0.0', 'inf: .inf',
    'ninf: -.inf', 'nan: .nan', 'b: true', '"n": null', 't: 2024-01-01T10:00:00.5+02:00', 'bin: !!binary /wAB', 'utf8bytes: hi', '',
  ].join('\n'));
});

test('long binary values become a !!binary literal block with 70-column lines', (t) => {
  const data = new Uint8Array(60).fill(0xfe);
  const b64 = Buffer.from(data).toString('base64');
  t.is(emit([map([entry('k', bytes(data))])]), `k: !!binary |\n    ${b64.slice(0, 70)}\n    ${b64.slice(70)}\n`);
});

test('block layout: nested maps, sequences under keys, maps in sequences, empty collections', (t) => {
  const doc = map([
    entry('a', map([entry('b', map([entry('c', str('d'))]))])),
    entry('list', seq([str('x'), map([entry('k1', int(1)), entry('k2', seq([int(2), int(3)]))]), seq([str('n1'), str('n2')])])),
    entry('emptyMap', map()), entry('emptySeq', seq()),
    entry('text', str('line1\nline2\n')),
  ]);
  const expected4 = [
    'a:', '    b:', '        c: d', 'list:', '    - x', '    - k1: 1', '      k2:', '        - 2', '        - 3',
    '    - - n1', '      - n2', 'emptyMap: {}', 'emptySeq: []', 'text: |', '    line1', '    line2', '',
  ].join('\n');
  t.is(emit([doc]), expected4);
  t.is(emit([doc], undefined, 2), [
    'a:', '  b:', '    c: d', 'list:', '  - x', '  - k1: 1', '    k2:', '      - 2', '      - 3',
    '  - - n1', '    - n2', 'emptyMap: {}', 'emptySeq: []', 'text: |', '  line1', '  line2', '',
  ].join('\n'));
});

test('indentation: 0 means the default of 4, values outside 2..9 become 2 (go-yaml), negative is an error', (t) => {
  const doc = map([entry('a', map([entry('b', int(1))]))]);
  t.is(emit([doc], undefined, 0), 'a:\n    b: 1\n');
  t.is(emit([doc], undefined, 3), 'a:\n   b: 1\n');
  t.is(emit([doc], undefined, 12), 'a:\n  b: 1\n');
  t.throws(() => emit([doc], undefined, -1));
});

test('comments are written as sops writes them', (t) => {
  // The loader puts an inline comment before its entry; sops writes it after that entry's value.
  const doc = map([
    comment(' top'), comment(' inline a', true), entry('a', str('1')), comment('before b'), entry('b', map([
      comment(' first in b'), entry('c', int(1)), comment(' end of b'),
    ])), entry('l', seq([comment(' head x'), str('x'), comment(' inline y', true), str('y'), comment(' tail')])),
    comment(' foot'),
  ]);
  t.is(emit([doc]), [
    '# top', 'a: "1" # inline a', '#before b', 'b:', '    # first in b', '    c: 1', '    # end of b', 'l:', '    # head x', '    - x',
    '    - "y" # inline y', '    # tail', '# foot', '',
  ].join('\n'));
});

test('an inline comment written after an entry lands on the next value, as in sops', (t) => {
  const doc = map([entry('a', str('1')), comment(' inline a', true), entry('b', map([entry('c', int(1))])), entry('d', int(2))]);
  t.is(emit([doc]), 'a: "1"\nb:\n    c: 1\nd: 2 # inline a\n');
  t.is(emit([map([entry('a', str('1')), comment(' c', true)])]), 'a: "1"\n# c\n');
});

test('metadata goes into every document; documents are separated by ---', (t) => {
  const md = map([entry('lastmodified', str('2024-01-01T00:00:00Z')), entry('version', str('3.13.2'))]);
  t.is(emit([map([entry('a', int(1))]), map([]), map([entry('b', int(2))])], md), [
    'a: 1', 'sops:', '    lastmodified: "2024-01-01T00:00:00Z"', '    version: 3.13.2',
    '---', 'sops:', '    lastmodified: "2024-01-01T00:00:00Z"', '    version: 3.13.2',
    '---', 'b: 2', 'sops:', '    lastmodified: "2024-01-01T00:00:00Z"', '    version: 3.13.2', '',
  ].join('\n'));
  t.is(emit([map([]), map([])]), '{}\n---\n{}\n');
  t.is(emit([]), '');
});

test('emitValue writes one value as yaml.Marshal does (indent 4)', (t) => {
  t.is(emitValue(str('foo')), 'foo\n');
  t.is(emitValue(str('yes')), '"yes"\n');
  t.is(emitValue(str('a\nb')), '|-\n    a\n    b\n');
  t.is(emitValue(int(5)), '5\n');
  t.is(emitValue(nul()), 'null\n');
  t.is(emitValue(seq([str('a'), map([entry('x', int(1)), entry('y', int(2))])])), '- a\n- x: 1\n  "y": 2\n');
  t.is(emitValue(map([entry('a', map([entry('b', str('c'))]))])), 'a:\n    b: c\n');
  t.is(emitValue(map()), '{}\n');
  t.is(emitValue(seq()), '[]\n');
});
