import { describe, expect, it } from 'vitest';
import { structuralCheck, syntaxError } from './structural.js';

describe('structuralCheck', () => {
  it('passes a real change', async () => {
    expect(
      await structuralCheck(
        'a.ts',
        'export const t = () => new Date().getTime();\n',
        'export const t = () => Date.now();\n',
      ),
    ).toBeNull();
  });

  it('rejects changes to formatting and comments only', async () => {
    const before = 'export function f(a: number) {\n  return a + 1; // one\n}\n';
    const after = '/** Adds one. */\nexport function f( a : number ) { return a+1 }\n';
    expect(await structuralCheck('a.ts', before, after)).toEqual({
      code: 'PATCH_NO_AST_CHANGE',
      message: 'a.ts: the patch changes only formatting or comments, not the syntax tree',
    });
  });

  it('sees a changed literal or identifier as a change', async () => {
    expect(
      await structuralCheck('a.ts', 'export const a = 1;\n', 'export const a = 2;\n'),
    ).toBeNull();
    expect(
      await structuralCheck('a.ts', "export const a = 'x';\n", "export const a = 'y';\n"),
    ).toBeNull();
    expect(
      await structuralCheck('a.ts', 'export const a = b;\n', 'export const a = c;\n'),
    ).toBeNull();
  });

  it('rejects a new top-level declaration nothing uses', async () => {
    const before = 'export const a = 1;\n';
    const after = 'const CACHE = new Map();\nexport const a = 1;\n';
    expect(await structuralCheck('a.ts', before, after)).toEqual({
      code: 'PATCH_UNUSED_ADDITION',
      message: 'a.ts: the patch adds `CACHE`, which nothing references',
    });
  });

  it('rejects a new import nothing uses, and an unused new function', async () => {
    const before = 'export const a = 1;\n';
    expect(
      (await structuralCheck('a.ts', before, "import { x } from './x.js';\nexport const a = 1;\n"))
        ?.code,
    ).toBe('PATCH_UNUSED_ADDITION');
    expect(
      (await structuralCheck('a.js', before, 'function helper() {}\nexport const a = 1;\n'))
        ?.message,
    ).toMatch(/`helper`/);
  });

  it('accepts new declarations that are referenced or exported', async () => {
    const before = 'export function f(s: string) {\n  return /a/.test(s);\n}\n';
    const after = 'const F_RE = /a/;\nexport function f(s: string) {\n  return F_RE.test(s);\n}\n';
    expect(await structuralCheck('a.ts', before, after)).toBeNull();
    expect(
      await structuralCheck(
        'a.ts',
        'export const a = 1;\n',
        'export const a = 1;\nexport const b = 2;\n',
      ),
    ).toBeNull();
  });

  it('reports the first syntax error of a rewrite (the safety net before a candidate)', async () => {
    expect(await syntaxError('a.ts', 'export const a = (1;\n')).toMatch(/^line 1: '\)' expected/);
    expect(await syntaxError('a.js', 'export const a = (1);\n')).toBeUndefined();
  });
});
