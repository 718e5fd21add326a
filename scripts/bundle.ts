/**
 * Bundles the compiled CLI (dist/cli/main.js) into minified files: the entry dist/patchbay.mjs,
 * which bin/patchbay.js runs, and the chunks it imports, in dist/chunks/. Why: a server that
 * loads ~400 modules keeps every module's source text and metadata in its heap; a minified
 * bundle starts with ~5 MB less resident memory, which is what keeps `patchbay serve` under
 * 100 MB during an output flood (bench/flood.ts).
 *
 * Split, not one file: each import() in src/ becomes a chunk that loads only when first used
 * (MCP, the optimizer, the inbox connectors, GitHub App auth, ...), and the code every start
 * needs comes in several chunks that V8 compiles one at a time. Compiling one 2.9 MB module
 * took a 20 MB parser zone (malloc) at start, and glibc kept most of it after it was freed
 * (+17 MB idle RSS, measured with heaptrack and given back by malloc_trim); the zone now
 * peaks at 4.4 MB. See docs/architecture.md, "Memory".
 *
 * Left outside the bundle: native addons (better-sqlite3, node-pty), packages loaded only on
 * demand (pg; bullmq and ioredis, which only a server with PATCHBAY_QUEUE_URL loads; the
 * OpenTelemetry SDK, which only PATCHBAY_OTLP_ENDPOINT loads; the AI SDK and the price table,
 * which only model calls load), and
 * packages that locate files next to themselves at run time (pino's transport worker,
 * swagger-ui's static assets, bullmq's Lua scripts), and the TypeScript compiler, which only
 * `patchbay optimize` loads.
 */
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build, type Plugin } from 'esbuild';

const outdir = 'dist';
/** Code loaded with import() (and code shared between such pieces), one file each. */
const chunkDir = 'dist/chunks';

const external = [
  'better-sqlite3',
  'node-pty',
  'pg',
  'bullmq',
  'ioredis',
  'pino',
  'pino-pretty',
  '@fastify/swagger-ui',
  // The TypeScript compiler: only the optimizer loads it, on demand (src/optimizer/typescript.ts).
  'typescript',
  // OpenTelemetry: the SDK loads only with PATCHBAY_OTLP_ENDPOINT (src/observability/tracing.ts),
  // and the API must be the one copy the SDK shares.
  '@opentelemetry/api',
  '@opentelemetry/context-async-hooks',
  '@opentelemetry/core',
  '@opentelemetry/exporter-trace-otlp-http',
  '@opentelemetry/resources',
  '@opentelemetry/sdk-trace-base',
  '@opentelemetry/semantic-conventions',
  // Model access: the AI SDK and its providers load with the first model call and the price
  // table (several MB of JSON) with the first price (src/llm/), so a server that makes no
  // model calls carries neither.
  'ai',
  '@ai-sdk/anthropic',
  '@ai-sdk/google',
  '@ai-sdk/openai',
  '@ai-sdk/openai-compatible',
  '@pydantic/genai-prices',
];

/**
 * zod 4 re-exports all of its ~50 error-message locales (`z.locales`, 260 KB minified, parsed
 * and kept at every start) although only English, its default, is ever used (nothing here or
 * in a bundled dependency calls `z.config(z.locales.xx())`): inside the bundle, `z.locales`
 * holds `en` only.
 */
const zodEnglishOnly: Plugin = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]v4[\\/](core|classic)[\\/]/.test(args.importer)
        ? { path: join(dirname(args.importer), '..', 'locales'), namespace: 'zod-locales' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: "export { default as en } from './en.js';",
      resolveDir: args.path,
      loader: 'js',
    }));
  },
};

// Chunks are named by content hash: a rebuild must not leave the previous build's behind.
rmSync(chunkDir, { recursive: true, force: true });

const result = await build({
  entryPoints: { patchbay: 'dist/cli/main.js' },
  outdir,
  // Every import() becomes its own chunk, loaded (read, parsed, compiled) only when a request
  // or a command first needs it: see docs/architecture.md, "Memory".
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  outExtension: { '.js': '.mjs' },
  metafile: true,
  plugins: [zodEnglishOnly],
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: true,
  sourcemap: 'linked',
  external,
  // CommonJS dependencies inside an ES module bundle still call require() and read __dirname.
  banner: {
    js: [
      "import { createRequire as __patchbayRequire } from 'node:module';",
      "import { fileURLToPath as __patchbayPath } from 'node:url';",
      "import { dirname as __patchbayDir } from 'node:path';",
      'const require = __patchbayRequire(import.meta.url);',
      'const __filename = __patchbayPath(import.meta.url);',
      'const __dirname = __patchbayDir(__filename);',
    ].join('\n'),
  },
  logLevel: 'warning',
});

// V8 keeps a script's source for as long as its functions live, as a one-byte string when
// every character is Latin-1 and as a two-byte string otherwise: a single character above
// U+00FF doubles the ~2 MB the server holds for the bundle. esbuild escapes such characters in
// strings and templates but not in regex literals, so a `/│/` in the source slips through
// (write `\u2502` there instead).
// Every chunk is a script of its own: each is checked.
for (const outfile of Object.keys(result.metafile.outputs).filter((f) => f.endsWith('.mjs'))) {
  const bundled = readFileSync(outfile, 'utf8');
  const wide = /[\u0100-\uffff]/.exec(bundled);
  if (wide) {
    const at = wide.index;
    const code = `U+${wide[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    throw new Error(
      `${outfile}: character ${code} at offset ${at} (…${bundled.slice(Math.max(0, at - 60), at + 20)}…) ` +
        'makes the whole script a two-byte string in V8 (+2 MB resident); escape it in the source',
    );
  }
}
