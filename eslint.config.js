// ESLint flat config. Non-type-aware on purpose: it lints the whole repository in a few
// seconds on a 2-core machine; `tsc --noEmit` already covers what type-aware rules would.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

/**
 * Module layering (docs: ARCHITECTURE.md). A module may import only the modules below it
 * in this list, plus itself. `client` sits beside the list: it may import only `contracts`,
 * and only `cli` and `mcp` (whose tools call the HTTP API through it) may import it.
 */
const LAYERS = [
  'cli',
  'server',
  'mcp',
  'engine',
  'optimizer',
  'intake',
  'github',
  'agents',
  'llm',
  'workspaces',
  'exec',
  'queue',
  'store',
  'observability',
  'config',
  'contracts',
];
const MODULES = [...LAYERS, 'client'];

/** Modules `module` may import (itself excluded). */
function allowedImports(module) {
  if (module === 'client') return ['contracts'];
  const below = LAYERS.slice(LAYERS.indexOf(module) + 1);
  return module === 'cli' || module === 'mcp' ? [...below, 'client'] : below;
}

/**
 * Files nested up to this many folders inside a module get exact `../` counting, so a
 * module's own subfolder that happens to share a module's name (`agents/llm/`) is never
 * mistaken for that module. Deeper files fall back to a count-agnostic pattern.
 */
const MAX_EXACT_DEPTH = 5;

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * `no-restricted-imports` patterns for a file in src/<module>/ nested `depth` folders deep
 * (`undefined`: any depth). A relative specifier reaches src/ after depth + 1 `../`.
 */
function boundaryPatterns(module, depth) {
  const up = depth === undefined ? '(?:\\.\\./)+' : '(?:\\.\\./){' + (depth + 1) + '}';
  const allowed = allowedImports(module);
  const forbidden = MODULES.filter((m) => m !== module && !allowed.includes(m));
  const patterns = [];
  if (forbidden.length > 0) {
    patterns.push({
      regex: `^${up}(?:${forbidden.join('|')})(?:/|$)`,
      message:
        `src/${module}/ may import only: ${allowed.join(', ') || '(no other module)'}. ` +
        'Dependencies point down the module list in ARCHITECTURE.md.',
    });
  }
  for (const target of allowed) {
    patterns.push({
      regex: `^${up}${escape(target)}/(?!index\\.js$)`,
      message: `No deep imports into another module: import from '${target}/index.js' (its public surface).`,
    });
  }
  if (module === 'contracts') {
    // Shared with the browser client: zod and nothing else from outside.
    patterns.push({
      regex: '^(?!zod$|\\.)',
      message: 'src/contracts/ may depend on zod only (it is shared with clients).',
    });
  }
  return patterns;
}

/** `import { env } from 'node:process'` is process.env by another name. */
const processEnvImports = ['process', 'node:process'].map((name) => ({
  name,
  importNames: ['env'],
  message: 'Only src/config/ reads the environment; take the value from ResolvedConfig.',
}));

function boundaryRule(module, depth) {
  return [
    'error',
    {
      paths: module === 'config' ? [] : processEnvImports,
      patterns: boundaryPatterns(module, depth),
    },
  ];
}

const boundaryConfigs = MODULES.flatMap((module) => [
  {
    name: `patchbay/boundaries/${module}`,
    files: [`src/${module}/**/*.ts`],
    rules: { 'no-restricted-imports': boundaryRule(module, undefined) },
  },
  // Later blocks win, so the exact-depth blocks override the fallback above.
  ...Array.from({ length: MAX_EXACT_DEPTH + 1 }, (_, depth) => ({
    name: `patchbay/boundaries/${module}/depth-${depth}`,
    files: [`src/${module}/${'*/'.repeat(depth)}*.ts`],
    rules: { 'no-restricted-imports': boundaryRule(module, depth) },
  })),
]);

export default defineConfig(
  {
    name: 'patchbay/ignores',
    // Fixture repositories are other projects (the optimizer's subjects), not our code.
    ignores: [
      'dist/',
      'node_modules/',
      'coverage/',
      'scratch/',
      'web/dist/',
      'test/fixtures/repos/',
      // The scripts that recorded real harness output: other packages' APIs, kept as run.
      'test/fixtures/bench-output/recorded/',
      'test/fixtures/coverage-segments/scripts/*.cjs',
      'test/fixtures/coverage-segments/scripts/*.mjs',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    name: 'patchbay/node-js-files',
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
    },
  },
  {
    name: 'patchbay/base',
    rules: {
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    name: 'patchbay/typescript',
    files: ['**/*.ts', '**/*.tsx', '**/*.mts', '**/*.cts'],
    rules: {
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports' },
      ],
    },
  },
  {
    name: 'patchbay/src',
    files: ['src/**/*.ts'],
    rules: {
      // One pino logger; only the CLI prints to the user (override below).
      'no-console': 'error',
      // Only config/ reads the environment (override below).
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Only src/config/ reads the environment; take the value from ResolvedConfig.',
        },
      ],
    },
  },
  {
    name: 'patchbay/src/cli',
    files: ['src/cli/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
  {
    name: 'patchbay/src/config',
    files: ['src/config/**/*.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    // The dashboard: only the typed client and the contracts' types (zod must not reach the
    // browser), and the test ids, which are plain data.
    name: 'patchbay/web',
    files: ['web/src/**/*.ts', 'web/src/**/*.tsx'],
    rules: {
      'no-console': 'error',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'zod', message: 'The dashboard never ships zod: import types only.' }],
          patterns: [
            {
              regex: '^(?:\\.\\./)+src/(?!client/index\\.js$|contracts/)',
              message:
                'web/ imports only src/client/index.js and src/contracts/ (ARCHITECTURE.md).',
            },
            {
              regex: '^(?:\\.\\./)+src/contracts/(?!test-ids\\.ts$)',
              allowTypeImports: true,
              message: 'web/ takes only types from src/contracts/ (test-ids.ts excepted).',
            },
          ],
        },
      ],
    },
  },
  ...boundaryConfigs,
);
