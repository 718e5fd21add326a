import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DetectResult, isPatchbayError, type PatchbayError } from '../contracts/index.js';
import { detectRepo } from './detect.js';
import { parseWorkflow, splitRunScript } from './detect/workflows.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../test/fixtures/repos');

describe('detectRepo on the fixture repositories (golden)', () => {
  for (const name of ['nextjs-ts', 'nestjs-ts', 'express-ts', 'react-vite-ts', 'monorepo']) {
    it(name, async () => {
      const expected: unknown = JSON.parse(
        await readFile(join(FIXTURES, `${name}.detect.json`), 'utf8'),
      );
      const actual = await detectRepo(join(FIXTURES, name));
      expect(DetectResult.parse(actual)).toEqual(actual);
      expect(actual).toEqual(expected);
    });
  }
});

// --- temporary repositories for focused cases ----------------------------------------------

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function repo(files: Record<string, string | Buffer | object>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'patchbay-detect-'));
  dirs.push(root);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    const data =
      typeof content === 'string' || Buffer.isBuffer(content)
        ? content
        : JSON.stringify(content, null, 2) + '\n';
    await writeFile(join(root, path), data);
  }
  return root;
}

async function rejection(promise: Promise<unknown>): Promise<PatchbayError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isPatchbayError(err)) throw new Error(`expected a PatchbayError, got ${String(err)}`);
  return err;
}

const PNPM_LOCK = "lockfileVersion: '9.0'\n";
const NPM_LOCK = '{\n  "lockfileVersion": 3\n}\n';
const YARN_LOCK = '# yarn lockfile v1\n';

describe('package manager', () => {
  it('a single lockfile decides with high confidence', async () => {
    const root = await repo({ 'package.json': { name: 'a' }, 'pnpm-lock.yaml': PNPM_LOCK });
    const { packageManager, commands } = await detectRepo(root);
    expect(packageManager).toEqual({
      name: 'pnpm',
      version: null,
      confidence: 0.9,
      evidence: [{ file: 'pnpm-lock.yaml', line: 1, text: "lockfileVersion: '9.0'" }],
    });
    expect(commands.install?.command).toBe('pnpm install --frozen-lockfile');
  });

  it('conflicting lockfiles lower the confidence; a stray package-lock.json loses', async () => {
    const root = await repo({
      'package.json': { name: 'a' },
      'package-lock.json': NPM_LOCK,
      'pnpm-lock.yaml': PNPM_LOCK,
    });
    const { packageManager } = await detectRepo(root);
    expect(packageManager.name).toBe('pnpm');
    expect(packageManager.confidence).toBe(0.5);
    expect(packageManager.evidence.map((e) => e.file)).toEqual([
      'pnpm-lock.yaml',
      'package-lock.json',
    ]);
  });

  it('the packageManager field wins over a disagreeing lockfile, with lower confidence', async () => {
    const root = await repo({
      'package.json': { name: 'a', packageManager: 'yarn@4.5.1+sha256.abcdef' },
      'package-lock.json': NPM_LOCK,
    });
    const { packageManager, commands } = await detectRepo(root);
    expect(packageManager).toEqual({
      name: 'yarn',
      version: '4.5.1',
      confidence: 0.6,
      evidence: [
        { file: 'package.json', line: 3, text: '"packageManager": "yarn@4.5.1+sha256.abcdef"' },
        { file: 'package-lock.json', line: 1, text: '{' },
      ],
    });
    expect(commands.install?.command).toBe('yarn install --frozen-lockfile');
  });

  it('field and lockfile agreeing is certain; a third lockfile makes it less so', async () => {
    const agree = await repo({
      'package.json': { name: 'a', packageManager: 'yarn@1.22.22' },
      'yarn.lock': YARN_LOCK,
    });
    expect((await detectRepo(agree)).packageManager.confidence).toBe(1);
    const extra = await repo({
      'package.json': { name: 'a', packageManager: 'yarn@1.22.22' },
      'yarn.lock': YARN_LOCK,
      'package-lock.json': NPM_LOCK,
    });
    const { packageManager } = await detectRepo(extra);
    expect(packageManager.name).toBe('yarn');
    expect(packageManager.confidence).toBe(0.7);
  });

  it('the field alone is enough; an unknown manager in it is ignored', async () => {
    const field = await repo({ 'package.json': { name: 'a', packageManager: 'bun@1.1.34' } });
    expect((await detectRepo(field)).packageManager).toMatchObject({
      name: 'bun',
      version: '1.1.34',
      confidence: 0.9,
    });
    const unknown = await repo({ 'package.json': { name: 'a', packageManager: 'deno@2.0.0' } });
    expect((await detectRepo(unknown)).packageManager).toEqual({
      name: 'npm',
      version: null,
      confidence: 0.3,
      evidence: [],
    });
  });

  it('reads a binary bun.lockb without quoting it', async () => {
    const root = await repo({
      'package.json': { name: 'a' },
      'bun.lockb': Buffer.from([0x23, 0x21, 0x2f, 0x00, 0xff, 0x0a]),
    });
    const { packageManager } = await detectRepo(root);
    expect(packageManager.name).toBe('bun');
    expect(packageManager.evidence).toEqual([{ file: 'bun.lockb', line: 1 }]);
  });
});

