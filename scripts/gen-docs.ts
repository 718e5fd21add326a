/**
 * Writes the generated reference pages (`npm run docs`): docs/config.md from the settings
 * schema and docs/errors.md from the error catalog. test/tooling/docs.test.ts fails when
 * the committed files differ from what the renderers produce.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generatedDocs } from './docs.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

for (const [path, render] of Object.entries(generatedDocs)) {
  const file = join(root, path);
  const text = render();
  let current: string | undefined;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === text) {
    console.log(`${path}: up to date`);
    continue;
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  console.log(`${path}: written`);
}
