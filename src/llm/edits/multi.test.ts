import { describe, expect, it } from 'vitest';
import { applyEdits } from './index.js';

const files = new Map([
  ['src/a.ts', 'export const a = 1;\nexport const b = 2;\n'],
  ['src/b.ts', "import { a } from './a.js';\n\nconsole.log(a);\n"],
]);

describe('applyEdits', () => {
  it('applies edits across files in order, each seeing the ones before it', () => {
    const r = applyEdits(files, [
      { path: 'src/a.ts', oldText: 'const a = 1;', newText: 'const a = 10;' },
      { path: 'src/b.ts', oldText: 'console.log(a);', newText: 'console.log(a * 2);' },
      // Matches only the text the first edit wrote.
      { path: 'src/a.ts', oldText: 'a = 10;', newText: 'a = 11;' },
    ]);
    if (!r.ok) throw new Error(r.message);
    expect(r.files.get('src/a.ts')).toBe('export const a = 11;\nexport const b = 2;\n');
    expect(r.files.get('src/b.ts')).toBe("import { a } from './a.js';\n\nconsole.log(a * 2);\n");
    expect(r.applied.map((e) => [e.index, e.line, e.matchedBy])).toEqual([
      [0, 1, 'exact'],
      [1, 3, 'exact'],
      [2, 1, 'exact'],
    ]);
    // The input map is not touched.
    expect(files.get('src/a.ts')).toBe('export const a = 1;\nexport const b = 2;\n');
  });

  it('changes nothing when one edit fails, and reports every failure', () => {
    const r = applyEdits(files, [
      { path: 'src/a.ts', oldText: 'const a = 1;', newText: 'const a = 10;' },
      { path: 'src/b.ts', oldText: 'console.log(b);', newText: 'x' },
      { path: 'src/c.ts', oldText: 'x', newText: 'y' },
      { path: 'src/a.ts', oldText: 'export const', newText: 'const' },
    ]);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => [e.index, e.path, e.failure.code])).toEqual([
      [1, 'src/b.ts', 'EDIT_NO_MATCH'],
      [2, 'src/c.ts', 'EDIT_FILE_NOT_FOUND'],
      [3, 'src/a.ts', 'EDIT_AMBIGUOUS'],
    ]);
    expect(r.message).toMatch(/^3 of 4 edits failed, so none was applied/);
    expect(r).not.toHaveProperty('files');
  });
});
