/**
 * Nesting limits and stack-overflow guards for deeply nested documents.
 *
 * sops (Go) reads and writes 10,000 levels: go-yaml v3 refuses more than 10,000 indentation
 * levels or flow levels (`exceeded max depth of 10000`), and `encoding/json`'s indenter, which
 * sops runs over every JSON file it writes, more than 10,000 open objects and arrays. tsops
 * keeps those limits. Its parsers and tree walks recurse per level; the CLI runs input nested
 * beyond a few hundred levels on a thread with a large stack (bin/tsops.js). Code that runs
 * on an ordinary stack (the library, input from stdin) gets a clean {@link SopsError} instead
 * of a `RangeError` when the stack runs out.
 */
import { ExitCode, ParseError, SopsError } from '../errors.js';

/** go-yaml's `max_indents` and `max_flow_level`, and encoding/json's `maxNestingDepth`. */
export const MAX_NESTING = 10_000;

/**
 * Whether an error is V8's stack overflow. No regex here: this runs where the stack just ran
 * out, and compiling a regex there (its first use) aborts the whole process.
 */
export function isStackOverflow(e: unknown): boolean {
  return e instanceof RangeError && e.message.toLowerCase().includes('call stack');
}

const HINT =
  'the document is nested too deeply for this stack; the tsops CLI handles up to 10,000 levels when it reads the file itself (not from standard input); from the library, call it on a worker thread with a larger stack (resourceLimits.stackSizeMb)';

/** Runs `fn`; a stack overflow becomes a {@link ParseError} (reading) or a {@link SopsError} with `exitCode`. */
export function guardDepth<T>(what: string, fn: () => T, exitCode: number = ExitCode.CouldNotReadInputFile): T {
  try {
    return fn();
  } catch (e) {
    if (!isStackOverflow(e)) throw e;
    const msg = `${what}: the document is nested too deeply or a value is too large (the stack ran out)`;
    throw exitCode === ExitCode.CouldNotReadInputFile ? new ParseError(msg, { hint: HINT, cause: e }) : new SopsError(msg, exitCode, { hint: HINT, cause: e });
  }
}

/** Async form of {@link guardDepth}. */
export async function guardDepthAsync<T>(what: string, fn: () => Promise<T>, exitCode: number): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (!isStackOverflow(e)) throw e;
    throw new SopsError(`${what}: the document is nested too deeply or a value is too large (the stack ran out)`, exitCode, { hint: HINT, cause: e });
  }
}
