/**
 * Renderers for the generated reference pages. They are pure (no I/O) so a test can compare
 * their output with the committed files; `scripts/gen-docs.ts` writes them (`npm run docs`).
 */
import { z } from 'zod';
import {
  CONFIG_FILE_NAME,
  CONFIG_PATH_ENV,
  settings,
  type SettingKey,
  type SettingSpec,
} from '../src/config/index.js';
import { errorCatalog, type ErrorCode, type ErrorKind } from '../src/contracts/index.js';
import { RULES, TEMPLATES } from '../src/optimizer/index.js';

/** Files this module renders, relative to the repository root. */
export const generatedDocs = {
  'docs/config.md': renderConfigDoc,
  'docs/errors.md': renderErrorsDoc,
  'docs/optimizer-rules.md': renderRulesDoc,
} as const satisfies Record<string, () => string>;

const banner = (source: string): string =>
  `<!-- Generated from ${source} by \`npm run docs\`. Do not edit by hand: a test fails when it is stale. -->`;

/**
 * CLI flags that set a setting directly. Kept by hand because commander options are not
 * declared in the schema; the loader maps a flag to the setting with the same key.
 */
const cliFlags: Partial<Record<SettingKey, string>> = {
  host: '`patchbay serve --host <host>`',
  port: '`patchbay serve --port <port>`',
  dataDir: '`patchbay serve --data-dir <dir>`',
  url: '`--url <url>` (any command)',
};

/**
 * Markdown-safe text for a table cell or paragraph: `|` would split a table cell and a bare
 * `<name>` would be swallowed as an HTML tag, except inside code spans.
 */
function inline(text: string): string {
  return text
    .split('`')
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, '&lt;').replace(/>/g, '&gt;')))
    .join('`')
    .replace(/\|/g, '\\|')
    .replace(/\s*\n\s*/g, ' ');
}

const code = (text: string): string => `\`${text}\``;

/** A short human description of what a setting's schema accepts. */
export function describeSchema(schema: z.ZodType): string {
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodOptional) {
    return describeSchema(schema.unwrap() as z.ZodType);
  }
  if (schema instanceof z.ZodPipe) return describeSchema(schema.out as z.ZodType);
  if (schema instanceof z.ZodEnum) {
    return `one of ${schema.options.map((o) => code(String(o))).join(', ')}`;
  }
  if (schema instanceof z.ZodArray) {
    return `list of ${describeSchema(schema.element as z.ZodType)}s (comma-separated in env, JSON array in the file)`;
  }
  if (schema instanceof z.ZodBoolean)
    return 'boolean (`false`, `0`, `no`, `off` or empty are false)';
  if (schema instanceof z.ZodNumber) {
    const kind = schema.isInt ? 'integer' : 'number';
    const { minValue: min, maxValue: max } = schema;
    // `.int()` implies ±MAX_SAFE_INTEGER bounds; those are not worth documenting.
    const bounded = (v: number | null): v is number =>
      v !== null && Number.isFinite(v) && Math.abs(v) < Number.MAX_SAFE_INTEGER;
    if (bounded(min) && bounded(max)) return `${kind} ${min}–${max}`;
    if (bounded(min)) return `${kind} ≥ ${min}`;
    if (bounded(max)) return `${kind} ≤ ${max}`;
    return kind;
  }
  if (schema instanceof z.ZodURL) return 'URL';
  if (schema instanceof z.ZodString) return 'string';
  return schema.def.type;
}

function renderSetting(spec: SettingSpec): string[] {
  const flag = cliFlags[spec.key as SettingKey];
  const isDuration = spec.env.endsWith('_MS');
  const rows: [string, string][] = [
    ['Config file key', code(spec.key)],
    ...(flag === undefined ? [] : ([['CLI flag', flag]] as [string, string][])),
    ['Type', describeSchema(spec.schema) + (isDuration ? ' (milliseconds)' : '')],
    ['Default', code(spec.defaultText)],
  ];
  if (spec.secret === true) rows.push(['Secret', 'yes: redacted in logs and `patchbay doctor`']);
  return [
    `### ${code(spec.env)}`,
    '',
    inline(spec.description),
    '',
    '| | |',
    '| --- | --- |',
    ...rows.map(([name, value]) => `| ${name} | ${inline(value)} |`),
    '',
  ];
}

/**
 * docs/config.md: every setting of `settings` in src/config/schema.ts, in schema order.
 *
 * @example
 *   writeFileSync('docs/config.md', renderConfigDoc());
 */
