/**
 * The language level a rewrite may use, so a template never writes syntax the repository's lint
 * refuses (an ES5 library gets `var`, function expressions and indexed loops) nor calls a
 * built-in its declared runtime or TypeScript `lib` lacks. Detection (reading the repository)
 * is in `level-detect.ts`; this file is the model the templates ask.
 *
 * Two axes, because TypeScript lowers syntax but not built-ins:
 * - **syntax** (JavaScript files only): the lowest of what the lint config accepts (eslint
 *   `ecmaVersion`/`env`, jshint `esversion`/`esnext`) and what `engines.node` runs; a feature
 *   is emitted only when that cap allows it and either the code already uses it or a config
 *   says so explicitly. TypeScript files may use any syntax: tsc lowers it to its `target`.
 * - **built-ins** (`Set`, `Map`, `startsWith`, `flatMap`…): the lowest of `engines.node`, the
 *   lint's environment, and for TypeScript files the `lib` (or `target`) of tsconfig.json.
 */

/** ECMAScript editions as years; ES5 is 5. */
export type EsYear = number;
export const ES5: EsYear = 5;
export const LATEST: EsYear = 2024;

/** The syntax features templates emit, with the edition that introduced each. */
export const SYNTAX_FEATURES = {
  blockBindings: 2015,
  arrows: 2015,
  templates: 2015,
  forOf: 2015,
  classes: 2015,
  spread: 2015,
  shorthand: 2015,
  optionalChaining: 2020,
  nullishCoalescing: 2020,
} as const;
export type SyntaxFeature = keyof typeof SYNTAX_FEATURES;

export interface LanguageLevel {
  /** Highest syntax edition the lint and the runtime accept in JavaScript files. */
  syntaxCap: EsYear;
  /** True when a config states the syntax cap (then features up to it need no usage evidence). */
  explicitSyntax: boolean;
  /** Highest built-in edition JavaScript files may call. */
  builtins: EsYear;
  /** Highest built-in edition TypeScript files may call (tsconfig `lib` / `target`). */
  tsBuiltins: EsYear;
  /** Syntax features the repository's own JavaScript already uses. */
  uses: Partial<Record<SyntaxFeature, boolean>>;
  /** Where each limit comes from, for refusals and the report: `.jshintrc esversion 5`. */
  reasons: string[];
}

/** What a template may write in one file. */
export interface FileLevel {
  allows(feature: SyntaxFeature): boolean;
  /** Built-in edition available: `builtins >= 2015` means `Set`, `Map`, `startsWith`… */
  builtins: EsYear;
  /** Short reason for a refusal: "ES5 (.jshintrc esversion 5)". */
  describe(): string;
}

/** No limits: what a repository gets when nothing is known (and the default in tests). */
export const MODERN: LanguageLevel = {
  syntaxCap: LATEST,
  explicitSyntax: true,
  builtins: LATEST,
  tsBuiltins: LATEST,
  uses: {},
  reasons: [],
};

const isTypeScriptFile = (file: string): boolean => /\.[cm]?tsx?$/.test(file);

export function editionName(year: EsYear): string {
  return year <= ES5 ? 'ES5' : year >= LATEST ? 'ESNext' : `ES${year}`;
}

/** The level for one file of the repository. */
export function fileLevel(level: LanguageLevel, file: string): FileLevel {
  const ts = isTypeScriptFile(file);
  const builtins = ts ? level.tsBuiltins : level.builtins;
  return {
    allows(feature) {
      if (ts) return true;
      const year = SYNTAX_FEATURES[feature];
      if (level.syntaxCap < year) return false;
      return level.uses[feature] === true || level.explicitSyntax;
    },
    builtins,
    describe() {
      const year = ts ? builtins : Math.min(level.syntaxCap, builtins);
      const why = level.reasons.length > 0 ? ` (${level.reasons.join('; ')})` : '';
      return `${editionName(year)}${why}`;
    },
  };
}

/** Built-ins the templates call, with the edition that brought them. */
export const BUILTIN_YEAR = {
  Set: 2015,
  Map: 2015,
  'Object.assign': 2015,
  'String#startsWith': 2015,
  'String#endsWith': 2015,
  'String#includes': 2015,
  'Array#find': 2015,
  'Array#includes': 2016,
  'Array#flatMap': 2019,
} as const;
export type Builtin = keyof typeof BUILTIN_YEAR;

/** Why `file` cannot call `builtin`, or undefined when it can. */
export function builtinProblem(level: FileLevel, builtin: Builtin): string | undefined {
  if (level.builtins >= BUILTIN_YEAR[builtin]) return undefined;
  return `the rewrite needs ${builtin} (${editionName(BUILTIN_YEAR[builtin])}), which the repository's level does not have: ${level.describe()}`;
}

/** Minimal editions of the Node.js releases that first had (nearly) all of an edition. */
const NODE_EDITIONS: readonly [number, EsYear][] = [
  [18, 2022],
  [16, 2021],
  [14, 2020],
  [12, 2019],
  [10, 2018],
  [8, 2017],
  [6, 2016],
  [4, 2015],
];

/** The edition a Node.js major version runs (0.x → ES5). */
export function nodeEdition(major: number): EsYear {
  for (const [node, year] of NODE_EDITIONS) if (major >= node) return year;
  return ES5;
}

/** An ECMAScript version as configs write it (5, 6, 2015, 'es6', 'es2017', 'latest') → year. */
export function editionOf(value: unknown): EsYear | undefined {
  if (typeof value === 'number') {
    if (value <= 5) return ES5;
    if (value < 2015) return Math.min(2009 + value, LATEST);
    return Math.min(value, LATEST);
  }
  if (typeof value !== 'string') return undefined;
  const v = value.toLowerCase().trim();
  if (v === 'latest' || v === 'esnext') return LATEST;
  const m = /^(?:es)?(\d+)$/.exec(v);
  return m ? editionOf(Number(m[1])) : undefined;
}
