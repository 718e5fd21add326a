import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  findImportCycles,
  formatCycleReport,
  parseRuntimeImports,
} from '../../scripts/check-cycles.js';

const dirs: string[] = [];

/** A temp source tree: `{ 'a.ts': "import './b.js';" }`. */
function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'patchbay-cycles-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('parseRuntimeImports', () => {
  it('keeps runtime imports and re-exports, in order', () => {
    const source = [
      "import './setup.js';",
      "import a, { b, type C } from './a.js';",
      "import * as ns from './ns.js';",
      "import type from './named-type.js';",
      "export { d } from './d.js';",
      "export * from './star.js';",
      "export * as e from './e.js';",
      "import { z } from 'zod';",
    ].join('\n');
    expect(parseRuntimeImports(source)).toEqual([
      './setup.js',
      './a.js',
      './ns.js',
      './named-type.js',
      './d.js',
      './star.js',
      './e.js',
      'zod',
    ]);
  });

  it('drops type-only declarations, dynamic imports, comments and string contents', () => {
    const source = [
      "import type { A } from './type-a.js';",
      'import type {',
      '  B,',
      "} from './type-b.js';",
      "import type * as T from './type-ns.js';",
      "export type { C } from './type-c.js';",
      "export type * from './type-star.js';",
      "export type Alias = import('./type-query.js').X;",
      "const lazy = () => import('./dynamic.js');",
      "// import { x } from './commented.js';",
      "/* export * from './block-commented.js'; */",
      "const code = `import { y } from './in-template.js'; ${lazy.name}`;",
      'const text = "export { z } from \'./in-string.js\'";',
      "const re = /import a from '.\\/in-regex.js'/;",
      'const url = import.meta.url;',
      'export const value = 1;',
      'export { code, text, re, url };',
    ].join('\n');
    expect(parseRuntimeImports(source)).toEqual([]);
  });
});

describe('findImportCycles', () => {
  it('finds a planted cycle and reports its shortest path', () => {
    const root = tree({
      'a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
      'b.ts': "import { c } from './nested/c.js';\nexport const b = c;\n",
      'nested/c.ts': "import { a } from '../a.js';\nexport const c = () => a;\n",
      'd.ts': "import { a } from './a.js';\nexport const d = a;\n",
    });
    const report = findImportCycles(root);
    expect(report.files).toHaveLength(4);
    expect(report.cycles).toEqual([
      { members: ['a.ts', 'b.ts', 'nested/c.ts'], path: ['a.ts', 'b.ts', 'nested/c.ts', 'a.ts'] },
    ]);
    const { ok, text } = formatCycleReport(report);
    expect(ok).toBe(false);
    expect(text).toContain('a.ts → b.ts → nested/c.ts → a.ts');
  });

  it('finds a file that imports itself, and reports separate cycles separately', () => {
    const root = tree({
      'self.ts': "export { x } from './self.js';\nexport const y = 1;\n",
      'p.ts': "import './q.js';\n",
      'q.ts': "import './p.js';\n",
    });
    const paths = findImportCycles(root).cycles.map((c) => c.path);
    expect(paths).toEqual([
      ['p.ts', 'q.ts', 'p.ts'],
      ['self.ts', 'self.ts'],
    ]);
  });

  it('passes a tree whose only cycle is type-only, and ignores declaration files', () => {
    const root = tree({
      'a.ts':
        "import type { B } from './b.js';\nimport { c } from './c.js';\nexport type A = B;\nexport const a = c;\n",
      'b.ts': "import type { A } from './a.js';\nexport type B = A | 1;\n",
      'c.ts': 'export const c = 1;\n',
      'types.d.ts': "import './a.js';\nexport {};\n",
      'a.test.ts': "import { a } from './a.js';\nexport const t = a;\n",
    });
    const report = findImportCycles(root);
    expect(report.cycles).toEqual([]);
    expect(report.files).toEqual(['a.test.ts', 'a.ts', 'b.ts', 'c.ts']);
    expect(report.edges.get('a.ts')).toEqual(['c.ts']);
    expect(formatCycleReport(report)).toEqual({ ok: true, text: 'no circular imports (4 files)' });
  });

  it('counts `import { type X }`: verbatimModuleSyntax keeps it as a runtime import', () => {
    const root = tree({
      'a.ts': "import { type B } from './b.js';\nexport type A = B;\n",
      'b.ts': "import { type A } from './a.js';\nexport type B = A;\n",
    });
    expect(findImportCycles(root).cycles.map((c) => c.path)).toEqual([['a.ts', 'b.ts', 'a.ts']]);
  });
});
