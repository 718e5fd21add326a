import { describe, expect, it } from 'vitest';
import { resolveRelative } from './graph.js';

describe('resolveRelative', () => {
  const known = new Set(['index.js', 'lib/parse.js', 'lib/index.ts', 'bench/run.js']);

  it('resolves files, extensions and folder indexes', () => {
    expect(resolveRelative('bench/run.js', '../lib/parse', known)).toBe('lib/parse.js');
    expect(resolveRelative('bench/run.js', '../lib', known)).toBe('lib/index.ts');
    expect(resolveRelative('index.js', './lib/parse.js', known)).toBe('lib/parse.js');
  });

  it("a benchmark's require('..') or require('.') reaches the root index (jshttp libraries)", () => {
    expect(resolveRelative('bench/run.js', '..', known)).toBe('index.js');
    expect(resolveRelative('bench/run.js', '../', known)).toBe('index.js');
    expect(resolveRelative('test.js', '.', known)).toBe('index.js');
  });

  it('leaves package names and unknown files alone', () => {
    expect(resolveRelative('bench/run.js', 'lodash', known)).toBeUndefined();
    expect(resolveRelative('bench/run.js', '../missing', known)).toBeUndefined();
  });
});
