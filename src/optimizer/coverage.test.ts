import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { changedLines, checkCoverage, decodeMappings, lineSpans } from './coverage.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('changedLines', () => {
  it('lists the added lines per file in new-file numbering, only for the given files', () => {
    const diff = [
      'diff --git a/src/a.js b/src/a.js',
      'index 1111111..2222222 100644',
      '--- a/src/a.js',
      '+++ b/src/a.js',
      '@@ -2,4 +2,4 @@ export function f() {',
      ' const x = 1;',
      '-const y = 2;',
      '+const y = 3;',
      '+const z = 4;',
      ' const w = 5;',
      '-- not a header: a removed line starting with a dash',
      '@@ -20 +21 @@',
      '-old',
      '+new',
      'diff --git a/src/other.js b/src/other.js',
      '--- a/src/other.js',
      '+++ b/src/other.js',
      '@@ -1 +1 @@',
      '-a',
      '+b',
      'diff --git a/src/gone.js b/src/gone.js',
      '--- a/src/gone.js',
      '+++ /dev/null',
      '@@ -1 +0,0 @@',
      '-a',
      '',
    ].join('\n');
    expect(changedLines(diff, ['src/a.js', 'src/gone.js'])).toEqual(
      // 5 and 6: around the lone deleted line, which is no header for all its dashes.
      new Map([['src/a.js', [3, 4, 5, 6, 21]]]),
    );
  });

  it('marks the lines around a change that only deletes, so the hole is checked too', () => {
    const diff = [
      '--- a/src/a.js',
      '+++ b/src/a.js',
      '@@ -4,4 +4,3 @@',
      ' before();',
      '-  delete obj.x;',
      ' after();',
      ' end();',
      '\\ No newline at end of file',
    ].join('\n');
    expect(changedLines(diff, ['src/a.js'])).toEqual(new Map([['src/a.js', [4, 5]]]));
  });

  it('reads git’s quoted paths', () => {
    const diff = [
      '--- "a/src/sp\\303\\244ce.js"',
      '+++ "b/src/sp\\303\\244ce.js"',
      '@@ -1 +1 @@',
      '-a',
      '+b',
    ];
    expect(changedLines(diff.join('\n'), ['src/späce.js'])).toEqual(
      new Map([['src/späce.js', [1]]]),
    );
  });

  it('writes spans', () => {
    expect(lineSpans('f.js', [3, 4, 5, 9, 11, 12])).toEqual(['f.js:3-5', 'f.js:9', 'f.js:11-12']);
  });
});

/** The source the coverage below was taken from (node 20, `node bench.js` calling `used(10)`). */
const SOURCE = [
  'export function used(n) {', // 1
  '  let s = 0;', // 2
  '  for (let i = 0; i < n; i++) s += i;', // 3
  '  if (n < 0) {', // 4: the condition runs…
  '    s = -s;', // 5: …the branch never
  '  }', // 6
  '  return s;', // 7
  '}', // 8
  '', // 9
  'export function unused(n) {', // 10
  '  return n * 2;', // 11
  '}', // 12
  'const TOP = 1;', // 13
  '',
].join('\n');

const offset = (needle: string): number => {
  const at = SOURCE.indexOf(needle);
  expect(at).toBeGreaterThanOrEqual(0);
  return at;
};

/** V8 block coverage of SOURCE as node writes it: `used` called 1000 times, `unused` never. */
function coverageOf(url: string, length = SOURCE.length) {
  const usedStart = offset('function used');
  const usedEnd = offset('}\n\nexport') + 1;
  const branch = offset('{\n    s = -s');
  const unusedStart = offset('function unused');
  return {
    result: [
      {
        scriptId: '100',
        url,
        functions: [
          {
            functionName: '',
            ranges: [{ startOffset: 0, endOffset: length, count: 1 }],
            isBlockCoverage: true,
          },
          {
            functionName: 'used',
            ranges: [
              { startOffset: usedStart, endOffset: usedEnd, count: 1000 },
              { startOffset: offset('s += i;'), endOffset: offset('s += i;') + 7, count: 10000 },
              { startOffset: branch, endOffset: offset('\n  return s'), count: 0 },
            ],
            isBlockCoverage: true,
          },
          {
            functionName: 'unused',
            ranges: [{ startOffset: unusedStart, endOffset: offset('}\nconst TOP') + 1, count: 0 }],
            isBlockCoverage: false,
          },
        ],
      },
      // npm's own scripts and node internals sit beside the repository's.
      { scriptId: '7', url: 'node:internal/main', functions: [] },
      {
        scriptId: '8',
        url: 'file:///usr/lib/node_modules/npm/index.js',
        functions: [{ functionName: '', ranges: [{ startOffset: 0, endOffset: 9, count: 1 }] }],
      },
    ],
    timestamp: 1,
  };
}

