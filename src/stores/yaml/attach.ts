/**
 * Hands the scanned comments to nodes the way go-yaml's parser and node builder do: comments
 * are released when the parser looks at a token at or after their mark, collected until an
 * event that takes comments (scalars, aliases, flow collections, block-mapping ends, document
 * ends), then foot comments are moved between keys as `decode.go` does.
 */
import type { LDoc, LEvent, LNode } from './build.js';
import type { TokenModel } from './tokens.js';

/** Fills the head/line/foot comment slots of the nodes and documents the events refer to. */
export function attachComments(model: TokenModel, events: LEvent[], docs: LDoc[]): void {
  const { tokens, comments } = model;
  let cursor = 0;
  let next = 0;
  const pending = { head: '', line: '', foot: '' };
  const unfoldTo = (t: number): void => {
    for (; cursor <= t && cursor < tokens.length; cursor++) {
      const tok = tokens[cursor]!;
      while (next < comments.length && tok.start >= comments[next]!.tokenMark) {
        const c = comments[next]!;
        if (c.kind === 'head' && tok.type === 'BLOCK_END') break;
        pending[c.kind] = pending[c.kind] ? `${pending[c.kind]}\n${c.text}` : c.text;
        next++;
      }
    }
  };
  const clear = (): void => {
    pending.head = pending.line = pending.foot = '';
  };
  for (const e of events) {
    if (e.role === 'collStart') {
      if (e.entry === undefined) continue;
      unfoldTo(e.entry);
      const prior = pending.head.length;
      unfoldTo(e.entry + 1);
      const after = tokens[e.entry + 1];
      if (prior > 0 && after && (after.type === 'BMAP_START' || after.type === 'BSEQ_START')) {
        (e.target as LNode).head = pending.head.slice(0, prior);
        pending.head = pending.head.slice(prior + 1);
      }
      continue;
    }
    if (e.take === undefined) continue;
    unfoldTo(e.take);
    switch (e.role) {
      case 'node': {
        const n = e.target as LNode;
        n.head = pending.head;
        n.lineComment = pending.line;
        n.foot = pending.foot;
        clear();
        break;
      }
      case 'mapEnd':
      case 'flowEnd': {
        const n = e.target as LNode;
        n.lineComment = pending.line;
        n.foot = pending.foot;
        clear();
        break;
      }
      case 'docStart': {
        // The part before the last blank line is the document's head comment.
        const h = pending.head;
        for (let i = h.length - 1; i > 0; i--) {
          if (h[i] !== '\n') continue;
          if (i === h.length - 1) {
            (e.target as LDoc).head = h.slice(0, i);
            pending.head = '';
            break;
          }
          if (h[i - 1] === '\n') {
            (e.target as LDoc).head = h.slice(0, i - 1);
            pending.head = h.slice(i + 1);
            break;
          }
        }
        break;
      }
      case 'docEnd':
        (e.target as LDoc).foot = pending.foot || pending.head;
        clear();
        break;
    }
  }
  for (const d of docs) if (d.root) moveFeet(d.root);
}

/** `decode.go`: a key's foot goes to the previous key, a value's foot to its key, a mapping's to its last key. */
function moveFeet(n: LNode): void {
  if (n.kind === 'seq') {
    for (const c of n.children) moveFeet(c);
    return;
  }
  if (n.kind !== 'map') return;
  const ch = n.children;
  for (let i = 0; i + 1 < ch.length; i += 2) {
    const k = ch[i]!;
    const v = ch[i + 1]!;
    moveFeet(k);
    if (!n.flow && k.foot && i > 0) {
      ch[i - 2]!.foot = k.foot;
      k.foot = '';
    }
    moveFeet(v);
    if (!k.foot && v.foot) {
      k.foot = v.foot;
      v.foot = '';
    }
  }
  if (!n.flow && n.foot && ch.length > 1) {
    ch[ch.length - 2]!.foot = n.foot;
    n.foot = '';
  }
}