export function renderConfigDoc(): string {
  const specs: SettingSpec[] = Object.values(settings);
  const lines = [
    banner('src/config/schema.ts'),
    '',
    '# Configuration',
    '',
    'Every setting has an environment variable (`PATCHBAY_*`) and a key in the config file;',
    'a few also have a CLI flag. Sources are applied in this order, each overriding the one',
    'before it:',
    '',
    '1. built-in defaults;',
    `2. the config file: ${code(CONFIG_FILE_NAME)} in the working directory, or the file named by`,
    `   ${code(CONFIG_PATH_ENV)} (or \`--config <file>\`). It holds one JSON object keyed by the`,
    '   config-file keys below; an unknown key is an error;',
    '3. `PATCHBAY_*` environment variables (an empty value counts as unset);',
    '4. CLI flags.',
    '',
    'Conventions:',
    '',
    '- Durations are integers in milliseconds; their names end in `_MS` (`…Ms` in the file).',
    '- Lists are comma-separated in an environment variable and JSON arrays in the file.',
    '- The configuration is validated once, at boot. Every problem is reported together in one',
    '  `CONFIG_INVALID` error that names each offending variable, key or flag, and Patchbay does',
    '  not start until all of them are fixed.',
    '- Secrets are never written to logs; `patchbay doctor` shows them redacted.',
    '',
    '## Summary',
    '',
    '| Environment variable | Config file key | Default |',
    '| --- | --- | --- |',
    ...specs.map(
      (s) =>
        `| [${code(s.env)}](#${s.env.toLowerCase()}) | ${code(s.key)} | ${inline(code(s.defaultText))} |`,
    ),
    '',
    '## Settings',
    '',
    ...specs.flatMap(renderSetting),
  ];
  return `${lines.join('\n').trimEnd()}\n`;
}

const kindMeaning: Record<ErrorKind, string> = {
  user: 'the request or the run itself is at fault: change it (or, for `RATE_LIMITED`, wait) before retrying.',
  operational:
    'the environment misbehaved (a dependency down, a process killed, the server stopping): retry later or fix the deployment.',
  unexpected:
    'a bug in Patchbay: please report it with the `requestId`. Details are logged, never sent.',
};

/**
 * docs/errors.md: every code of `errorCatalog` in src/contracts/errors.ts, in catalog order.
 *
 * @example
 *   writeFileSync('docs/errors.md', renderErrorsDoc());
 */
