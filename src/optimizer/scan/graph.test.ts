import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageEntryPoints, resolveRelative } from './graph.js';

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

describe('packageEntryPoints', () => {
  it("a package with bin and no main is still required as index.js (mime 2's cli.js)", () => {
    const root = mkdtempSync(join(tmpdir(), 'pb-graph-'));
    try {
      const known = new Set(['index.js', 'cli.js', 'Mime.js']);
      writeFileSync(join(root, 'package.json'), JSON.stringify({ bin: { mime: 'cli.js' } }));
      expect(packageEntryPoints(root, known).sort()).toEqual(['cli.js', 'index.js']);
      writeFileSync(join(root, 'package.json'), JSON.stringify({ main: 'Mime.js', bin: 'cli.js' }));
      expect(packageEntryPoints(root, known).sort()).toEqual(['Mime.js', 'cli.js']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
