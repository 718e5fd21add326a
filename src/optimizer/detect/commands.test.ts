import { describe, expect, it } from 'vitest';
import { stepEnv } from '../steps.js';
import {
  classifyScript,
  parseInvocation,
  renderScript,
  renderTestScript,
  renderWorkspacesScript,
} from './commands.js';

describe('classifyScript', () => {
  it.each([
    ['build', '', { kind: 'build', rank: 0 }],
    ['type-check', '', { kind: 'typecheck', rank: 1 }],
    ['lint:types', 'tsc --noEmit', { kind: 'typecheck', rank: 1 }],
    ['benchmark:json', '', { kind: 'bench', rank: 2 }],
    ['verify', 'eslint . && tsc -p tsconfig.json --noEmit', { kind: 'typecheck', rank: 3 }],
    ['verify', 'vue-tsc --noEmit', { kind: 'typecheck', rank: 3 }],
  ] as const)('%s (%s)', (name, body, expected) => {
    expect(classifyScript(name, body)).toEqual(expected);
  });

  it('is not fooled by tsc that emits, or by other scripts', () => {
    expect(classifyScript('prepare', 'tsc -p tsconfig.build.json')).toBeUndefined();
    expect(classifyScript('dev', 'next dev')).toBeUndefined();
  });

  it('a script that prepares a benchmark or tests, or builds docs, is not one (markdown-it: benchmark-deps, moderndash: build:docs-data)', () => {
    for (const name of [
      'benchmark-deps',
      'bench:install',
      'test:setup',
      'bench-prepare',
      'bench:clean',
      'build:docs-data',
      'build-docs',
    ]) {
      expect(classifyScript(name, 'npm install --prefix benchmark/extra/'), name).toBeUndefined();
    }
  });
});

describe('parseInvocation', () => {
  const scripts = { build: 'tsc', 'test:unit': 'vitest run' };
  it.each([
    ['npm ci', { type: 'install', manager: 'npm' }],
    ['yarn', { type: 'install', manager: 'yarn' }],
    ['pnpm i --frozen-lockfile', { type: 'install', manager: 'pnpm' }],
    ['bun install', { type: 'install', manager: 'bun' }],
    ['npm test', { type: 'script', script: 'test' }],
    ['npm run test:unit -- --coverage', { type: 'script', script: 'test:unit' }],
    ['pnpm --filter web build', { type: 'script', script: 'build' }],
    ['pnpm -r lint', { type: 'script', script: 'lint' }],
    ['yarn test:unit', { type: 'script', script: 'test:unit' }],
    ['NODE_ENV=test yarn vitest run', { type: 'tool', kind: 'test', normalized: 'vitest run' }],
    ['bun test', { type: 'tool', kind: 'test', normalized: 'bun test' }],
    ['npx --yes tsc --noEmit', { type: 'tool', kind: 'typecheck', normalized: 'tsc --noEmit' }],
    ['pnpm exec vitest bench', { type: 'tool', kind: 'bench', normalized: 'vitest bench' }],
    [
      './node_modules/.bin/jest --ci',
      { type: 'tool', kind: 'test', normalized: './node_modules/.bin/jest --ci' },
    ],
    ['npx c8 mocha', { type: 'tool', kind: 'test', normalized: 'c8 mocha' }],
    ['npx biome check .', { type: 'tool', kind: 'lint', normalized: 'biome check .' }],
    ['echo "benchmarks"', { type: 'tool', kind: undefined, normalized: 'echo "benchmarks"' }],
    ['pnpm audit', undefined],
  ] as const)('%s', (command, expected) => {
    expect(parseInvocation(command, scripts)).toEqual(expected);
  });
});

describe('renderScript', () => {
  it('uses `run` where the bare name is a package manager command', () => {
    expect(renderScript('pnpm', 'bench')).toBe('pnpm bench');
    expect(renderScript('pnpm', 'update')).toBe('pnpm run update');
    expect(renderScript('yarn', 'info')).toBe('yarn run info');
    expect(renderScript('npm', 'test')).toBe('npm run test');
    expect(renderScript('bun', 'build')).toBe('bun run build');
  });
});

describe('renderTestScript', () => {
  const ci = (command: string) => ({
    file: '.github/workflows/ci.yml',
    line: 9,
    text: command,
    command,
  });

  it('leaves npm pre/post hooks out unless CI runs the script through npm', () => {
    const scripts = { test: 'node --test', posttest: 'eslint .', pretest: 'echo hi' };
    expect(renderTestScript('npm', 'test', scripts, [])).toBe('npm run test --ignore-scripts');
    expect(renderTestScript('npm', 'test', scripts, [ci('npm test')])).toBe('npm run test');
    expect(renderTestScript('npm', 'test', { test: 'node --test' }, [])).toBe('npm run test');
  });

  it('runs a bare vitest once, never in watch mode', () => {
    expect(renderTestScript('npm', 'test', { test: 'vitest' }, [])).toBe('npm run test -- --run');
    expect(renderTestScript('npm', 'test', { test: 'vitest --coverage' }, [])).toBe(
      'npm run test -- --run',
    );
    expect(renderTestScript('npm', 'test', { test: 'vitest run' }, [])).toBe('npm run test');
    expect(renderTestScript('npm', 'test', { test: 'vitest && tsd' }, [])).toBe('npm run test');
    expect(renderTestScript('pnpm', 'test', { test: 'vitest', posttest: 'x' }, [])).toBe(
      'pnpm test',
    );
  });
});

describe('stepEnv', () => {
  it('sets CI=true for the steps that run tests and tools, not for install or bench', () => {
    expect(stepEnv('test', { PATH: '/bin' })).toEqual({ PATH: '/bin', CI: 'true' });
    expect(stepEnv('build', { CI: '1' })).toEqual({ CI: '1' });
    expect(stepEnv('bench', { PATH: '/bin' })).toEqual({ PATH: '/bin' });
    expect(stepEnv('install', {})).toEqual({});
  });
});

describe('renderWorkspacesScript', () => {
  it("uses each manager's workspace runner, skipping packages without the script", () => {
    const dirs = ['packages/a', 'apps/my app'];
    expect(renderWorkspacesScript('npm', 'bench', dirs)).toBe(
      'npm run bench --workspaces --if-present',
    );
    expect(renderWorkspacesScript('pnpm', 'bench', dirs)).toBe('pnpm -r --if-present run bench');
    expect(renderWorkspacesScript('bun', 'bench', dirs)).toBe("bun run --filter '*' bench");
    // Yarn 1 and later differ and 1.x has no "if present": the packages one by one, quoted.
    expect(renderWorkspacesScript('yarn', 'bench', dirs)).toBe(
      "(cd packages/a && yarn run bench) && (cd 'apps/my app' && yarn run bench)",
    );
    expect(renderWorkspacesScript('yarn', 'test', ["it's"])).toBe(
      "(cd 'it'\\''s' && yarn run test)",
    );
  });
});
