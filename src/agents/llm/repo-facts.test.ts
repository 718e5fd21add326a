import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { detectedCommands, languagesOf } from './repo-facts.js';

const dir = mkdtempSync(join(tmpdir(), 'pb-repo-facts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('repository facts', () => {
  it('counts languages by extension, most files first', () => {
    expect(languagesOf(['a.ts', 'b.tsx', 'c.js', 'README.md', 'x.py', 'y.ts'])).toBe(
      'TypeScript (3 files), JavaScript (1 file), Python (1 file)',
    );
    expect(languagesOf(['README.md'])).toBe('');
  });

  it('finds the declared commands: scripts with the lockfile runner, make targets, go', async () => {
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ scripts: { test: 'vitest', build: 'tsc', postinstall: 'x' } }),
    );
    writeFileSync(join(dir, 'Makefile'), 'VAR := 1\nall: build\nbuild:\n\tcc x.c\n');
    const files = ['package.json', 'pnpm-lock.yaml', 'Makefile', 'go.mod'];
    expect(await detectedCommands(dir, files)).toEqual([
      'pnpm run build',
      'pnpm run test',
      'make all',
      'make build',
      'go build ./...',
      'go test ./...',
    ]);
  });
});
