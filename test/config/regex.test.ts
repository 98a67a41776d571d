import test from 'ava';
import { compileRe2, Re2SyntaxError, translateRe2 } from '../../src/config/regex.js';

// [Go pattern, JavaScript source, flags]
const translations: Array<[string, string, string]> = [
  ['^secrets/prod/.*\\.ya?ml$', '^secrets\\/prod\\/[^\\n]*\\.ya?ml$', 'u'],
  ['(?i)^SECRETS/', '^SECRETS\\/', 'iu'],
  ['(?i:abc)', '(?:abc)', 'iu'],
  ['(?s)a.b', 'a[^]b', 'u'],
  ['(?s:.).', '(?:[^])[^\\n]', 'u'],
  ['(?m)^a$', '(?:^|(?<=\\n))a(?:$|(?=\\n))', 'u'],
  ['\\Aa\\z', '^a$', 'u'],
  ['(?P<env>dev|prod)/', '(dev|prod)\\/', 'u'],
  ['(?<env>dev)', '(dev)', 'u'],
  ['[[:alpha:]]+', '[A-Za-z]+', 'u'],
  ['[[:^digit:]x]', '[\\u{0}-/:-\\u{10ffff}x]', 'u'],
  ['[[:word:]-]', '[0-9A-Z_a-z\\-]', 'u'],
  ['\\s', '[\\u{9}-\\u{a}\\u{c}-\\u{d} ]', 'u'],
  ['\\S', '[^\\u{9}-\\u{a}\\u{c}-\\u{d} ]', 'u'],
  ['\\d\\w\\W\\b\\B', '\\d\\w\\W\\b\\B', 'u'],
  ['\\pL\\p{Greek}\\p{^Lu}\\PN', '\\p{L}\\p{Script=Greek}\\P{Lu}\\P{N}', 'u'],
  ['\\p{C}', '[\\p{Cc}\\p{Cf}\\p{Co}\\p{Cs}]', 'u'],
  ['\\Q.*+\\E?', '\\.\\*\\+?', 'u'],
  ['\\x41\\x{1F600}\\101\\0', 'A😀A\\u{0}', 'u'],
  ['\\-\\_\\#\\/', '-_#\\/', 'u'],
  ['a{', 'a\\{', 'u'],
  ['a{,2}', 'a\\{,2\\}', 'u'],
  ['a{2,3}', 'a{2,3}', 'u'],
  ['a]b}', 'a\\]b\\}', 'u'],
  ['[]a]', '[\\]a]', 'u'],
  ['[^]a]', '[^\\]a]', 'u'],
  ['[\\d-z]', '[\\d\\-z]', 'u'],
  ['(?U)a+b*?', 'a+?b*', 'u'],
  ['^*', '(?:^)*', 'u'],
  ['(?i)(?i)a', 'a', 'iu'],
];

test('Go RE2 -> JavaScript translation table', (t) => {
  for (const [go, source, flags] of translations) {
    t.deepEqual(translateRe2(go), { source, flags }, go);
  }
});

// [pattern, text, matches] checked against Go's regexp.MatchString.
const matches: Array<[string, string, boolean]> = [
  ['^secrets/dev/', 'secrets/dev/app.yaml', true],
  ['prod', 'secrets/prod/db.yaml', true], // unanchored search
  ['^prod', 'secrets/prod/db.yaml', false],
  ['a.b', 'a\rb', true], // Go's . only stops at \n
  ['a.b', 'a\nb', false],
  ['(?s)a.b', 'a\nb', true],
  ['a$', 'a\n', false], // no Perl-style "before a final newline"
  ['(?m)a$', 'a\r\nb', false], // only \n splits lines
  ['(?m)a$', 'a\nb', true],
  ['\\s', '\v', false], // Go's \s has no \v
  ['\\s', '\u00a0', false],
  ['[^\\S]', '\t', true],
  ['(?i)K', '\u212a', true],
  ['\\p{C}', '\u0378', false], // unassigned is not in Go's C
  ['.', '😀', true],
  ['^.$', '😀', true],
  ['(?U)a+', 'aaa', true],
];

test('translated regexes match like Go', (t) => {
  for (const [pattern, text, want] of matches) t.is(compileRe2(pattern).test(text), want, `${pattern} on ${JSON.stringify(text)}`);
});

// [pattern, part of the reason]
const rejected: Array<[string, string]> = [
  ['(?=a)', 'look-ahead `(?=` is not supported by RE2'],
  ['(?!a)', 'look-ahead `(?!`'],
  ['(?<=a)b', 'look-behind `(?<=`'],
  ['(?<!a)b', 'look-behind `(?<!`'],
  ['(a)\\1', 'backreferences (`\\1`) are not supported'],
  ['\\k<a>', 'backreferences are not supported'],
  ['(?P=a)', 'backreferences are not supported'],
  ['\\Z', 'use `\\z`'],
  ['\\C', 'any byte'],
  ['ab(?i)c', 'the `i` flag can only be set at the very start'],
  ['(?i)a(?-i)b', 'the `i` flag can only be set at the very start'],
  ['(?i:a)b', 'the `i` flag can only be set for the whole pattern'],
  ['*.yaml', 'missing argument to repetition operator `*`'],
  ['a**', 'invalid nested repetition operator `**`'],
  ['a*+', 'invalid nested repetition operator `*+`'],
  ['x{2}{3}', 'invalid nested repetition operator `{2}{3}`'],
  ['a{1001}', 'invalid repeat count `{1001}`'],
  ['a{3,2}', 'invalid repeat count `{3,2}`'],
  ['(a{100}){11}', 'invalid repeat count'],
  ['[z-a]', 'invalid character class range `z-a`'],
  ['[[:foo:]]', 'invalid character class range `[:foo:]`'],
  ['\\p{Klingon}', 'unknown Unicode class `Klingon`'],
  ['[a', 'missing closing `]`'],
  ['(a', 'missing closing `)`'],
  ['a)', 'unexpected `)`'],
  ['a\\', 'trailing backslash'],
  ['\\x4', 'invalid escape sequence `\\x4`'],
  ['\\8', 'backreferences'],
  ['(?x)a', 'invalid or unsupported Perl syntax `(?x`'],
  ['(?>a)', 'invalid or unsupported Perl syntax'],
  ['(?P<a-b>x)', 'invalid named capture'],
];

test('RE2 syntax errors and unsupported constructs', (t) => {
  for (const [pattern, reason] of rejected) {
    const e = t.throws(() => translateRe2(pattern), { instanceOf: Re2SyntaxError }, pattern);
    t.true(e.reason.includes(reason), `${pattern}: ${e.reason}`);
    t.is(e.pattern, pattern);
    t.true(e.message.startsWith(`invalid regular expression \`${pattern}\`: `));
  }
});

test('error offsets point at the problem', (t) => {
  t.is(t.throws(() => translateRe2('abc(?=x)'), { instanceOf: Re2SyntaxError }).offset, 3);
  t.is(t.throws(() => translateRe2('ab\\Z'), { instanceOf: Re2SyntaxError }).offset, 2);
});
