/**
 * Which leaves get encrypted (sops-format.md §4): at most one of six selectors, matched on each
 * path component separately (or on the comments above a value), default `_unencrypted` suffix.
 */
import { compileRe2, Re2SyntaxError } from '../config/regex.js';
import { SopsError } from '../errors.js';

function compileGoRegex(field: string, pattern: string): RegExp {
  try {
    return compileRe2(pattern);
  } catch (e) {
    if (e instanceof Re2SyntaxError) throw new SopsError(`${field}: ${e.message}`, 1);
    throw e;
  }
}

export const RULE_FIELDS = [
  'unencrypted_suffix',
  'encrypted_suffix',
  'unencrypted_regex',
  'encrypted_regex',
  'unencrypted_comment_regex',
  'encrypted_comment_regex',
] as const;

export type RuleField = (typeof RULE_FIELDS)[number];

export interface EncryptionRule {
  field: RuleField;
  value: string;
}

export const DEFAULT_RULE: EncryptionRule = { field: 'unencrypted_suffix', value: '_unencrypted' };

/** Decides for one leaf: path = mapping keys from the root, stack = comment levels. */
export type Selector = (path: readonly string[], comments: readonly (readonly string[])[], isComment: boolean) => boolean;

/** Builds the selector for a rule (undefined = the default suffix rule). */
export function makeSelector(rule: EncryptionRule | undefined): Selector {
  const r = rule ?? DEFAULT_RULE;
  switch (r.field) {
    case 'unencrypted_suffix':
      return (path) => !path.some((p) => p.endsWith(r.value));
    case 'encrypted_suffix':
      return (path) => path.some((p) => p.endsWith(r.value));
    case 'unencrypted_regex': {
      const re = compileGoRegex(r.field, r.value);
      return (path) => !path.some((p) => re.test(p));
    }
    case 'encrypted_regex': {
      const re = compileGoRegex(r.field, r.value);
      return (path) => path.some((p) => re.test(p));
    }
    case 'unencrypted_comment_regex': {
      const re = compileGoRegex(r.field, r.value);
      return (_p, stack) => !stack.some((level) => level.some((c) => re.test(c)));
    }
    case 'encrypted_comment_regex': {
      const re = compileGoRegex(r.field, r.value);
      return (_p, stack, isComment) => {
        const last = stack.length - 1;
        return stack.some((level, i) =>
          level.some((c, j) => {
            // A comment that matches does not encrypt itself, only what follows it.
            if (isComment && i === last && j === level.length - 1) return false;
            return re.test(c);
          }),
        );
      };
    }
  }
}

/** The additional data for a path: every component followed by `:`. */
export function pathAd(path: readonly string[]): string {
  let s = '';
  for (const p of path) s += p + ':';
  return path.length === 0 ? ':' : s;
}
