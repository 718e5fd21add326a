import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RULES, TEMPLATES } from '../../src/optimizer/index.js';
import { renderRulesDoc } from '../../scripts/docs.js';

const root = join(import.meta.dirname, '..', '..');

/** docs/optimizer-rules.md is kept fresh by the generated-docs test; this checks what it says. */
describe('the optimizer rules page', () => {
  it('has one row per scanner rule, saying whether a template rewrites it', () => {
    const rows = renderRulesDoc()
      .split('\n')
      .filter((line) => line.startsWith('| `'));
    expect(rows.map((r) => /^\| `([^`]+)`/.exec(r)?.[1])).toEqual(RULES.map((r) => r.id));
    for (const [i, rule] of RULES.entries()) {
      expect(rows[i]).toMatch(TEMPLATES[rule.id] ? /\| template \|$/ : /\| reported only \|$/);
    }
  });

  it('is linked from the README', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme).toContain('](docs/optimizer-rules.md)');
  });
});
