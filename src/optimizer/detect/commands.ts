import {
  CommandKind,
  type DetectedCommand,
  type DetectResult,
  type Evidence,
} from '../../contracts/index.js';
import type { PackageManagerName } from './overrides.js';
import type { PackageJson } from './package-json.js';
import type { WorkflowCommand } from './workflows.js';

/** The kinds a package.json script or a CI step can provide (install comes from the manager). */
export type ScriptKind = Exclude<CommandKind, 'install'>;

/**
 * Conventional script names per kind, best first: the first name ranks 0, the others 1.
 * Names that only start with a prefix below rank 2, a script found by its body ranks 3.
 */
const SCRIPT_NAMES: Record<ScriptKind, readonly string[]> = {
  build: ['build', 'compile', 'build:all', 'build:prod'],
  typecheck: [
    'typecheck',
    'type-check',
    'tsc',
    'check-types',
    'types',
    'types:check',
    'check:types',
    'typecheck:all',
    'lint:types',
  ],
  lint: ['lint', 'eslint', 'lint:all', 'lint:js', 'lint:ts', 'lint:check'],
  test: ['test', 'test:unit', 'tests', 'unit', 'test:all', 'test:ci'],
  bench: ['bench', 'benchmark', 'benchmarks', 'perf', 'bench:all', 'benchmark:all'],
};

const SCRIPT_PREFIXES: readonly [RegExp, ScriptKind][] = [
  [/^(bench|benchmarks?|perf)[:-]/, 'bench'],
  [/^test[:-]/, 'test'],
  [/^build[:-]/, 'build'],
];

/** `tsc --noEmit` (or `vue-tsc … --noEmit`) anywhere in a script makes it a type check. */
const TSC_NO_EMIT = /(^|[\s/&;|])(vue-)?tsc\b[^&;|]*--noEmit\b/;

/** A script named for what it prepares (`benchmark-deps`, `bench:install`) or for docs (`build:docs-data`): not the command. */
const SETUP_SUFFIX = /[:-](?:deps|install|setup|prepare|clean)$|[:-]docs\b/;

/** npm's placeholder `test` script only fails: it is not a test command. */
const NPM_PLACEHOLDER_TEST = /no test specified/;

export interface ScriptMatch {
  readonly kind: ScriptKind;
  /** 0 the conventional name, 1 another known name, 2 a prefix, 3 found by its body. */
  readonly rank: number;
}

/** What kind of command a script is, by its name, else by its body. */
export function classifyScript(name: string, body = ''): ScriptMatch | undefined {
  if (NPM_PLACEHOLDER_TEST.test(body)) return undefined;
  for (const kind of Object.keys(SCRIPT_NAMES) as ScriptKind[]) {
    const index = SCRIPT_NAMES[kind].indexOf(name);
    if (index >= 0) return { kind, rank: index === 0 ? 0 : 1 };
  }
  // `benchmark-deps`, `bench:install`, `test:setup`: a step that prepares one, not the command.
  if (SETUP_SUFFIX.test(name)) return undefined;
  for (const [pattern, kind] of SCRIPT_PREFIXES) {
    if (pattern.test(name)) return { kind, rank: 2 };
  }
  if (TSC_NO_EMIT.test(body)) return { kind: 'typecheck', rank: 3 };
  return undefined;
}

const MANAGERS = new Set(['npm', 'pnpm', 'yarn', 'bun']);

/** Subcommands each manager owns; `pnpm <name>` / `yarn <name>` runs a script only otherwise. */
const BUILTINS: Record<PackageManagerName, ReadonlySet<string>> = {
  npm: new Set(),
  pnpm: new Set(
    'add audit bin config create deploy dlx env exec import init install i link list ls outdated pack patch prune publish rebuild remove rm root server setup store unlink update up why'.split(
      ' ',
    ),
  ),
  yarn: new Set(
    'add audit bin cache config create dlx exec info init install link npm pack patch plugin remove set unlink up upgrade version why workspace workspaces'.split(
      ' ',
    ),
  ),
  bun: new Set(),
};

/** How `manager` runs the package.json script `name`. */
export function renderScript(manager: PackageManagerName, name: string): string {
  switch (manager) {
    case 'npm':
      return `npm run ${name}`;
    case 'bun':
      return `bun run ${name}`;
    case 'pnpm':
    case 'yarn':
      return BUILTINS[manager].has(name) ? `${manager} run ${name}` : `${manager} ${name}`;
  }
}

