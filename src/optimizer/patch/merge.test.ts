import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { opportunityAt, removeTempRepos, repoWith } from '../../../test/helpers/patch-templates.js';
import { applyTemplate, applyTemplates } from './apply.js';
import { detectLanguageLevel } from './level-detect.js';
import { mergedCandidates } from './merge.js';

afterAll(removeTempRepos);

/** mime 2's getType, reduced: two regexes rebuilt on every call. */
const SOURCE = [
  'export function getType(path: string) {',
  "  const last = path.replace(/^.*[/\\\\]/, '').toLowerCase();",
  "  const ext = last.replace(/^.*\\./, '').toLowerCase();",
  '  return ext.length < last.length ? ext : null;',
  '}',
  'export function other(s: string) {',
  '  return /x+/i.exec(s);',
  '}',
  '',
].join('\n');
const FILE = 'src/mime.ts';
const at = (snippet: string) => opportunityAt('prefer-static-regex', FILE, SOURCE, snippet);
const first = at('/^.*[/\\\\]/');
const second = at('/^.*\\./');
const third = at('/x+/i');

describe('one candidate for several findings of one rule in one file', () => {
  it('hoists both regexes of a function under distinct names, as git applies it', async () => {
    const root = repoWith(FILE, SOURCE);
    const outcome = await applyTemplates(root, [first, second]);
    if (!('candidate' in outcome)) throw new Error(JSON.stringify(outcome.rejected));
    writeFileSync(join(root, 'c.diff'), outcome.candidate.diff);
    execFileSync('git', ['apply', 'c.diff'], { cwd: root });
    const after = readFileSync(join(root, FILE), 'utf8');
    expect(after).toContain('const GET_TYPE_RE = /^.*[/\\\\]/;');
    expect(after).toContain('const GET_TYPE_RE_2 = /^.*\\./;');
    expect(after).toContain("path.replace(GET_TYPE_RE, '')");
    expect(after).toContain("last.replace(GET_TYPE_RE_2, '')");
    expect(after).toContain('/x+/i.exec(s)'); // not in the group: untouched
    expect(outcome.candidate.line).toBe(first.line);
    // Alone, each is its own candidate, with the first free name.
    const single = await applyTemplate(repoWith(FILE, SOURCE), first);
    expect('candidate' in single && single.candidate.diff).toContain('+const GET_TYPE_RE = ');
  });

  it('refuses the group when one template refuses, or rules or files differ', async () => {
    const root = repoWith(FILE, SOURCE);
    const notRegex = { ...at('path.replace'), rule: 'prefer-static-regex' as const };
    const refused = await applyTemplates(root, [first, notRegex]);
    expect('rejected' in refused && refused.rejected.code).toBe('GUARD_FAILED');
    const mixed = await applyTemplates(root, [first, { ...second, file: 'src/other.ts' }]);
    expect('rejected' in mixed && mixed.rejected.message).toMatch(/several rules or files/);
  });

  it('mergedCandidates adds one candidate per file with two or more written, never for one', async () => {
    const root = repoWith(FILE, SOURCE);
    const level = await detectLanguageLevel(root);
    const written = [];
    for (const o of [first, second, third]) {
      const outcome = await applyTemplate(root, o, { level });
      if ('candidate' in outcome) written.push({ opportunity: o, candidate: outcome.candidate });
    }
    expect(written).toHaveLength(3);
    const merged = await mergedCandidates(root, written, level);
    expect(merged).toHaveLength(1);
    expect(merged[0]!.candidate.diff.match(/^\+const /gm)).toHaveLength(3);
    expect(await mergedCandidates(root, written.slice(0, 1), level)).toEqual([]);
  });
});