export function renderErrorsDoc(): string {
  const codes = Object.keys(errorCatalog) as ErrorCode[];
  const lines = [
    banner('src/contracts/errors.ts'),
    '',
    '# Errors',
    '',
    'Every error Patchbay reports, to an API client, in a log line or in a run record, has one',
    'stable code from this list. Codes are area-first `SCREAMING_SNAKE` and are never reused;',
    'the message is a default, and a specific error may carry a more precise one.',
    '',
    '## HTTP error body',
    '',
    'Every failed HTTP request answers with the status listed below and this body:',
    '',
    '```json',
    '{',
    '  "error": {',
    '    "code": "VALIDATION_FAILED",',
    '    "message": "invalid request: body.agent: Invalid input",',
    '    "details": { "fields": [{ "location": "body", "path": "agent", "message": "Invalid input" }] },',
    '    "requestId": "8f0c2a4e-5b7d-4f7e-9a51-0d1e2f3a4b5c"',
    '  }',
    '}',
    '```',
    '',
    '- `code`: one of the codes below; match on it, never on the message.',
    '- `message`: human-readable.',
    '- `details` (optional): structured data, e.g. the offending fields of `VALIDATION_FAILED`.',
    '- `requestId`: the id under which the server logged the request (a well-formed',
    '  `X-Request-Id` header sent by the client is used as is).',
    '',
    'Over the WebSocket JSON-RPC API the code travels in `error.data.code` (and `details` in',
    '`error.data.details`). A run that ends badly records `{ code, message }` from the same',
    'catalog in its `error` field.',
    '',
    '## Kinds',
    '',
    ...(Object.keys(kindMeaning) as ErrorKind[]).map((k) => `- \`${k}\`: ${kindMeaning[k]}`),
    '',
    '## Codes',
    '',
    '| Code | HTTP | Kind | Message |',
    '| --- | --- | --- | --- |',
    ...codes.map((c) => {
      const def = errorCatalog[c];
      return `| ${code(c)} | ${def.status} | ${def.kind} | ${inline(def.message)} |`;
    }),
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * docs/optimizer-rules.md: every rule of the optimizer's scanner (src/optimizer/scan/rules), in
 * the order it runs, one row each: what it looks for, what the rewrite gains, its risk, and
 * whether a template rewrites it or it is only reported.
 */
export function renderRulesDoc(): string {
  const rewritten = RULES.filter((r) => TEMPLATES[r.id]).length;
  return [
    banner('src/optimizer/scan/rules'),
    '',
    '# Optimizer rules',
    '',
    `\`patchbay optimize\` scans a repository with these ${RULES.length} rules. ${rewritten} of them have a`,
    'deterministic rewrite template (a candidate that is then built, tested and benchmarked); the',
    'others are only reported among the opportunities. Every rule is syntactic and conservative:',
    'when the shape of the code cannot be proven, it stays silent.',
    '',
    '| Rule | Looks for | Expected effect | Risk | Rewrite |',
    '| --- | --- | --- | --- | --- |',
    ...RULES.map(
      (r) =>
        `| ${code(r.id)} | ${inline(r.rationale)} | ${inline(r.expectedEffect)} | ${r.risk} | ${TEMPLATES[r.id] ? 'template' : 'reported only'} |`,
    ),
    '',
    '## Language level',
    '',
    'Templates write the syntax the repository already uses and its lint accepts',
    '(`src/optimizer/patch/level.ts`, `level-detect.ts`). The level is the lowest of: eslint',
    '`parserOptions.ecmaVersion` / `env.es20xx` (an eslintrc that states neither is ES5; a flat',
    'config is the latest unless it states a literal `ecmaVersion`), jshint `esversion` / `esnext`',
    '(default ES5), and `engines.node`. A syntax feature (`const`, arrows, `for…of`, template',
    'literals…) is written only when that level allows it and either the code already uses it or a',
    'config states the level. TypeScript files may use any syntax (tsc lowers it), but built-ins',
    '(`Set`, `Map`, `startsWith`, `flatMap`…) follow tsconfig `lib` (else `target`). So an ES5',
    'library gets `var`, indexed loops and object caches; a rewrite that would need a built-in its',
    'level lacks is refused with the reason, and a rewrite that would add syntax above the level is',
    'refused as a template bug (never handed to the lint to find out).',
    '',
    '## Guards that keep behaviour identical',
    '',
    '- Purity (`src/optimizer/ast/purity.ts`): a callback may call same-file helpers that are',
    '  themselves pure (declared once at module level, never reassigned; checked recursively),',
    '  regex methods when no regex involved has shared `lastIndex` state (an inline literal, or a',
    '  `const` literal without `g`/`y`), array methods with inline callbacks, and read the lexical',
    "  `this` of arrows. A function callback's own `this`/`arguments`, writes outside its locals,",
    '  `new` of anything but fresh built-ins, and unknown calls are refused.',
    '- Fused `map`/`filter` loops read the length once and skip holes exactly as the methods do',
    '  (`i in xs`), unless the source is provably dense (`split`, `filter`, `Object.keys`, literals).',
    '- `prefer-static-regex` shares a `g` regex only when its one use is the pattern of',
    '  `replace`/`replaceAll`/`match`/`matchAll`/`split`/`search`, which leave `lastIndex` at 0;',
    '  never a `y` regex.',
    '- `no-accumulating-spread` rewrites only a reducer seeded with a fresh empty literal whose',
    '  accumulator is used nowhere but in the spread, and never an appended spread (`[...acc,',
    '  ...val]` would become `acc.push(...val)`, which throws a RangeError past ~10^5 items where',
    "  the spread does not; found on moderndash's `fastArrayFlat`).",
    '- `hoist-static-closure` only moves a callback handed straight to a method that calls it and',
    '  never keeps it, capturing nothing of the functions around it (no local, `this`,',
    '  `arguments`, type parameter); in TypeScript its parameters must be annotated.',
    '- `prefer-object-literal-shape` refuses when a value reads the object, a closure captures it,',
    '  a key is `__proto__` or repeats, or a `var` object sits inside a `try` (a throwing value',
    '  would leave it half built for the `catch`).',
    '- `hoist-prototype-method` reads `Ctor.prototype.method` once at module load only when `Ctor`',
    '  is the global built-in, every use in the file is `.call`/`.apply` (so `this` is passed the',
    '  same way), and the file never assigns or `defineProperty`s that prototype (a polyfill there',
    '  would run after the hoisted read). Like every rewrite to a built-in, it assumes no other',
    '  code replaces the method after the module loads.',
    '- Known gap: fusing a chain interleaves its callbacks, so when two steps would both throw on',
    "  the same input, the fused loop may throw the later step's error first.",
    '',
  ].join('\n');
}