describe('commands from package.json', () => {
  it('renders scripts with the package manager and finds `tsc --noEmit` under any name', async () => {
    const root = await repo({
      'package.json': {
        name: 'a',
        scripts: { verify: 'tsc --noEmit -p .', 'bench:parse': 'node bench/parse.js', add: 'x' },
      },
      'pnpm-lock.yaml': PNPM_LOCK,
    });
    const { commands } = await detectRepo(root);
    expect(commands.typecheck).toEqual({
      command: 'pnpm verify',
      confidence: 0.6,
      source: 'package.json',
      evidence: [{ file: 'package.json', line: 4, text: '"verify": "tsc --noEmit -p .",' }],
    });
    expect(commands.bench?.command).toBe('pnpm bench:parse');
    expect(commands.test).toBeNull();
  });

  it("ignores npm's placeholder test script", async () => {
    const root = await repo({
      'package.json': {
        name: 'a',
        scripts: { test: 'echo "Error: no test specified" && exit 1' },
      },
    });
    expect((await detectRepo(root)).commands.test).toBeNull();
  });

  it('a script CI runs beats a better-named one it does not', async () => {
    const root = await repo({
      'package.json': { name: 'a', scripts: { test: 'vitest run', 'test:ci': 'vitest run --ci' } },
      'package-lock.json': NPM_LOCK,
      '.github/workflows/ci.yml':
        'on: push\njobs:\n  t:\n    steps:\n      - run: npm run test:ci\n',
    });
    const { commands } = await detectRepo(root);
    expect(commands.test).toEqual({
      command: 'npm run test:ci',
      confidence: 0.85,
      source: 'package.json',
      evidence: [
        { file: 'package.json', line: 5, text: '"test:ci": "vitest run --ci"' },
        { file: '.github/workflows/ci.yml', line: 5, text: '- run: npm run test:ci' },
      ],
    });
  });

  it('CI running a script body directly (npx vitest run) confirms the script', async () => {
    const root = await repo({
      'package.json': { name: 'a', scripts: { test: 'vitest run' } },
      '.github/workflows/test.yaml': 'jobs:\n  t:\n    steps:\n      - run: npx vitest run\n',
    });
    const { commands } = await detectRepo(root);
    expect(commands.test).toMatchObject({
      command: 'npm run test',
      confidence: 0.95,
      source: 'package.json',
    });
    expect(commands.test?.evidence[1]).toEqual({
      file: '.github/workflows/test.yaml',
      line: 4,
      text: '- run: npx vitest run',
    });
  });

  it('guesses `tsc --noEmit` from a tsconfig and a typescript dependency only', async () => {
    const without = await repo({ 'package.json': { name: 'a' }, 'tsconfig.json': '{}\n' });
    expect((await detectRepo(without)).commands.typecheck).toBeNull();
    const withTs = await repo({
      'package.json': { name: 'a', devDependencies: { typescript: '^5.6.0' } },
      'tsconfig.json': '{}\n',
    });
    expect((await detectRepo(withTs)).commands.typecheck).toMatchObject({
      command: 'npx tsc --noEmit',
      source: 'convention',
      confidence: 0.4,
    });
  });
});

