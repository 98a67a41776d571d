/**
 * The fast YAML reader (stores/yaml/fast.ts) against the full go-yaml emulation: for every
 * document it takes, the tree must be exactly the full reader's; everything else it declines.
 */
import test from 'ava';
import { fastLoadYaml } from '../../src/stores/yaml/fast.js';
import { loadYamlFull } from '../../src/stores/yaml/load.js';

const render = (x: unknown): string =>
  JSON.stringify(x, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));

/** A small deterministic PRNG, so failures reproduce. */
function prng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

const SCALARS = [
  'hello', 'a b c', '1', '-5', '0x1F', '017', '1.5', '.5', 'true', 'False', 'yes', 'null', '~', '2024-01-01', '2024-01-01T10:00:00Z',
  '"quoted"', "'single'", "'it''s'", '"a\\"b"', '"x: y"', '"#x"', 'http://x:8080/a', 'x#y', '[]', '{}', 'é ü', '-foo', '.', "''", '""', 'a,b',
  'ENC[AES256_GCM,data:abc=,iv:x,tag:y,type:str]',
];
/** Outside the fast subset: the reader must decline documents with these. */
const ODD_SCALARS = [
  '9223372036854775808', '1e400', '-', '- x', 'a: b', 'x #c', '*alias', '&a x', '!!str 1', '? x', '>', '|+', '"unterminated', '@x', '%x', '`x', '[1, 2]', '{a: 1}',
];
const KEYS = ['a', 'b', 'key_1', 'sops', 'my key', '"quoted key"', "'sq'", 'x.y', 'a-b', '"a:b"', 'c', 'd', 'e', 'f', 'g'];
const ODD_KEYS = ['1', 'true', '<<', 'a', 'k#', 'null'];

/** Random block-style YAML with comments at random columns, blank lines, lists and literal blocks. */
function generate(rnd: () => number): string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const scalar = (): string => (rnd() < 0.97 ? pick(SCALARS) : pick(ODD_SCALARS));
  const lines: string[] = [];
  const comments = (cols: number[]): void => {
    while (rnd() < 0.25) {
      if (rnd() < 0.15) lines.push('');
      else lines.push(' '.repeat(pick([0, ...cols, cols[cols.length - 1]! + 2, 1])) + '#' + pick([' c', '', 'x', ' ENC[x]']));
    }
  };
  const block = (indent: number): void => {
    const n = 1 + Math.floor(rnd() * 3);
    for (let i = 0; i < n; i++) lines.push(' '.repeat(indent + 2 + (rnd() < 0.1 ? 2 : 0)) + pick(['line', 'x y', '# not a comment', '  more']));
    if (rnd() < 0.1) lines.push('');
  };
  const mapping = (indent: number, depth: number, cols: number[], firstPrefix?: string): void => {
    const n = 1 + Math.floor(rnd() * 4);
    for (let i = 0; i < n; i++) {
      if (!(i === 0 && firstPrefix)) comments(cols);
      const pre = i === 0 && firstPrefix !== undefined ? firstPrefix : ' '.repeat(indent);
      const key = rnd() < 0.97 ? pick(KEYS) : pick(ODD_KEYS);
      const r = rnd();
      if (depth < 3 && r < 0.3) {
        lines.push(`${pre}${key}:${rnd() < 0.05 ? ' # c' : ''}`);
        comments(cols);
        const step = pick([2, 4]);
        mapping(indent + step, depth + 1, [...cols, indent + step]);
      } else if (depth < 3 && r < 0.4) {
        lines.push(`${pre}${key}:`);
        comments(cols);
        const d = indent + pick([0, 2, 4]);
        sequence(d, depth + 1, [...cols, d]);
      } else if (r < 0.45) {
        lines.push(`${pre}${key}: ${pick(['|', '|-', '>'])}`);
        block(indent);
      } else if (r < 0.48) {
        lines.push(`${pre}${key}:`);
      } else {
        lines.push(`${pre}${key}: ${scalar()}${rnd() < 0.05 ? ' # inline' : ''}`);
      }
    }
  };
  const sequence = (indent: number, depth: number, cols: number[]): void => {
    const n = 1 + Math.floor(rnd() * 3);
    for (let i = 0; i < n; i++) {
      comments(cols);
      if (rnd() < 0.4 && depth < 3) mapping(indent + 2, depth + 1, [...cols, indent + 2], ' '.repeat(indent) + '- ');
      else lines.push(`${' '.repeat(indent)}- ${scalar()}`);
    }
  };
  comments([0]);
  mapping(0, 0, [0]);
  comments([0]);
  return lines.join('\n') + (rnd() < 0.9 ? '\n' : '');
}