/**
 * A repository with src/a.js, reached through a symlink (as a worktree under a symlinked
 * directory is), and a coverage directory holding `coverage` as node would write it.
 */
function setup(coverage: (realRoot: string) => unknown, files: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'pb-coverage-'));
  dirs.push(dir);
  const realRoot = join(realpathSync(dir), 'repo');
  mkdirSync(join(realRoot, 'src'), { recursive: true });
  writeFileSync(join(realRoot, 'src/a.js'), SOURCE);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(realRoot, path, '..'), { recursive: true });
    writeFileSync(join(realRoot, path), text);
  }
  const root = join(dir, 'link');
  symlinkSync(realRoot, root, 'dir');
  const coverageDir = join(dir, 'coverage');
  mkdirSync(coverageDir);
  writeFileSync(join(coverageDir, 'coverage-1-1-0.json'), JSON.stringify(coverage(realRoot)));
  writeFileSync(join(coverageDir, 'not-coverage.json'), '{"result": "no"');
  return { root, realRoot, coverageDir };
}

/** A diff that adds `lines` (1-based, new numbering) of src/a.js, as checkCoverage reads it. */
function diffAdding(file: string, lines: number[]): string {
  const body = lines.flatMap((l) => [`@@ -${l},0 +${l} @@`, `+line ${l}`]);
  return [`--- a/${file}`, `+++ b/${file}`, ...body, ''].join('\n');
}