describe('GitHub Actions workflows', () => {
  const workflow = [
    'name: CI', // 1
    'on: [push]', // 2
    'jobs:', // 3
    '  build:', // 4
    '    runs-on: ubuntu-latest', // 5
    '    steps:', // 6
    '      - uses: actions/checkout@v4', // 7
    '      - run: npm ci && npm run build', // 8
    '      - name: checks', // 9
    '        run: |', // 10
    '          # lint first', // 11
    '          npm run lint', // 12
    '', // 13
    '          npx tsc \\', // 14
    '            --noEmit', // 15
    '          if [ "$RUNNER_OS" = Linux ]; then npm test; fi', // 16
    '      - run: "node bench/run.js; echo done"', // 17
    '      - run: pnpm -r build', // 18
    '        working-directory: packages/site', // 19
    '      - run: >-', // 20
    '          npx vitest', // 21
    '          bench --run', // 22
    '  docs:', // 23
    '    defaults:', // 24
    '      run:', // 25
    '        working-directory: ./docs', // 26
    '    steps:', // 27
    '      - run: npm run docs', // 28
  ].join('\n');

  it('splits run steps into commands with their 1-based lines', () => {
    expect(
      parseWorkflow('.github/workflows/ci.yml', workflow).map(({ command, line }) => ({
        command,
        line,
      })),
    ).toEqual([
      { command: 'npm ci', line: 8 },
      { command: 'npm run build', line: 8 },
      { command: 'npm run lint', line: 12 },
      { command: 'npx tsc --noEmit', line: 14 },
      { command: 'npm test', line: 16 },
      { command: 'node bench/run.js', line: 17 },
      { command: 'echo done', line: 17 },
      { command: 'npx vitest bench --run', line: 21 },
    ]);
  });

  it('keeps the source line as evidence text', () => {
    const commands = parseWorkflow('.github/workflows/ci.yml', workflow);
    expect(commands[3]).toEqual({
      command: 'npx tsc --noEmit',
      file: '.github/workflows/ci.yml',
      line: 14,
      text: 'npx tsc \\',
    });
  });

  it("commands after `cd <sub-package>` in a script are not the root's (moderndash)", () => {
    const text = [
      'jobs:',
      '  test:',
      '    steps:',
      '      - run: npm ci',
      '      - run: |',
      '          cd package',
      '          npm run test',
      '      - run: cd ./ && npm run lint',
    ].join('\n');
    expect(parseWorkflow('w.yml', text).map((c) => c.command)).toEqual(['npm ci', 'npm run lint']);
  });

  it('skips a workflow that is not YAML', () => {
    expect(parseWorkflow('w.yml', 'jobs:\n  a: [unclosed\n')).toEqual([]);
  });

  it('keeps `||` and pipes inside one command, quotes intact', () => {
    expect(splitRunScript('npm test || true\necho "a && b; c" | tee x.log')).toEqual([
      { command: 'npm test || true', firstLine: 0 },
      { command: 'echo "a && b; c" | tee x.log', firstLine: 1 },
    ]);
  });

  it('feeds detection: CI-only commands become workflow candidates', async () => {
    const root = await repo({
      'package.json': { name: 'a', scripts: { build: 'tsc' } },
      'package-lock.json': NPM_LOCK,
      '.github/workflows/ci.yml': workflow,
    });
    const { commands } = await detectRepo(root);
    expect(commands.install?.evidence.at(-1)).toEqual({
      file: '.github/workflows/ci.yml',
      line: 8,
      text: '- run: npm ci && npm run build',
    });
    expect(commands.build).toMatchObject({ command: 'npm run build', confidence: 0.95 });
    // lint and test are npm scripts this package.json lacks: still what CI runs.
    expect(commands.lint).toMatchObject({ command: 'npm run lint', source: 'workflow' });
    expect(commands.typecheck).toEqual({
      command: 'npx tsc --noEmit',
      confidence: 0.6,
      source: 'workflow',
      evidence: [{ file: '.github/workflows/ci.yml', line: 14, text: 'npx tsc \\' }],
    });
    expect(commands.test).toMatchObject({ command: 'npm test', source: 'workflow' });
    // the first bench-like command wins
    expect(commands.bench).toMatchObject({ command: 'node bench/run.js', source: 'workflow' });
  });
});

