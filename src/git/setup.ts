/**
 * `tsops git setup [--uninstall]`: a marked block in the repository's `.gitattributes` that
 * gives the files of each `.sops.yaml` creation rule `diff=tsops merge=tsops`, and the local git
 * config of those two drivers. Running it again changes nothing; `--uninstall` removes exactly
 * the block and the driver settings.
 */
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { ExitCode, SopsError } from '../errors.js';
import { writeFileAtomic } from '../io/files.js';
import { localConfigGet, localConfigList, localConfigRemoveSection, localConfigSet, localConfigUnset } from './git-cli.js';
import { FALLBACK_GLOBS, globsForRegex, underDirectory } from './globs.js';
import type { ProjectRules } from './project.js';

export const BLOCK_START = '# >>> tsops git setup: decrypted diffs and key-by-key merges of sops files (`tsops git setup --uninstall` removes this block)';
export const BLOCK_END = '# <<< tsops git setup';
const ATTRS = 'diff=tsops merge=tsops';

/** How one creation rule was mapped to patterns. */
export interface RuleMapping {
  ruleIndex: number;
  pathRegex?: string;
  globs: string[];
  /** The regex could not be mapped (or there is none): the catch-all of structured formats. */
  fallback: boolean;
}

/** The patterns for every creation rule of the config, relative to the repository root. */
export function mapRules(rules: ProjectRules, repoRoot: string): RuleMapping[] {
  const list = rules.loaded.config?.creationRules ?? [];
  const dir = rules.dir ? relative(repoRoot, rules.dir).split(sep).join('/') : '';
  if (dir.startsWith('..')) throw new SopsError(`${rules.path} is outside the repository ${repoRoot}`, ExitCode.Generic, { hint: 'run git setup with the .sops.yaml of this repository' });
  return list.map((r) => {
    const globs = r.pathRegex !== undefined && r.pathRegex !== '' ? globsForRegex(r.pathRegex) : undefined;
    return {
      ruleIndex: r.index,
      ...(r.pathRegex !== undefined ? { pathRegex: r.pathRegex } : {}),
      globs: (globs ?? [...FALLBACK_GLOBS]).map((g) => underDirectory(g, dir)),
      fallback: globs === undefined,
    };
  });
}

/** The `.gitattributes` block for the mappings. */
export function attributesBlock(mappings: readonly RuleMapping[]): string {
  const lines = [BLOCK_START];
  const seen = new Set<string>();
  for (const m of mappings) {
    const what = m.pathRegex === undefined || m.pathRegex === '' ? 'no path_regex' : `path_regex ${m.pathRegex}`;
    lines.push(`# creation_rules[${m.ruleIndex}]: ${what}${m.fallback ? ' (not mappable to a pattern: every YAML/JSON/dotenv/INI file; other files pass through unchanged)' : ''}`);
    for (const g of m.globs) {
      if (seen.has(g)) continue;
      seen.add(g);
      lines.push(`${g} ${ATTRS}`);
    }
  }
  lines.push(BLOCK_END);
  return lines.join('\n') + '\n';
}

/** The file text with the block replaced, added (at the end) or, for `undefined`, removed. */
export function withBlock(text: string, block: string | undefined): string {
  const lines = text.split('\n');
  const start = lines.indexOf(BLOCK_START);
  const end = start >= 0 ? lines.indexOf(BLOCK_END, start) : -1;
  if (start >= 0 && end >= 0) {
    const before = lines.slice(0, start).join('\n');
    const after = lines.slice(end + 1).join('\n');
    const head = before === '' ? '' : before + '\n';
    return block === undefined ? head + after.replace(/^\n/, '') : head + block + after.replace(/^\n/, '');
  }
  if (block === undefined) return text;
  return text === '' ? block : text + (text.endsWith('\n') ? '' : '\n') + block;
}

/** The git config the drivers need, for a command (`tsops`, or e.g. `npx tsops`). */
export function driverConfig(command: string): Array<[string, string]> {
  return [
    ['diff.tsops.textconv', `${command} git textconv`],
    ['merge.tsops.name', 'tsops: merge sops-encrypted files key by key'],
    ['merge.tsops.driver', `${command} git merge %O %A %B %P`],
  ];
}

/** What a setup or uninstall changed. */
export interface SetupResult {
  mappings: RuleMapping[];
  /** One line per change; empty when everything was already in place. */
  changes: string[];
}

/** Installs (or with `uninstall` removes) the attributes block and the driver config. */
export function gitSetup(opts: { repoRoot: string; rules: ProjectRules; command: string; uninstall?: boolean }): SetupResult {
  const { repoRoot } = opts;
  const changes: string[] = [];
  const attrPath = join(repoRoot, '.gitattributes');
  const current = existsSync(attrPath) ? readFileSync(attrPath, 'utf8') : undefined;
  const mappings = opts.uninstall ? [] : mapRules(opts.rules, repoRoot);
  const next = withBlock(current ?? '', opts.uninstall ? undefined : attributesBlock(mappings));
  if (next !== (current ?? '')) {
    if (opts.uninstall && next.trim() === '') {
      unlinkSync(attrPath);
      changes.push('removed .gitattributes (it held only the tsops block)');
    } else {
      writeFileAtomic(attrPath, new TextEncoder().encode(next), 0o644);
      changes.push(`${opts.uninstall ? 'removed the tsops block from' : current === undefined ? 'created' : 'updated'} .gitattributes`);
    }
  }
  const touched = new Set<string>();
  for (const [key, value] of driverConfig(opts.command)) {
    const have = localConfigGet(repoRoot, key);
    if (opts.uninstall) {
      if (have === undefined) continue;
      localConfigUnset(repoRoot, key);
      touched.add(key.slice(0, key.lastIndexOf('.')));
      changes.push(`git config --unset ${key}`);
    } else if (have !== value) {
      localConfigSet(repoRoot, key, value);
      changes.push(`git config ${key} '${value}'`);
    }
  }
  if (opts.uninstall) {
    // `git config --unset` leaves empty section headers behind
    for (const section of touched) {
      const esc = section.replace('.', '\\.');
      if (localConfigList(repoRoot, `^${esc}\\.`).length === 0) localConfigRemoveSection(repoRoot, section);
    }
  }
  return { mappings, changes };
}