describe('checkCoverage on hand-made V8 coverage', () => {
  const check = (root: string, coverageDir: string, lines: number[], file = 'src/a.js') =>
    checkCoverage({ root, diff: diffAdding(file, lines), files: [file], coverageDir });

  it('a change inside a function the benchmark calls ran; one inside a function it never calls did not', async () => {
    const { root, coverageDir } = setup((r) => coverageOf(pathToFileURL(join(r, 'src/a.js')).href));
    expect(await check(root, coverageDir, [3])).toMatchObject({
      executed: true,
      changed: ['src/a.js:3'],
      ran: ['src/a.js:3'],
    });
    expect(await check(root, coverageDir, [11])).toMatchObject({ executed: false, ran: [] });
    expect((await check(root, coverageDir, [11])).note).toBeUndefined();
    // Both: one changed line ran, so the benchmark exercises the change.
    expect(await check(root, coverageDir, [2, 11])).toMatchObject({
      executed: true,
      changed: ['src/a.js:2', 'src/a.js:11'],
      ran: ['src/a.js:2'],
    });
  });

  it('the innermost range decides: a line in a branch the calls never take did not run', async () => {
    const { root, coverageDir } = setup((r) => coverageOf(pathToFileURL(join(r, 'src/a.js')).href));
    expect(await check(root, coverageDir, [5])).toMatchObject({ executed: false });
    expect(await check(root, coverageDir, [4])).toMatchObject({ executed: true });
    expect(await check(root, coverageDir, [7])).toMatchObject({ executed: true });
  });

  it('module-level lines run on import: they count only when the change has no line in a function', async () => {
    const { root, coverageDir } = setup((r) => coverageOf(pathToFileURL(join(r, 'src/a.js')).href));
    expect(await check(root, coverageDir, [13])).toMatchObject({
      executed: true,
      ran: ['src/a.js:13'],
    });
    // A hoisted constant for a function that is never called: not exercised.
    expect(await check(root, coverageDir, [11, 13])).toMatchObject({ executed: false, ran: [] });
  });

  it('unknown when no coverage maps to the changed file: not loaded, or loaded transformed', async () => {
    const elsewhere = setup((r) => coverageOf(pathToFileURL(join(r, 'dist/a.js')).href), {
      'dist/a.js': SOURCE,
    });
    const unknown = await check(elsewhere.root, elsewhere.coverageDir, [11]);
    expect(unknown).toMatchObject({ executed: 'unknown', ran: [] });
    expect(unknown.note).toMatch(/^no coverage maps to src\/a\.js/);
    // The engine ran a copy of another length (a loader transformed it): its offsets are not ours.
    const transformed = setup((r) =>
      coverageOf(pathToFileURL(join(r, 'src/a.js')).href, SOURCE.length + 40),
    );
    expect(await check(transformed.root, transformed.coverageDir, [11])).toMatchObject({
      executed: 'unknown',
    });
  });

  it('follows a source map from compiled output back to the changed source (tsc --sourceMap, as node caches it)', async () => {
    // src/a.ts compiled by tsc 5 to dist/a.js; the map, line lengths and coverage are node 20's.
    const ts = [
      'export function used(n: number): number {',
      '  let s = 0;',
      '  for (let i = 0; i < n; i++) s += i;',
      '  return s;',
      '}',
      '',
      'export function unused(n: number): number {',
      '  return n * 2;',
      '}',
      '',
    ].join('\n');
    const { root, coverageDir } = setup(
      (r) => {
        const dist = pathToFileURL(join(r, 'dist/a.js')).href;
        return {
          result: [
            {
              scriptId: '100',
              url: dist,
              functions: [
                { functionName: '', ranges: [{ startOffset: 0, endOffset: 182, count: 1 }] },
                {
                  functionName: 'used',
                  ranges: [
                    { startOffset: 7, endOffset: 104, count: 1000 },
                    { startOffset: 81, endOffset: 88, count: 10000 },
                  ],
                },
                {
                  functionName: 'unused',
                  ranges: [{ startOffset: 112, endOffset: 152, count: 0 }],
                },
              ],
            },
          ],
          'source-map-cache': {
            [dist]: {
              lineLengths: [25, 14, 31, 15, 13, 1, 27, 17, 1, 29],
              data: {
                version: 3,
                file: 'a.js',
                sourceRoot: '',
                sources: ['../src/a.ts'],
                names: [],
                mappings:
                  'AAAA,MAAM,UAAU,IAAI,CAAC,CAAS;IAC5B,IAAI,CAAC,GAAG,CAAC,CAAC;IACV,KAAK,IAAI,CAAC,GAAG,CAAC,EAAE,CAAC,GAAG,CAAC,EAAE,CAAC,EAAE;QAAE,CAAC,IAAI,CAAC,CAAC;IACnC,OAAO,CAAC,CAAC;AACX,CAAC;AAED,MAAM,UAAU,MAAM,CAAC,CAAS;IAC9B,OAAO,CAAC,GAAG,CAAC,CAAC;AACf,CAAC',
              },
              url: null,
            },
          },
        };
      },
      { 'src/a.ts': ts, 'dist/a.js': 'compiled\n' },
    );
    expect(await check(root, coverageDir, [3], 'src/a.ts')).toMatchObject({
      executed: true,
      ran: ['src/a.ts:3'],
    });
    expect(await check(root, coverageDir, [8], 'src/a.ts')).toMatchObject({
      executed: false,
      changed: ['src/a.ts:8'],
    });
  });

  it('no coverage at all (the benchmark is not run by node) is unknown', async () => {
    const { root } = setup(() => ({}));
    const finding = await check(root, join(root, 'no-such-dir'), [3]);
    expect(finding.executed).toBe('unknown');
  });
});

describe('decodeMappings', () => {
  it('decodes base64 VLQ with fields relative to the previous segment', () => {
    // 'AAAA,MAAM' then 'IAC5B': generated line 1, column 4, source line 1 (0-based).
    expect(decodeMappings('AAAA,MAAM;IAC5B;;AACA').slice(0, 4)).toEqual([
      { line: 0, column: 0, source: 0, sourceLine: 0 },
      { line: 0, column: 6, source: 0, sourceLine: 0 },
      { line: 1, column: 4, source: 0, sourceLine: 1 },
      { line: 3, column: 0, source: 0, sourceLine: 2 },
    ]);
  });
});
