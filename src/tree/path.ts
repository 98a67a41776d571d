/**
 * Tree paths as sops writes them on the command line: `["a"][0]["b"]` (sops-format.md §10.2).
 */
import { ExitCode, SopsError } from '../errors.js';
import type { CommentNode, Node } from './types.js';

/** A path step: a mapping key (string) or a list index (number). */
export type PathStep = string | number;

/**
 * Parses `["a"][0]['b']`. A piece that starts with a quote is a key (first and last characters
 * dropped, no escapes); otherwise a decimal index. Throws exit 91 on anything else.
 */
export function parseTreePath(text: string): PathStep[] {
  const bad = (why: string) =>
    new SopsError(`invalid tree path ${JSON.stringify(text)}: ${why}`, ExitCode.InvalidTreePathFormat, {
      hint: `write the path as ["key"][0]["subkey"]`,
    });
  const steps: PathStep[] = [];
  const pieces = text.split('[');
  if (pieces[0] !== '') throw bad('it must start with [');
  for (const piece of pieces.slice(1)) {
    if (piece === '') throw bad('empty brackets');
    if (!piece.endsWith(']')) throw bad(`"${piece}" is not closed with ]`);
    const inner = piece.slice(0, -1);
    if (inner.startsWith('"') || inner.startsWith("'")) {
      if (inner.length < 2) throw bad('unterminated key');
      steps.push(inner.slice(1, -1));
    } else {
      if (!/^[0-9]+$/.test(inner)) throw bad(`"${inner}" is neither a quoted key nor a list index`);
      steps.push(Number(inner));
    }
  }
  return steps;
}

function describe(steps: readonly PathStep[]): string {
  return steps.map((s) => (typeof s === 'number' ? `[${s}]` : `[${JSON.stringify(s)}]`)).join('');
}

/** Follows a path. A missing key or index is an error with exit 1, as in sops. */
export function getAtPath(root: Node, steps: readonly PathStep[]): Node {
  let cur: Node = root;
  steps.forEach((step, i) => {
    const here = describe(steps.slice(0, i + 1));
    if (typeof step === 'string') {
      if (cur.kind !== 'map') throw new SopsError(`key ${here} not found: ${describe(steps.slice(0, i)) || 'the document'} is not a mapping`, ExitCode.Generic);
      const e = cur.items.find((it) => it.kind === 'entry' && it.key === step);
      if (!e || e.kind !== 'entry') throw new SopsError(`key ${here} not found`, ExitCode.Generic, { hint: 'check the path; keys are case-sensitive' });
      cur = e.value;
    } else {
      if (cur.kind !== 'seq') throw new SopsError(`index ${here} not found: ${describe(steps.slice(0, i)) || 'the document'} is not a list`, ExitCode.Generic);
      const elems = cur.items.filter((x): x is Node => x.kind !== 'comment');
      if (step >= elems.length) throw new SopsError(`index ${here} is out of range: the list has ${elems.length} elements`, ExitCode.Generic);
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