/** `vitest` alone (or with options) is watch mode outside CI; `run` and `bench` are not. */
const BARE_VITEST = /^vitest(?:\s+(?!run\b|bench\b|watch\b|dev\b)-[^&|;<>]*)?$/;

/**
 * How the optimizer runs the test script `name`: as tests, once. With npm, its `pre<name>`
 * and `post<name>` hooks are left out (`--ignore-scripts`, which npm still lets run the script
 * itself) unless a CI workflow runs the script through npm, hooks and all: a `posttest` lint
 * or a `pretest` coverage upload is not a test, and a lint failure must not count as a
 * broken candidate (a `pretest` build is covered by the build step, which runs first). A
 * script that is `vitest` without a subcommand gets `--run`, so it never waits in watch mode
 * (the steps also run with CI=true, which the other runners honour).
 */
export function renderTestScript(
  manager: PackageManagerName,
  name: string,
  scripts: Readonly<Record<string, string>>,
  workflows: readonly WorkflowCommand[],
): string {
  const plain = renderScript(manager, name);
  if (manager !== 'npm') return plain;
  const hasHooks = Object.hasOwn(scripts, `pre${name}`) || Object.hasOwn(scripts, `post${name}`);
  const ciRunsHooks = workflows.some((w) => {
    const invocation = parseInvocation(w.command, scripts);
    return invocation?.type === 'script' && invocation.script === name;
  });
  const command = hasHooks && !ciRunsHooks ? `${plain} --ignore-scripts` : plain;
  return BARE_VITEST.test((scripts[name] ?? '').trim()) ? `${command} -- --run` : command;
}

/** `vitest bench` without `--run` waits in watch mode when it has a terminal. */
const BARE_VITEST_BENCH = /^vitest bench\b(?![^&|;<>]*--run\b)[^&|;<>]*$/;

/** How the optimizer runs the bench script `name`: once, never in watch mode. */
export function renderBenchScript(
  manager: PackageManagerName,
  name: string,
  scripts: Readonly<Record<string, string>>,
): string {
  const plain = renderScript(manager, name);
  if (!BARE_VITEST_BENCH.test((scripts[name] ?? '').trim())) return plain;
  return manager === 'npm' ? `${plain} -- --run` : `${plain} --run`;
}

/** A word for `sh`: as is when it is plain, else single-quoted. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * How `manager` runs the script `name` in every workspace package that has it, from the root.
 * Yarn's runners differ between 1.x and later (and 1.x has no "if present"), so for yarn the
 * packages are named one by one.
 */
export function renderWorkspacesScript(
  manager: PackageManagerName,
  name: string,
  dirs: readonly string[],
): string {
  switch (manager) {
    case 'npm':
      return `npm run ${name} --workspaces --if-present`;
    case 'pnpm':
      return `pnpm -r --if-present run ${name}`;
    case 'bun':
      return `bun run --filter '*' ${name}`;
    case 'yarn':
      return dirs.map((dir) => `(cd ${shellWord(dir)} && yarn run ${name})`).join(' && ');
  }
}

/** How `manager` installs dependencies without rewriting the lockfile where it can. */
export function renderInstall(manager: PackageManagerName): string {
  switch (manager) {
    case 'npm':
      return 'npm install';
    case 'pnpm':
      return 'pnpm install --frozen-lockfile';
    case 'yarn':
      return 'yarn install --frozen-lockfile';
    case 'bun':
      return 'bun install';
  }
}

/** How `manager` runs a binary of the installed dependencies. */
export function renderExec(manager: PackageManagerName, command: string): string {
  switch (manager) {
    case 'npm':
      return `npx ${command}`;
    case 'pnpm':
      return `pnpm exec ${command}`;
    case 'yarn':
      return `yarn ${command}`;
    case 'bun':
      return `bunx ${command}`;
  }
}

/** What a shell command from CI does, as far as detection cares. */
export type Invocation =
  | { readonly type: 'install'; readonly manager: PackageManagerName }
  | { readonly type: 'script'; readonly script: string }
  | { readonly type: 'tool'; readonly kind: ScriptKind | undefined; readonly normalized: string };

const FLAGS_WITH_VALUE = new Set([
  '--filter',
  '-F',
  '-w',
  '--workspace',
  '-C',
  '--dir',
  '--prefix',
]);

