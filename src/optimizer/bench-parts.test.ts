import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { benchParts, partsCommand } from './bench-parts.js';
import { attributeParts } from './coverage-segments.js';

const root = mkdtempSync(join(tmpdir(), 'pb-bench-parts-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
mkdirSync(join(root, 'benchmark'));
const scripts = {
  benchmark: 'node benchmarks/a.js && node benchmarks/b.js',
  one: 'node bench.js',
  tool: 'tinybench run && node b.js',
};
writeFileSync(join(root, 'package.json'), JSON.stringify({ scripts }));
writeFileSync(
  join(root, 'benchmark', 'package.json'),
  JSON.stringify({ scripts: { bench: 'node parse.js && node stringify.js' } }),
);

describe('benchmark commands as parts', () => {
  it('splits chains of benchmark processes, as detection writes them', async () => {
    expect(await benchParts('node bench/a.js && node bench/b.js', root)).toEqual({
      parts: ['node bench/a.js', 'node bench/b.js'],
    });
    expect(await benchParts('npm run bench:parse && npm run bench:stringify', root)).toEqual({
      parts: ['npm run bench:parse', 'npm run bench:stringify'],
    });
  });

  it('expands one package script that is a chain of node files, behind a leading cd too', async () => {
    expect(await benchParts('npm run benchmark', root)).toEqual({
      parts: ['node benchmarks/a.js', 'node benchmarks/b.js'],
    });
    expect(await benchParts('cd benchmark && npm run bench', root)).toEqual({
      prefix: 'cd benchmark',
      parts: ['node parse.js', 'node stringify.js'],
    });
  });

  it('leaves whole what it cannot split safely', async () => {
    for (const command of [
      'node bench.js',
      'npm run one',
      'npm run tool',
      'npm run missing',
      'node a.js | tee out && node b.js',
      'node a.js > out.txt && node b.js',
      'node a.js || node b.js',
      '(cd bench && node a.js) && node b.js',
      'node a.js && cd x && node b.js',
      'node "a b.js" && node c.js',
      'node a.js && && node b.js',
      'make bench && node b.js',
    ]) {
      expect(await benchParts(command, root), command).toBeUndefined();
    }
  });

  it('writes the command for the kept parts, marked for the coverage hook when asked', () => {
    const chain = { prefix: 'cd benchmark', parts: ['node a.js', 'node b.js', 'node c.js'] };
    expect(partsCommand(chain)).toBe('cd benchmark && node a.js && node b.js && node c.js');
    expect(partsCommand(chain, { keep: [0, 2] })).toBe('cd benchmark && node a.js && node c.js');
    expect(partsCommand({ parts: ['node a.js', 'node b.js'] }, { mark: true })).toBe(
      'PATCHBAY_BENCH_PART=0 node a.js && PATCHBAY_BENCH_PART=1 node b.js',
    );
  });
});

describe('which parts ran the change', () => {
  const hits: Record<string, number> = {
    'coverage-10-1-0.json': 0,
    'coverage-11-2-0.json': 5,
    'coverage-11-3-0.json': 0,
    'coverage-12-4-0.json': 1,
  };
  const hitsIn = (file: string) => hits[file] ?? 0;

  it('names the parts whose processes ran the changed lines at all', () => {
    const partOf = new Map([
      ['10', 0],
      ['11', 1],
      ['12', 2],
    ]);
    expect(attributeParts(partOf, Object.keys(hits), hitsIn)).toEqual([1, 2]);
  });

  it('says nothing when a process that ran the change has no part', () => {
    const partOf = new Map([
      ['10', 0],
      ['11', 1],
    ]);
    expect(attributeParts(partOf, Object.keys(hits), hitsIn)).toBeUndefined();
  });
});
