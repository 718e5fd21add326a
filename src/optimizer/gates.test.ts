import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { detectGates } from './gates.js';

const dirs: string[] = [];
function repo(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-gates-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('detectGates', () => {
  it("runs the optimizer's commands in gate order, without the benchmark", async () => {
    const root = repo({
      'package.json': {
        scripts: { test: 'vitest run', lint: 'eslint .', build: 'tsc', bench: 'node b.js' },
      },
      'pnpm-lock.yaml': "lockfileVersion: '9.0'\n",
    });
    const { gates, defaults } = await detectGates(root);
    expect(gates).toEqual([
      { gate: 'install', command: 'pnpm install --frozen-lockfile' },
      { gate: 'build', command: 'pnpm build' },
      { gate: 'lint', command: 'pnpm lint' },
      { gate: 'test', command: 'pnpm test' },
    ]);
    expect(defaults).toEqual({});
  });

  it('a repository without package.json installs nothing unless .patchbay.json says how', async () => {
    expect((await detectGates(repo({ 'README.md': '# x\n' }))).gates).toEqual([]);
    const pinned = repo({
      '.patchbay.json': {
        commands: { install: 'make deps', test: 'make test' },
        validate: { mode: 'fix', maxFixRounds: 3 },
      },
    });
    const { gates, defaults } = await detectGates(pinned);
    expect(gates).toEqual([
      { gate: 'install', command: 'make deps' },
      { gate: 'test', command: 'make test' },
    ]);
    expect(defaults).toEqual({ mode: 'fix', maxFixRounds: 3 });
  });

  it('a bad validate block in .patchbay.json is refused with its path', async () => {
    const root = repo({ '.patchbay.json': { validate: { mode: 'always' } } });
    await expect(detectGates(root)).rejects.toMatchObject({
      code: 'OPTIMIZER_CONFIG_INVALID',
      message: expect.stringContaining('validate.mode'),
    });
  });
});