/** Drop leading flags (and the values of those that take one) before a subcommand. */
function dropLeadingFlags(tokens: string[]): string[] {
  let i = 0;
  while (i < tokens.length && (tokens[i] ?? '').startsWith('-')) {
    i += FLAGS_WITH_VALUE.has(tokens[i] ?? '') ? 2 : 1;
  }
  return tokens.slice(i);
}

/**
 * Classify one shell command: a dependency install, a package.json script run through a
 * package manager, or a tool run directly (`npx vitest run`, `tsc --noEmit`), whose kind is
 * guessed from the tool. `scripts` tells `pnpm vitest` (a binary) from `pnpm bench` (a script).
 */
export function parseInvocation(
  command: string,
  scripts: Readonly<Record<string, string>>,
): Invocation | undefined {
  let tokens = command.split(' ').filter((t) => t !== '');
  while (tokens[0] !== undefined && /^[A-Za-z_][A-Za-z0-9_]*=/.test(tokens[0])) {
    tokens = tokens.slice(1); // CI=true npm test
  }
  const head = tokens[0];
  if (head === undefined) return undefined;
  if (head === 'npx' || head === 'bunx') {
    return tool(dropLeadingFlags(tokens.slice(1)));
  }
  if (!MANAGERS.has(head)) return tool(tokens);

  const manager = head as PackageManagerName;
  const rest = dropLeadingFlags(tokens.slice(1));
  const sub = rest[0];
  // `npm run x` always means a script; `pnpm x` / `bun run x` mean the script when there is
  // one, else a binary or file, unless x is a conventional script name (a workspace's script).
  const runTarget = (
    name: string | undefined,
    args: string[],
    alwaysScript = false,
  ): Invocation | undefined => {
    if (name === undefined) return undefined;
    return alwaysScript || Object.hasOwn(scripts, name) || classifyScript(name)
      ? { type: 'script', script: name }
      : tool([name, ...args]);
  };
  switch (manager) {
    case 'npm':
      if (sub === undefined) return undefined;
      if (['ci', 'install', 'i', 'clean-install', 'install-clean'].includes(sub)) {
        return { type: 'install', manager };
      }
      if (['run', 'run-script', 'rum', 'urn'].includes(sub)) return runTarget(rest[1], [], true);
      if (['test', 't', 'tst'].includes(sub)) return { type: 'script', script: 'test' };
      if (sub === 'exec' || sub === 'x') return tool(dropLeadingFlags(rest.slice(1)));
      return undefined;
    case 'bun':
      if (sub === 'install' || sub === 'i') return { type: 'install', manager };
      // `bun test` is bun's own test runner, not the script.
      if (sub === 'test') return tool(['bun', ...rest]);
      if (sub === 'run') return runTarget(rest[1], rest.slice(2));
      if (sub === 'x') return tool(rest.slice(1));
      return undefined;
    case 'pnpm':
    case 'yarn':
      if (sub === undefined) return manager === 'yarn' ? { type: 'install', manager } : undefined;
      if (sub === 'install' || (manager === 'pnpm' && sub === 'i')) {
        return { type: 'install', manager };
      }
      if (sub === 'run' || sub === 'run-script') return runTarget(rest[1], rest.slice(2), true);
      if (sub === 'exec' || sub === 'dlx') return tool(dropLeadingFlags(rest.slice(1)));
      if (BUILTINS[manager].has(sub)) return undefined;
      return runTarget(sub, rest.slice(1));
  }
}

