/**
 * Bundles the compiled CLI (dist/cli/main.js) into one minified file, dist/patchbay.mjs, which
 * bin/patchbay.js runs. Why: a server that loads ~400 modules keeps every module's source text
 * and metadata in its heap; one minified bundle starts with ~5 MB less resident memory, which
 * is what keeps `patchbay serve` under 100 MB during an output flood (bench/flood.ts).
 *
 * Left outside the bundle: native addons (better-sqlite3, node-pty), packages loaded only on
 * demand (pg; bullmq and ioredis, which only a server with PATCHBAY_QUEUE_URL loads), and
 * packages that locate files next to themselves at run time (pino's transport worker,
 * swagger-ui's static assets, bullmq's Lua scripts), and the TypeScript compiler, which only
 * `patchbay optimize` loads.
 */
import { build } from 'esbuild';

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
];

await build({
  entryPoints: ['dist/cli/main.js'],
  outfile: 'dist/patchbay.mjs',
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
