/**
 * Tree paths as sops writes them on the command line: `["a"][0]["b"]` (sops-format.md §10.2).
 */
import { ExitCode, SopsError } from '../errors.js';
import type { CommentNode, Node } from './types.js';

/** A path step: a mapping key (string) or a list index (number). */
export type PathStep = string | number;

/** The largest index Go's strconv.Atoi takes (int64 on the platforms sops ships for). */
const MAX_INDEX = 2n ** 63n - 1n;

/**
 * Parses `["a"][0]['b']` as sops does (`parseTreePath` in cmd/sops/main.go): the text is split
 * at `[`, empty pieces are skipped, every other piece must end with `]`. A piece that starts
 * with a quote is a key (first and last characters dropped, no escapes); otherwise a decimal
 * index as Go's `strconv.Atoi` reads it (optional sign, at most int64). Throws exit 91 on
 * anything else, including `[]`, `["]` and `[']`, on which sops panics.
 */
export function parseTreePath(text: string): PathStep[] {
  const bad = (why: string) =>
    new SopsError(`invalid tree path ${JSON.stringify(text.length > 200 ? text.slice(0, 200) + '...' : text)}: ${why}`, ExitCode.InvalidTreePathFormat, {
      hint: `write the path as ["key"][0]["subkey"]`,
    });
  const steps: PathStep[] = [];
  for (const piece of text.split('[')) {
    if (piece === '') continue;
    if (!piece.endsWith(']')) throw bad(`${JSON.stringify(piece.length > 40 ? piece.slice(0, 40) + '...' : piece)} does not end with ]`);
    const inner = piece.slice(0, -1);
    if (inner === '') throw bad('empty brackets');
    if (inner.startsWith('"') || inner.startsWith("'")) {
      if (inner.length < 2) throw bad('unterminated key');
      steps.push(inner.slice(1, -1));
    } else {
      if (!/^[+-]?[0-9]+$/.test(inner)) throw bad(`${JSON.stringify(inner.length > 40 ? inner.slice(0, 40) + '...' : inner)} is neither a quoted key nor a list index`);
      const n = BigInt(inner);
      if (n > MAX_INDEX || n < -MAX_INDEX - 1n) throw bad(`${inner.slice(0, 40)} is out of range for an index`);
      steps.push(Number(n));
    }
  }
  return steps;
}

function describe(steps: readonly PathStep[]): string {
  const text = steps.map((s) => (typeof s === 'number' ? `[${s}]` : `[${JSON.stringify(s)}]`)).join('');
  return text.length > 200 ? `${text.slice(0, 100)}...${text.slice(-100)}` : text;
}

/** Follows a path. A missing key or index is an error with exit 1, as in sops. */
export function getAtPath(root: Node, steps: readonly PathStep[]): Node {
  let cur: Node = root;
  steps.forEach((step, i) => {
    // messages are built only on failure: a long path must not cost quadratic time
    const here = () => describe(steps.slice(0, i + 1));
    const parent = () => describe(steps.slice(0, i)) || 'the document';
    if (typeof step === 'string') {
      if (cur.kind !== 'map') throw new SopsError(`key ${here()} not found: ${parent()} is not a mapping`, ExitCode.Generic);
      const e = cur.items.find((it) => it.kind === 'entry' && it.key === step);
      if (!e || e.kind !== 'entry') throw new SopsError(`key ${here()} not found`, ExitCode.Generic, { hint: 'check the path; keys are case-sensitive' });
      cur = e.value;
    } else {
      if (cur.kind !== 'seq') throw new SopsError(`index ${here()} not found: ${parent()} is not a list`, ExitCode.Generic);
      const elems = cur.items.filter((x): x is Node => x.kind !== 'comment');
      if (step < 0 || step >= elems.length) throw new SopsError(`index ${here()} is out of range: the list has ${elems.length} elements`, ExitCode.Generic);
      cur = elems[step]!;
    }
  });
  return cur;
}

/** Drops comment items recursively (extract output has none). */
export function withoutComments(n: Node): Node {
  if (n.kind === 'map') return { kind: 'map', items: n.items.filter((i) => i.kind === 'entry').map((e) => ({ ...e, value: withoutComments(e.value) })) };
  if (n.kind === 'seq') return { kind: 'seq', items: n.items.filter((i): i is Node => i.kind !== 'comment').map(withoutComments) };
  return n;
}

export type { CommentNode };