describe('framework', () => {
  it('express with a frontend dependency is not an express app; exports make a library', async () => {
    const mixed = await repo({
      'package.json': {
        name: 'a',
        exports: './index.js',
        dependencies: { express: '4', react: '18' },
      },
    });
    expect((await detectRepo(mixed)).framework).toEqual({
      name: 'library',
      confidence: 0.6,
      evidence: [{ file: 'package.json', line: 3, text: '"exports": "./index.js",' }],
    });
  });

  it('a next.config without the dependency is a weak signal', async () => {
    const root = await repo({
      'package.json': { name: 'a' },
      'next.config.js': 'module.exports = {};\n',
    });
    expect((await detectRepo(root)).framework).toEqual({
      name: 'nextjs',
      confidence: 0.6,
      evidence: [{ file: 'next.config.js', line: 1 }],
    });
  });
});

describe('workspaces', () => {
  it('reads pnpm-workspace.yaml with ** and exclusions', async () => {
    const root = await repo({
      'package.json': { name: 'root', private: true },
      'pnpm-workspace.yaml': "packages:\n  - 'packages/**'\n  - tools/cli\n  - '!**/fixtures/**'\n",
      'packages/a/package.json': { name: 'a' },
      'packages/group/b/package.json': { name: 'b' },
      'packages/group/b/node_modules/dep/package.json': { name: 'dep' },
      'packages/a/fixtures/f/package.json': { name: 'f' },
      'tools/cli/package.json': { name: 'cli' },
    });
    expect((await detectRepo(root)).workspaces).toEqual([
      'packages/a',
      'packages/group/b',
      'tools/cli',
    ]);
  });

  it('reads the { packages } form of package.json workspaces', async () => {
    const root = await repo({
      'package.json': { name: 'root', workspaces: { packages: ['libs/*'], nohoist: ['**/x'] } },
      'libs/one/package.json': { name: 'one' },
      'libs/two/README.txt': 'no package.json',
    });
    expect((await detectRepo(root)).workspaces).toEqual(['libs/one']);
  });

  it("runs the workspace packages' scripts of a kind the root lacks, with the manager's runner", async () => {
    const root = await repo({
      'package.json': {
        name: 'root',
        private: true,
        workspaces: ['packages/*'],
        devDependencies: { typescript: '^5.6.0' },
      },
      'tsconfig.json': { files: [], references: [{ path: 'packages/a' }] },
      'package-lock.json': NPM_LOCK,
      'packages/a/package.json': {
        name: 'a',
        scripts: { bench: 'node bench.js', typecheck: 'tsc --noEmit' },
      },
      'packages/a/bench.js': "console.log('a x 1,000 ops/sec \\xb11.00% (5 runs sampled)');\n",
      'packages/b/package.json': { name: 'b', scripts: { benchmark: 'node bench.js' } },
      'packages/c/package.json': {
        name: 'c',
        scripts: { bench: 'node bench.js', build: 'tsc' },
      },
      'packages/c/bench.js': "console.log('c x 2,000 ops/sec \\xb11.00% (5 runs sampled)');\n",
    });
    const { commands } = await detectRepo(root);
    // `bench` is the name most packages use; b's `benchmark` is not run by it.
    expect(commands.bench).toEqual({
      command: 'npm run bench --workspaces --if-present',
      confidence: 0.6,
      source: 'package.json',
      evidence: [
        { file: 'packages/a/package.json', line: 4, text: expect.stringContaining('"bench"') },
        { file: 'packages/c/package.json', line: 4, text: expect.stringContaining('"bench"') },
      ],
    });
    expect(commands.build?.command).toBe('npm run build --workspaces --if-present');
    // The packages' own type checks beat `tsc --noEmit` guessed from the root's tsconfig.json.
    expect(commands.typecheck?.command).toBe('npm run typecheck --workspaces --if-present');
    expect(commands.test).toBeNull();
    // Real npm runs it in a and c, and skips b, which has no `bench`.
    const ran = spawnSync('sh', ['-c', commands.bench!.command], { cwd: root, encoding: 'utf8' });
    expect(ran.status, ran.stderr).toBe(0);
    expect(ran.stdout).toContain('a x 1,000 ops/sec');
    expect(ran.stdout).toContain('c x 2,000 ops/sec');
  });
});