test('the fast reader gives the full reader’s tree for every document it takes', (t) => {
  let taken = 0;
  let withComments = 0;
  for (let seed = 1; seed <= 3000; seed++) {
    const text = generate(prng(seed));
    const fast = fastLoadYaml(text);
    if (!fast) continue;
    taken++;
    if (/^ *#/m.test(text)) withComments++;
    let full: unknown;
    try {
      full = loadYamlFull(text);
    } catch (e) {
      t.fail(`the fast reader took a document the full reader rejects (${(e as Error).message}): ${JSON.stringify(text)}`);
      continue;
    }
    if (render(fast) !== render(full)) t.fail(`different trees for ${JSON.stringify(text)}`);
  }
  t.log(`${taken} of 3000 documents taken by the fast reader, ${withComments} of them with comments`);
  t.true(taken > 300 && withComments > 100);
});

test('a sops-encrypted file is read by the fast reader, exactly as by the full one', (t) => {
  const text = [
    '#ENC[AES256_GCM,data:HoqV,iv:waZG,tag:ZTvc,type:comment]',
    'service_0:',
    '    key_0: ENC[AES256_GCM,data:XxIX,iv:eNHD,tag:n9lw,type:str]',
    '    key_1: ENC[AES256_GCM,data:auzS,iv:jC69,tag:QOWp,type:int]',
    'list:',
    '    - ENC[AES256_GCM,data:aa,iv:bb,tag:cc,type:str]',
    'sops:',
    '    age:',
    '        - enc: |',
    '            -----BEGIN AGE ENCRYPTED FILE-----',
    '            YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBBcHljcFdydThtY01LMStv',
    '            -----END AGE ENCRYPTED FILE-----',
    '          recipient: age1lw2xxfn4yce09ukdwnaxldyhy0xaz7u7dgsx0e9yyz0msmuj6fmsq9h7qt',
    '    lastmodified: "2026-11-22T05:52:09Z"',
    '    mac: ENC[AES256_GCM,data:sUwm,iv:zd0u,tag:DW9w,type:str]',
    '    unencrypted_suffix: _unencrypted',
    '    version: 3.13.2',
    '',
  ].join('\n');
  const fast = fastLoadYaml(text);
  t.truthy(fast?.metadata);
  t.is(render(fast), render(loadYamlFull(text)));
});

test('the fast reader declines what it does not cover', (t) => {
  const outside = [
    'a: &x 1\nb: *x\n', 'a: !!str 1\n', 'a: [1, 2]\n', 'a: {b: 1}\n', 'a: 1 # inline\n', 'a: 1\n---\nb: 2\n', 'a: 1\r\nb: 2\r\n',
    'a: 1\na: 2\n', '1: x\n', 'a: "multi\n  line"\n', 'a: multi\n  line\n', 'a: >\n  folded\n', '? a\n: b\n', '- a\n', 'a\n', '',
    '# only a comment\n', 'a:\n\t- x\n', 'a: 1 \n', 'a:\n  - x\n  # in a list\n  - y\n', 'a: 9223372036854775808\n', '<<: {a: 1}\n',
    'a:\n    b: 1\n  # between columns\nc: 2\n', 'a: "\\t"\n', 'a: |\n  x\n\n  y\n',
  ];
  for (const text of outside) t.is(fastLoadYaml(text), undefined, JSON.stringify(text));
});
