/**
 * The repository's language level: detected from lint configs, `engines`, tsconfig.json and the
 * code, and obeyed by the templates. The fixture repositories (test/fixtures/repos/level-*) are
 * an ES5 library linted by jshint, one linted by eslint with `ecmaVersion: 5`, a modern ESM
 * package and TypeScript with `target`/`lib` ES5. Each rewrite is then checked the way the
 * repository would check it: ESLint's own parser at the fixture's edition, or tsc with the
 * fixture's compiler options. A candidate is never refused for syntax the template chose.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { afterAll, describe, expect, it } from 'vitest';
import type { RuleId } from '../../contracts/index.js';
import { opportunityAt } from '../../../test/helpers/patch-templates.js';
import { loadTypeScript } from '../typescript.js';
import { applyTemplate } from './apply.js';
import { detectLanguageLevel, lowestNodeMajor } from './level-detect.js';
import { editionOf, fileLevel, nodeEdition } from './level.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/repos');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const gitEnv = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: tmpdir() };
const git = (args: string[], cwd: string) =>
  execFileSync('git', args, { cwd, env: gitEnv, stdio: 'pipe' }).toString();

/** A committed copy of a fixture repository, with `extra` files written over it. */
function repo(name: string, extra: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'pb-level-'));
  dirs.push(root);
  cpSync(join(FIXTURES, name), root, { recursive: true });
  for (const [file, text] of Object.entries(extra)) writeFileSync(join(root, file), text);
  git(['init', '-q'], root);
  git(['add', '.'], root);
  git(['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'base'], root);
  return root;
}

/** Rewrites `snippet` of `file` with `rule`; the new text, or the refusal. */
async function rewriteIn(root: string, file: string, rule: RuleId, snippet: string) {
  const source = readFileSync(join(root, file), 'utf8');
  const outcome = await applyTemplate(root, opportunityAt(rule, file, source, snippet));
  if ('rejected' in outcome) return { refused: outcome.rejected.message };
  writeFileSync(join(root, 'candidate.diff'), outcome.candidate.diff);
  git(['apply', 'candidate.diff'], root);
  return { after: readFileSync(join(root, file), 'utf8') };
}

/** ESLint's parser at an edition, as a script (ES5 has no modules): the fatal messages. */
async function parseErrors(text: string, ecmaVersion: 5 | 2022, sourceType: 'script' | 'module') {
  const eslint = new ESLint({
    overrideConfigFile: true,
    overrideConfig: { languageOptions: { ecmaVersion, sourceType } },
  });
  const [result] = await eslint.lintText(text);
  return result!.messages.filter((m) => m.fatal).map((m) => m.message);
}

describe('language level detection', () => {
  it('reads an edition as configs write it', () => {
    expect(editionOf(5)).toBe(5);
    expect(editionOf(6)).toBe(2015);
    expect(editionOf(2017)).toBe(2017);
    expect(editionOf('es2019')).toBe(2019);
    expect(editionOf('ES5')).toBe(5);
    expect(editionOf('latest')).toBeGreaterThanOrEqual(2024);
    expect(editionOf('nonsense')).toBeUndefined();
  });

  it('reads the lowest Node.js an engines range admits', () => {
    expect(lowestNodeMajor('>= 0.10')).toBe(0);
    expect(lowestNodeMajor('^14.17.0 || >=16')).toBe(14);
    expect(lowestNodeMajor('*')).toBeUndefined();
    expect(nodeEdition(0)).toBe(5);
    expect(nodeEdition(6)).toBe(2016);
    expect(nodeEdition(20)).toBe(2022);
  });

  it('an ES5 library linted by jshint (no esversion, engines >= 0.10) is ES5', async () => {
    const level = await detectLanguageLevel(repo('level-es5-jshint'));
    expect(level.syntaxCap).toBe(5);
    expect(level.builtins).toBe(5);
    expect(level.reasons.join()).toMatch(/jshint|engines/);
    expect(level.uses.blockBindings).toBeUndefined();
    expect(fileLevel(level, 'lib/index.js').allows('blockBindings')).toBe(false);
    expect(fileLevel(level, 'lib/index.js').describe()).toMatch(/^ES5 \(/);
  });

  it('eslint ecmaVersion 5 is ES5; env es6 or a higher ecmaVersion lifts it', async () => {
    const es5 = await detectLanguageLevel(repo('level-es5-eslint'));
    expect(es5.syntaxCap).toBe(5);
    expect(es5.reasons).toEqual(['.eslintrc.json ecmaVersion 5']);
    const es6 = await detectLanguageLevel(
      repo('level-es5-eslint', { '.eslintrc.json': '{ "env": { "node": true, "es6": true } }' }),
    );
    expect(es6.syntaxCap).toBe(2015);
    expect(es6.builtins).toBe(2015);
    // Stated in a config, const is allowed though the code does not use it yet.
    expect(fileLevel(es6, 'lib/index.js').allows('blockBindings')).toBe(true);
    // eslintrc without ecmaVersion defaults to ES5; an unknown shared config tells nothing.
    const bare = await detectLanguageLevel(
      repo('level-es5-eslint', { '.eslintrc.json': '{ "rules": {} }' }),
    );
    expect(bare.syntaxCap).toBe(5);
    const shared = await detectLanguageLevel(
      repo('level-es5-eslint', { '.eslintrc.json': '{ "extends": "airbnb-base" }' }),
    );
    expect(shared.syntaxCap).toBeGreaterThanOrEqual(2024);
    expect(shared.explicitSyntax).toBe(false);
  });

  it('a modern ESM package has no limit and uses const, arrows and for…of', async () => {
    const level = await detectLanguageLevel(repo('level-modern-esm'));
    expect(level.syntaxCap).toBe(2022); // engines >=18
    expect(level.builtins).toBe(2022);
    expect(level.uses).toMatchObject({ blockBindings: true, arrows: true, forOf: true });
    expect(fileLevel(level, 'src/index.js').allows('optionalChaining')).toBe(true);
  });

  it('TypeScript with an ES5 lib: any syntax (tsc lowers it), ES5 built-ins', async () => {
    const level = await detectLanguageLevel(repo('level-ts-es5'));
    expect(level.tsBuiltins).toBe(5);
    expect(level.reasons).toEqual(['tsconfig.json lib ES5']);
    const file = fileLevel(level, 'src/index.ts');
    expect(file.allows('blockBindings')).toBe(true);
    expect(file.builtins).toBe(5);
  });
});

describe('templates write at the repository level', () => {
  for (const name of ['level-es5-jshint', 'level-es5-eslint']) {
    it(`${name}: hoisted regex uses var, fused loop is indexed with var, ES5 parses it`, async () => {
      const root = repo(name);
      const regex = await rewriteIn(root, 'lib/index.js', 'prefer-static-regex', '/\\s+/');
      expect(regex.after).toContain(`'use strict';\nvar WORDS_RE = /\\s+/;\n`);
      expect(await parseErrors(regex.after!, 5, 'script')).toEqual([]);

      const chain = await rewriteIn(
        root,
        'lib/index.js',
        'reduce-intermediate-arrays',
        'list.filter',
      );
      expect(chain.after).toContain(
        [
          `  var out = [];`,
          `  for (var i = 0, n = list.length; i < n; i++) {`,
          `    if (!(i in list)) continue;`,
          `    var w = list[i];`,
          `    if (!(w.length > 0)) continue;`,
          `    out.push(w.toUpperCase());`,
          `  }`,
        ].join('\n'),
      );
      expect(await parseErrors(chain.after!, 5, 'script')).toEqual([]);
      // The fused loop computes what the chain did, holes included.
      const mod = { exports: {} as Record<string, (l: unknown[]) => unknown> };
      new Function('module', chain.after!)(mod);
      // eslint-disable-next-line no-sparse-arrays
      expect(mod.exports.shout!(['a', , '', 'b'])).toEqual(['A', 'B']);
    });
  }

  it('level-es5-jshint: memoize uses an object cache and var', async () => {
    const root = repo('level-es5-jshint');
    const memo = await rewriteIn(root, 'lib/index.js', 'memoize-pure-function', 'function weight');
    expect(memo.after).toContain('var weightCache = Object.create(null);');
    expect(memo.after).not.toMatch(/\b(const|let|Map)\b/);
    expect(await parseErrors(memo.after!, 5, 'script')).toEqual([]);
    const mod = { exports: {} as Record<string, (w: unknown) => number> };
    new Function('module', memo.after!)(mod);
    expect(mod.exports.weight!('ab')).toBe(195);
    expect(mod.exports.weight!('ab')).toBe(195);
  });

  it('level-es5-jshint: startsWith is refused (an ES2015 built-in), not written', async () => {
    const root = repo('level-es5-jshint');
    const out = await rewriteIn(
      root,
      'lib/index.js',
      'prefer-string-starts-ends-with',
      '/^x-/.test(name)',
    );
    expect(out.refused).toMatch(/needs String#startsWith \(ES2015\).*ES5 \(/);
  });

  it('level-modern-esm: const and for…of over a dense array, parsed as ES2022', async () => {
    const root = repo('level-modern-esm');
    const regex = await rewriteIn(root, 'src/index.js', 'prefer-static-regex', '/\\s+/');
    expect(regex.after).toMatch(/^const WORDS_RE = \/\\s\+\/;\n/);
    const chain = await rewriteIn(
      root,
      'src/index.js',
      'reduce-intermediate-arrays',
      "line.split(',').filter",
    );
    expect(chain.after).toContain(
      [
        `  const out = [];`,
        `  for (const w of line.split(',')) {`,
        `    if (!(w.length > 0)) continue;`,
        `    out.push(w.toUpperCase());`,
        `  }`,
      ].join('\n'),
    );
    expect(await parseErrors(chain.after!, 2022, 'module')).toEqual([]);
    const starts = await rewriteIn(
      root,
      'src/index.js',
      'prefer-string-starts-ends-with',
      '/^x-/.test(name)',
    );
    expect(starts.after).toContain(`name.startsWith('x-')`);
  });

  it('level-ts-es5: const is fine in TypeScript, ES2015 built-ins are refused; the result typechecks', async () => {
    const root = repo('level-ts-es5');
    const regex = await rewriteIn(root, 'src/index.ts', 'prefer-static-regex', '/\\s+/');
    expect(regex.after).toMatch(/^const WORDS_RE = /);
    const chain = await rewriteIn(root, 'src/index.ts', 'reduce-intermediate-arrays', 'xs.filter');
    expect(chain.after).toContain('for (let i = 0, n = xs.length; i < n; i++) {');
    const starts = await rewriteIn(
      root,
      'src/index.ts',
      'prefer-string-starts-ends-with',
      '/^x-/.test(name)',
    );
    expect(starts.refused).toMatch(/String#startsWith.*tsconfig\.json lib ES5/);

    const ts = await loadTypeScript();
    const { config } = ts.readConfigFile(join(root, 'tsconfig.json'), ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(config, ts.sys, root);
    const program = ts.createProgram(parsed.fileNames, {
      ...parsed.options,
      noEmit: true,
      types: [],
    });
    const messages = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(messages).toEqual([]);
  }, 120_000);

  it('the safety net refuses a rewrite that would add syntax above the level', async () => {
    // A memoized const arrow in ES5 code is impossible, so force a level that forbids const in
    // a file that has none: the hoisted JSON constant must come out as var, never const.
    const root = repo('level-es5-jshint', {
      'lib/cfg.js': `'use strict';\nfunction limit(n) {\n  return Math.min(n, JSON.parse('{"max": 10}').max);\n}\nmodule.exports = limit;\n`,
    });
    const json = await rewriteIn(
      root,
      'lib/cfg.js',
      'hoist-json-parse',
      `JSON.parse('{"max": 10}')`,
    );
    expect(json.after).toContain(`var PARSED_JSON = JSON.parse('{"max": 10}');`);
    expect(await parseErrors(json.after!, 5, 'script')).toEqual([]);
  });
});