describe('overrides', () => {
  const base = {
    'package.json': { name: 'a', scripts: { build: 'tsc', test: 'vitest run', lint: 'eslint .' } },
    'package-lock.json': NPM_LOCK,
  };

  it('.patchbay.json wins over detection; the repo settings win over .patchbay.json', async () => {
    const root = await repo({
      ...base,
      '.patchbay.json': {
        packageManager: 'pnpm@9.1.0',
        framework: 'express',
        commands: { test: 'node --test', bench: 'node bench.js', lint: null },
      },
    });
    const result = await detectRepo(root, {
      overrides: { commands: { test: 'npx vitest run --pool=forks' } },
    });
    expect(result.overridden).toBe(true);
    expect(result.packageManager).toEqual({
      name: 'pnpm',
      version: '9.1.0',
      confidence: 1,
      evidence: [{ file: '.patchbay.json', line: 2, text: '"packageManager": "pnpm@9.1.0",' }],
    });
    // scripts are rendered with the overriding package manager
    expect(result.commands.build?.command).toBe('pnpm build');
    expect(result.framework).toMatchObject({ name: 'express', confidence: 1 });
    expect(result.commands.test).toEqual({
      command: 'npx vitest run --pool=forks',
      confidence: 1,
      source: 'override',
      evidence: [],
    });
    expect(result.commands.bench).toEqual({
      command: 'node bench.js',
      confidence: 1,
      source: 'override',
      evidence: [{ file: '.patchbay.json', line: 6, text: '"bench": "node bench.js",' }],
    });
    expect(result.commands.lint).toBeNull();
  });

  it('an empty .patchbay.json overrides nothing', async () => {
    const root = await repo({ ...base, '.patchbay.json': '{}\n' });
    const result = await detectRepo(root);
    expect(result.overridden).toBe(false);
    expect(result.commands.test?.source).toBe('package.json');
  });

  it.each([
    ['not JSON', '{ "commands": ', /\.patchbay\.json is invalid: not valid JSON/],
    ['a wrong type', { commands: { bench: 42 } }, /commands\.bench: .*string/],
    ['an unknown command kind', { commands: { deploy: 'x' } }, /commands/],
    ['an unknown key', { command: { bench: 'x' } }, /command/],
    ['an empty command', { commands: { test: '  ' } }, /commands\.test/],
    ['an unknown manager', { packageManager: 'deno' }, /packageManager: expected npm, pnpm/],
  ])('rejects a .patchbay.json with %s', async (_label, content, message) => {
    const root = await repo({ ...base, '.patchbay.json': content });
    const err = await rejection(detectRepo(root));
    expect(err.code).toBe('OPTIMIZER_CONFIG_INVALID');
    expect(err.status).toBe(400);
    expect(err.message).toMatch(message);
    expect(err.details).toMatchObject({ source: '.patchbay.json' });
  });

  it('rejects invalid settings overrides the same way', async () => {
    const root = await repo(base);
    const err = await rejection(
      detectRepo(root, { overrides: { framework: 'rails' as 'express' } }),
    );
    expect(err.code).toBe('OPTIMIZER_CONFIG_INVALID');
    expect(err.message).toMatch(/repository settings.*framework/);
  });
});

describe('errors', () => {
  it('a broken package.json is OPTIMIZER_PACKAGE_JSON_INVALID', async () => {
    const root = await repo({ 'package.json': '{ "name": "a", }' });
    expect((await rejection(detectRepo(root))).code).toBe('OPTIMIZER_PACKAGE_JSON_INVALID');
    const array = await repo({ 'package.json': '[]' });
    expect((await rejection(detectRepo(array))).code).toBe('OPTIMIZER_PACKAGE_JSON_INVALID');
  });

  it('a missing root is WORKDIR_NOT_FOUND', async () => {
    const err = await rejection(detectRepo(join(tmpdir(), 'patchbay-detect-missing-xyz')));
    expect(err.code).toBe('WORKDIR_NOT_FOUND');
  });
});
