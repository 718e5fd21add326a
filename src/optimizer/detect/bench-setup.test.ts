import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DetectResult } from '../../contracts/index.js';
import { detectRepo } from '../detect.js';

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A repository of these files (objects are written as JSON). */
async function repo(files: Record<string, string | object>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'patchbay-bench-setup-'));
  dirs.push(root);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(
      join(root, path),
      typeof content === 'string' ? content : JSON.stringify(content, null, 2),
    );
  }
  return root;
}

const lib = { name: 'lib', scripts: { test: 'uvu test' } };

async function detected(files: Record<string, string | object>) {
  const result = await detectRepo(await repo(files));
  expect(DetectResult.parse(result)).toEqual(result);
  return result;
}

describe('benchmark setups beyond a root bench script', () => {
  it('bench/ with its own package.json and no script: its index.js, its deps installed after the root', async () => {
    const result = await detected({
      'package.json': lib,
      'bench/package.json': { private: true, devDependencies: { benchmark: '2.1.4' } },
      'bench/index.js': "require('benchmark');\n",
      'bench/fixtures/a.js': 'module.exports = 1;\n',
    });
    expect(result.commands.bench).toMatchObject({
      command: 'node bench/index.js',
      source: 'convention',
      evidence: [{ file: 'bench/index.js', line: 1 }],
    });
    expect(result.commands.install?.command).toBe(
      'npm install && (cd bench && npm install --no-audit --no-fund)',
    );
    expect(result.commands.install?.evidence).toContainEqual({
      file: 'bench/package.json',
      line: 1,
    });
    expect(result.benchPackages).toEqual(['bench']);
  });

  it("benchmark/ with its own bench script: run from the folder with the folder's script", async () => {
    const result = await detected({
      'package.json': lib,
      'benchmark/package.json': {
        scripts: { bench: 'node benchmark.mjs' },
        dependencies: { tinybench: '^5.0.0' },
      },
      'benchmark/benchmark.mjs': '',
    });
    expect(result.commands.bench).toMatchObject({
      command: 'cd benchmark && npm run bench',
      source: 'package.json',
      evidence: [{ file: 'benchmark/package.json', text: '"bench": "node benchmark.mjs"' }],
    });
  });

  it('benchmarks/*.js with no package.json: each benchmark file, not fixtures, helpers, fuzzers or profile scripts', async () => {
    const result = await detected({
      'package.json': lib,
      'benchmarks/parse.js': '',
      'benchmarks/stringify.mjs': '',
      'benchmarks/fuzzer-check.js': '',
      'benchmarks/helpers.js': '',
      'benchmarks/profile.js': '',
      'benchmarks/readme.md': '',
    });
    expect(result.commands.bench?.command).toBe(
      'node benchmarks/parse.js && node benchmarks/stringify.mjs',
    );
    expect(result.benchPackages).toBeUndefined();
    expect(result.commands.install?.command).toBe('npm install');
  });

  it('a root bench.js when there is no folder', async () => {
    const result = await detected({ 'package.json': lib, 'bench.js': '' });
    expect(result.commands.bench?.command).toBe('node bench.js');
  });

  it('a bench:* family without a bench script runs whole, compare variants left out', async () => {
    const result = await detected({
      'package.json': {
        name: 'lib',
        scripts: {
          test: 'tap',
          'bench:parse': 'node b/parse.js',
          'bench:stringify': 'node b/stringify.js',
          'bench:cmp': 'node b/cmp.js',
        },
      },
    });
    expect(result.commands.bench).toMatchObject({
      command: 'npm run bench:parse && npm run bench:stringify',
      source: 'package.json',
    });
    expect(result.commands.bench?.evidence.map((e) => e.line)).toEqual([5, 6]);
  });

  it('a root bench script wins over the folder, whose dependencies are still installed', async () => {
    const result = await detected({
      'package.json': { ...lib, scripts: { ...lib.scripts, bench: 'node bench/run.js' } },
      'bench/package.json': { dependencies: { mitata: '1' } },
      'bench/run.js': '',
    });
    expect(result.commands.bench?.command).toBe('npm run bench');
    expect(result.commands.install?.command).toBe(
      'npm install && (cd bench && npm install --no-audit --no-fund)',
    );
  });

  it('a bench script that is `vitest bench` runs once, never in watch mode', async () => {
    const result = await detected({
      'package.json': { name: 'lib', scripts: { test: 'vitest run', bench: 'vitest bench' } },
    });
    expect(result.commands.bench?.command).toBe('npm run bench -- --run');
  });

  it('no benchmark anywhere: none', async () => {
    const result = await detected({ 'package.json': lib, 'src/index.js': '' });
    expect(result.commands.bench).toBeNull();
  });
});
