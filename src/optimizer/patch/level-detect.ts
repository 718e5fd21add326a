/**
 * Reads a repository's language level (level.ts): its lint configs, `engines.node`,
 * tsconfig.json and the syntax its own JavaScript uses. Every source is optional; what is
 * absent sets no limit, what cannot be read (a JavaScript config with computed values) is
 * read for its literal `ecmaVersion`/`esversion` only.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type * as TS from 'typescript';
import { parse as parseYaml } from 'yaml';
import { parseSource, walk } from '../ast/index.js';
import { discoverSourceFiles } from '../scan/discover.js';
import { loadTypeScript, type TypeScript } from '../typescript.js';
import {
  editionName,
  editionOf,
  ES5,
  LATEST,
  nodeEdition,
  type EsYear,
  type LanguageLevel,
  type SyntaxFeature,
} from './level.js';

/** Files read for the "what does the code use" evidence: enough to see the style, bounded. */
const MAX_SAMPLED_FILES = 200;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON with comments and trailing commas (tsconfig, .eslintrc, .jshintrc), via TypeScript. */
function parseLooseJson(ts: TypeScript, text: string): Json | undefined {
  const { config, error } = ts.parseConfigFileTextToJson('config.json', text);
  return !error && isObject(config) ? config : undefined;
}

async function readText(root: string, file: string): Promise<string | undefined> {
  const path = join(root, file);
  return existsSync(path) ? readFile(path, 'utf8').catch(() => undefined) : undefined;
}

interface Cap {
  year: EsYear;
  reason: string;
}

/** ESLint's environments that enable a syntax edition (and its globals). */
function eslintEnvEdition(env: unknown): EsYear | undefined {
  if (!isObject(env)) return undefined;
  let best: EsYear | undefined;
  for (const [name, on] of Object.entries(env)) {
    if (on !== true) continue;
    const year = name === 'es6' ? 2015 : /^es20\d\d$/.test(name) ? editionOf(name) : undefined;
    if (year !== undefined) best = Math.max(best ?? 0, year);
  }
  return best;
}

/**
 * An eslintrc object's syntax edition. eslintrc's default is ES5, so a config that states
 * nothing means ES5, unless it extends a shared config other than `eslint:recommended`
 * (which may set `ecmaVersion` itself: then nothing is known).
 */
function eslintrcCap(config: Json, where: string): Cap | undefined {
  const parserOptions = isObject(config.parserOptions) ? config.parserOptions : {};
  const stated = editionOf(parserOptions.ecmaVersion);
  const env = eslintEnvEdition(config.env);
  const year = Math.max(stated ?? 0, env ?? 0);
  if (year > 0) {
    const how = stated !== undefined ? `ecmaVersion ${String(parserOptions.ecmaVersion)}` : 'env';
    return { year, reason: `${where} ${how}` };
  }
  if (config.parser !== undefined) return undefined; // a custom parser decides
  const ext = config.extends;
  const extended = (Array.isArray(ext) ? ext : ext === undefined ? [] : [ext]).filter(
    (e) => e !== 'eslint:recommended',
  );
  if (extended.length > 0) return undefined;
  return { year: ES5, reason: `${where} states no ecmaVersion (eslintrc defaults to ES5)` };
}

/** jshint: `esversion` (default 5) or the older `esnext: true`. */
function jshintCap(config: Json, where: string): Cap {
  if (config.esnext === true) return { year: 2015, reason: `${where} esnext` };
  const stated = editionOf(config.esversion);
  if (stated !== undefined)
    return { year: stated, reason: `${where} esversion ${String(config.esversion)}` };
  return { year: ES5, reason: `${where} states no esversion (jshint defaults to ES5)` };
}

