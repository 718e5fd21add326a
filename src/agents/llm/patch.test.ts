import { describe, expect, it } from 'vitest';
import { syntaxErrors } from './patch.js';

describe('syntaxErrors', () => {
  it('parses each JS/TS file by its kind, and skips other files', async () => {
    const files = new Map([
      ['ok.ts', 'const a: number = 1;\nexport type T = { a: string };\n'],
      ['ok.tsx', 'export const C = () => <div>{1}</div>;\n'],
      ['ok.mjs', 'export default async function f() { await 1; }\n'],
      ['bad.js', 'function f( {\n'],
      ['bad.cts', 'const = 2;\n'],
      ['notes.md', 'function f( {'],
    ]);
    const errors = await syntaxErrors(files);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/^bad\.js:\d+:\d+: /);
    expect(errors[1]).toMatch(/^bad\.cts:1:/);
  });
});
