import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { settings } from '../../src/config/index.js';
import { errorCodes } from '../../src/contracts/index.js';
import { generatedDocs, renderConfigDoc, renderErrorsDoc } from '../../scripts/docs.js';

const root = join(import.meta.dirname, '..', '..');

function committed(path: string): string {
  try {
    return readFileSync(join(root, path), 'utf8');
  } catch {
    return `(${path} is missing)`;
  }
}

describe('generated docs', () => {
  for (const [path, render] of Object.entries(generatedDocs)) {
    it(`${path} matches its source`, () => {
      // A boolean so the failure message says what to do instead of dumping both files.
      const fresh = committed(path) === render();
      expect(fresh, `${path} is stale: run \`npm run docs\` and commit the result`).toBe(true);
    });
  }

  it('documents every setting and every error code', () => {
    const config = renderConfigDoc();
    for (const spec of Object.values(settings)) expect(config).toContain(`### \`${spec.env}\``);
    const errors = renderErrorsDoc();
    for (const code of errorCodes) expect(errors).toContain(`| \`${code}\` |`);
  });
});
