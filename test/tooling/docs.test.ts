import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
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

/** Markdown files a user reads: the README, docs/, bench/ and the folder READMEs under src/. */
function markdownFiles(): string[] {
  const found = ['README.md', 'bench/README.md'];
  for (const dir of ['docs', 'src']) {
    for (const entry of readdirSync(join(root, dir), { recursive: true, withFileTypes: true })) {
      if (entry.isFile() && entry.name.endsWith('.md')) {
        found.push(relative(root, join(entry.parentPath, entry.name)));
      }
    }
  }
  return found;
}

describe('links in the docs', () => {
  it('every relative link in README.md and docs/ points at a file that exists', () => {
    const broken: string[] = [];
    for (const file of markdownFiles()) {
      const text = readFileSync(join(root, file), 'utf8').replace(/```[\s\S]*?```/g, '');
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:|^#|^\/\//i.test(target!)) continue; // URLs and anchors
        const path = target!.split('#')[0]!;
        const resolved = resolve(root, dirname(file), decodeURIComponent(path));
        if (!resolved.startsWith(`${root}/`) || !existsSync(resolved)) {
          broken.push(`${file}: ${target}`);
        }
      }
    }
    expect(broken, 'links to files users do not have').toEqual([]);
  });
});