/** Guess the kind of a directly run tool from its name and arguments. */
function tool(tokens: string[]): Invocation | undefined {
  if (tokens.length === 0) return undefined;
  const normalized = tokens.join(' ');
  const bin = (tokens[0] ?? '').split('/').pop() ?? '';
  const args = tokens.slice(1);
  const has = (...words: string[]): boolean => words.some((w) => args.includes(w));
  let kind: ScriptKind | undefined;
  if (bin === 'c8' || bin === 'nyc') {
    // coverage wrappers: the kind of what they wrap
    const inner = tool(dropLeadingFlags(args));
    kind = inner?.type === 'tool' ? inner.kind : undefined;
  } else if (bin === 'tsc' || bin === 'vue-tsc') {
    kind = has('--noEmit') ? 'typecheck' : 'build';
  } else if (bin === 'vitest') {
    kind = has('bench') ? 'bench' : 'test';
  } else if (
    ['jest', 'mocha', 'ava', 'tap', 'uvu'].includes(bin) ||
    (bin === 'bun' && has('test'))
  ) {
    kind = 'test';
  } else if (bin === 'node' && has('--test')) {
    kind = 'test';
  } else if (['eslint', 'oxlint', 'tslint', 'xo', 'standard'].includes(bin)) {
    kind = 'lint';
  } else if (bin === 'biome' && has('lint', 'check', 'ci')) {
    kind = 'lint';
  } else if (['vite', 'next', 'nest'].includes(bin) && args[0] === 'build') {
    kind = 'build';
  } else if (bin === 'next' && args[0] === 'lint') {
    kind = 'lint';
  } else if (['tsup', 'rollup', 'webpack', 'unbuild', 'esbuild'].includes(bin)) {
    kind = 'build';
  } else if (/bench|perf/.test(normalized) && !/^(echo|cat|ls|mkdir|rm)$/.test(bin)) {
    kind = 'bench';
  }
  return { type: 'tool', kind, normalized };
}

/** A script's body as a tool invocation, to recognise `npx vitest run` in CI as `vitest run`. */
function normalizedBody(body: string): string | undefined {
  const invocation = parseInvocation(body.trim().replace(/\s+/g, ' '), {});
  return invocation?.type === 'tool' ? invocation.normalized : undefined;
}

/** Confidence of a package.json script by rank, before CI confirms it. */
const SCRIPT_CONFIDENCE = [0.8, 0.7, 0.6, 0.6] as const;
/** What CI running the same command adds. */
const CI_CONFIRMATION = 0.15;
/** A command seen only in CI. */
const WORKFLOW_CONFIDENCE = 0.6;
/** `tsc --noEmit` guessed from a tsconfig.json and a typescript dependency. */
const CONVENTION_TYPECHECK_CONFIDENCE = 0.4;

export interface ResolveCommandsInput {
  readonly pkg: PackageJson | undefined;
  readonly packageManager: DetectResult['packageManager'];
  readonly workflows: readonly WorkflowCommand[];
  /** Evidence of a tsconfig.json at the root, when there is one. */
  readonly tsconfig: Evidence | undefined;
}

type Commands = Record<CommandKind, DetectedCommand | null>;

interface ScriptCandidate {
  readonly name: string;
  readonly match: ScriptMatch;
  readonly ci: Evidence[];
}