/** A literal `ecmaVersion: N` or `esversion: N` in a JavaScript config we cannot evaluate. */
function literalCap(text: string, where: string): Cap | undefined {
  const m = /\b(ecmaVersion|esversion)\s*:\s*['"]?(\w+)/.exec(text);
  const year = m ? editionOf(/^\d+$/.test(m[2]!) ? Number(m[2]) : m[2]) : undefined;
  return year === undefined ? undefined : { year, reason: `${where} ${m![1]} ${m![2]}` };
}

async function lintCaps(ts: TypeScript, root: string, pkg: Json | undefined): Promise<Cap[]> {
  const caps: Cap[] = [];
  const add = (cap: Cap | undefined) => cap && caps.push(cap);
  for (const file of ['.eslintrc', '.eslintrc.json']) {
    const text = await readText(root, file);
    const config = text === undefined ? undefined : parseLooseJson(ts, text);
    if (config) add(eslintrcCap(config, file));
  }
  for (const file of ['.eslintrc.yml', '.eslintrc.yaml']) {
    const text = await readText(root, file);
    if (text === undefined) continue;
    try {
      const config: unknown = parseYaml(text);
      if (isObject(config)) add(eslintrcCap(config, file));
    } catch {
      // an unreadable config sets no limit: the lint step will say what is wrong with it
    }
  }
  for (const file of ['.eslintrc.js', '.eslintrc.cjs']) {
    const text = await readText(root, file);
    if (text !== undefined) add(literalCap(text, file));
  }
  for (const file of ['eslint.config.js', 'eslint.config.mjs', 'eslint.config.cjs']) {
    // Flat config defaults to the latest edition: only a literal ecmaVersion limits it.
    const text = await readText(root, file);
    if (text !== undefined)
      add(literalCap(text, file) ?? { year: LATEST, reason: `${file} (latest edition)` });
  }
  if (pkg && isObject(pkg.eslintConfig))
    add(eslintrcCap(pkg.eslintConfig, 'package.json eslintConfig'));
  const jshintrc = await readText(root, '.jshintrc');
  const jshint = jshintrc === undefined ? undefined : parseLooseJson(ts, jshintrc);
  if (jshint) add(jshintCap(jshint, '.jshintrc'));
  if (pkg && isObject(pkg.jshintConfig))
    add(jshintCap(pkg.jshintConfig, 'package.json jshintConfig'));
  return caps;
}

/** The lowest Node.js major an `engines.node` range admits (`>=0.10`, `^14 || >=16`). */
export function lowestNodeMajor(range: string): number | undefined {
  let lowest: number | undefined;
  for (const alt of range.split('||')) {
    const m = /(\d+)(?:\.(\d+))?/.exec(alt);
    if (!m) return undefined; // `*` or `x`: any version, so no limit can be drawn
    const major = Number(m[1]);
    lowest = Math.min(lowest ?? Infinity, major);
  }
  return lowest;
}

function enginesCap(pkg: Json | undefined): Cap | undefined {
  const engines = pkg && isObject(pkg.engines) ? pkg.engines : undefined;
  const range = engines && typeof engines.node === 'string' ? engines.node : undefined;
  const major = range === undefined ? undefined : lowestNodeMajor(range);
  if (major === undefined) return undefined;
  return { year: nodeEdition(major), reason: `engines.node ${range}` };
}

/** tsconfig.json's built-ins: the highest ES `lib` listed, else its `target`. */
function tsconfigBuiltins(config: Json | undefined): Cap | undefined {
  const options = config && isObject(config.compilerOptions) ? config.compilerOptions : undefined;
  if (!options) return undefined;
  if (Array.isArray(options.lib)) {
    const years = options.lib
      .map((l) => (typeof l === 'string' ? editionOf(l.toLowerCase().split('.')[0]!) : undefined))
      .filter((y): y is EsYear => y !== undefined);
    if (years.length > 0)
      return {
        year: Math.max(...years),
        reason: `tsconfig.json lib ${editionName(Math.max(...years))}`,
      };
  }
  const target = editionOf(options.target);
  return target === undefined
    ? undefined
    : { year: target, reason: `tsconfig.json target ${String(options.target)}` };
}

/** Which syntax features a parsed file uses. */
export function featuresOf(ts: TypeScript, sf: TS.SourceFile): Set<SyntaxFeature> {
  const found = new Set<SyntaxFeature>();
  walk(ts, sf, (n) => {
    if (ts.isVariableDeclarationList(n) && n.flags & (ts.NodeFlags.Let | ts.NodeFlags.Const))
      found.add('blockBindings');
    else if (ts.isArrowFunction(n)) found.add('arrows');
    else if (ts.isTemplateExpression(n) || ts.isNoSubstitutionTemplateLiteral(n))
      found.add('templates');
    else if (ts.isForOfStatement(n)) found.add('forOf');
    else if (ts.isClassLike(n)) found.add('classes');
    else if (ts.isSpreadElement(n) || ts.isSpreadAssignment(n)) found.add('spread');
    else if (ts.isShorthandPropertyAssignment(n)) found.add('shorthand');
    else if ('questionDotToken' in n && n.questionDotToken) found.add('optionalChaining');
    else if (
      ts.isBinaryExpression(n) &&
      n.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken
    )
      found.add('nullishCoalescing');
  });
  return found;
}

/**
 * The repository's language level: the lowest syntax cap of its lint configs and
 * `engines.node`, the built-ins of `engines.node` (and of tsconfig.json for TypeScript), and
 * the features its own JavaScript uses (at most 200 files read).
 *
 * @example
 *   const level = await detectLanguageLevel('/repo'); // an ES5 library with a .jshintrc
 *   fileLevel(level, 'lib/index.js').allows('blockBindings'); // false: templates write `var`
 */
export async function detectLanguageLevel(root: string): Promise<LanguageLevel> {
  const ts = await loadTypeScript();
  const pkgText = await readText(root, 'package.json');
  const pkg = pkgText === undefined ? undefined : parseLooseJson(ts, pkgText);
  const lint = await lintCaps(ts, root, pkg);
  const engines = enginesCap(pkg);
  const syntaxCaps = [...lint, ...(engines ? [engines] : [])];
  const lowest = syntaxCaps.reduce<Cap | undefined>(
    (low, c) => (low === undefined || c.year < low.year ? c : low),
    undefined,
  );
  const tsconfigText = await readText(root, 'tsconfig.json');
  const tsCap = tsconfigBuiltins(
    tsconfigText === undefined ? undefined : parseLooseJson(ts, tsconfigText),
  );

  const uses: Partial<Record<SyntaxFeature, boolean>> = {};
  const files = (await discoverSourceFiles(root).catch(() => [] as string[]))
    .filter((f) => /\.[cm]?jsx?$/.test(f))
    .slice(0, MAX_SAMPLED_FILES);
  for (const file of files) {
    const text = await readText(root, file);
    if (text === undefined) continue;
    for (const f of featuresOf(ts, parseSource(ts, file, text))) uses[f] = true;
  }
  const builtinsCaps = [engines, ...lint].filter((c): c is Cap => c !== undefined);
  const builtins = Math.min(LATEST, ...builtinsCaps.map((c) => c.year));
  const tsBuiltins = Math.min(
    LATEST,
    ...[engines, tsCap].filter((c): c is Cap => c !== undefined).map((c) => c.year),
  );
  const reasons = [
    ...(lowest && lowest.year < LATEST ? [lowest.reason] : []),
    ...(tsCap && tsCap.year < LATEST ? [tsCap.reason] : []),
  ];
  return {
    syntaxCap: lowest?.year ?? LATEST,
    explicitSyntax: lint.length > 0,
    builtins,
    tsBuiltins,
    uses,
    reasons,
  };
}