function ciEvidence(w: WorkflowCommand): Evidence {
  return { file: w.file, line: w.line, text: w.text };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/**
 * One command per kind from package.json scripts, CI workflows and conventions (overrides
 * are applied by the caller). A script CI also runs beats one it does not; a script beats a
 * CI-only command; a CI-only command beats a convention.
 */
export function resolveCommands(input: ResolveCommandsInput): Commands {
  const { pkg, packageManager, workflows, tsconfig } = input;
  const manager = packageManager.name;
  const scripts = pkg?.scripts ?? {};

  const candidates = new Map<string, ScriptCandidate>();
  for (const [name, body] of Object.entries(scripts)) {
    const match = classifyScript(name, body);
    if (match) candidates.set(name, { name, match, ci: [] });
  }
  const bodies = new Map<string, string>();
  for (const name of candidates.keys()) {
    const normalized = normalizedBody(scripts[name] ?? '');
    if (normalized !== undefined && !bodies.has(normalized)) bodies.set(normalized, name);
  }

  const install: Evidence[] = [];
  const ciOnly = new Map<ScriptKind, { command: string; evidence: Evidence[] }>();
  for (const w of workflows) {
    const invocation = parseInvocation(w.command, scripts);
    if (!invocation) continue;
    if (invocation.type === 'install') {
      if (invocation.manager === manager) install.push(ciEvidence(w));
      continue;
    }
    const scriptName =
      invocation.type === 'script' ? invocation.script : bodies.get(invocation.normalized);
    const candidate = scriptName === undefined ? undefined : candidates.get(scriptName);
    if (candidate) {
      candidate.ci.push(ciEvidence(w));
      continue;
    }
    const kind =
      invocation.type === 'script' ? classifyScript(invocation.script)?.kind : invocation.kind;
    if (kind === undefined) continue;
    const existing = ciOnly.get(kind);
    if (!existing) ciOnly.set(kind, { command: w.command, evidence: [ciEvidence(w)] });
    else if (existing.command === w.command) existing.evidence.push(ciEvidence(w));
  }

  const commands = Object.fromEntries(CommandKind.options.map((k) => [k, null])) as Commands;
  commands.install = {
    command: renderInstall(manager),
    confidence: round(
      Math.min(0.95, packageManager.confidence + (install.length > 0 ? CI_CONFIRMATION : 0)),
    ),
    source: 'convention',
    evidence: [...packageManager.evidence, ...install],
  };

  for (const kind of CommandKind.options) {
    if (kind === 'install') continue;
    const scored = [...candidates.values()]
      .filter((c) => c.match.kind === kind)
      .map((c) => ({
        c,
        confidence:
          SCRIPT_CONFIDENCE[c.match.rank as 0 | 1 | 2 | 3] +
          (c.ci.length > 0 ? CI_CONFIRMATION : 0),
      }))
      .sort((a, b) => b.confidence - a.confidence || a.c.match.rank - b.c.match.rank);
    const best = scored[0];
    if (best && pkg) {
      commands[kind] = {
        command:
          kind === 'test'
            ? renderTestScript(manager, best.c.name, scripts, workflows)
            : kind === 'bench'
              ? renderBenchScript(manager, best.c.name, scripts)
              : renderScript(manager, best.c.name),
        confidence: round(best.confidence),
        source: 'package.json',
        evidence: [...pkg.evidence('scripts', best.c.name), ...best.c.ci],
      };
      continue;
    }
    const fromCi = ciOnly.get(kind);
    if (fromCi) {
      commands[kind] = {
        command: fromCi.command,
        confidence: WORKFLOW_CONFIDENCE,
        source: 'workflow',
        evidence: fromCi.evidence,
      };
      continue;
    }
    if (kind === 'typecheck' && tsconfig && pkg?.dependencies.has('typescript')) {
      const dep = pkg.dependencies.get('typescript');
      commands.typecheck = {
        command: renderExec(manager, 'tsc --noEmit'),
        confidence: CONVENTION_TYPECHECK_CONFIDENCE,
        source: 'convention',
        evidence: [tsconfig, ...(dep ? pkg.evidence(dep.section, 'typescript') : [])],
      };
    }
  }
  return commands;
}

/** A workspace package's commands count for less than the root's own scripts. */
const WORKSPACE_CONFIDENCE = 0.6;

/**
 * In a monorepo whose root has no command of a kind, the workspace packages' own scripts of
 * that kind, run from the root by the manager's workspace runner. The script name most
 * packages use wins (ties: the more conventional name); every package that has it is evidence.
 * Mutates `commands`; kinds the root has a script or CI command for are left alone.
 */
export function addWorkspaceCommands(
  commands: Commands,
  manager: PackageManagerName,
  members: readonly PackageJson[],
): void {
  for (const kind of CommandKind.options) {
    // A guess (`tsc --noEmit` at the root of a monorepo checks little) yields to the packages.
    if (kind === 'install' || (commands[kind] && commands[kind].source !== 'convention')) continue;
    const byName = new Map<string, { rank: number; members: PackageJson[] }>();
    for (const member of members) {
      const own = Object.entries(member.scripts)
        .map(([name, body]) => ({ name, match: classifyScript(name, body) }))
        .filter((x) => x.match?.kind === kind)
        .sort((a, b) => a.match!.rank - b.match!.rank || a.name.localeCompare(b.name))[0];
      if (!own) continue;
      const entry = byName.get(own.name) ?? { rank: own.match!.rank, members: [] };
      entry.members.push(member);
      byName.set(own.name, entry);
    }
    const [best] = [...byName.entries()].sort(
      ([an, a], [bn, b]) =>
        b.members.length - a.members.length || a.rank - b.rank || an.localeCompare(bn),
    );
    if (!best) continue;
    const [name, { members: having }] = best;
    commands[kind] = {
      command: renderWorkspacesScript(
        manager,
        name,
        having.map((m) => m.file.replace(/\/package\.json$/, '')),
      ),
      confidence: WORKSPACE_CONFIDENCE,
      source: 'package.json',
      evidence: having.flatMap((m) => m.evidence('scripts', name)),
    };
  }
}
