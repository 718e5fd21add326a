/**
 * Builds the dashboard into dist/web/ (`npm run build` runs it after the server's build), with
 * a `.gz` and a `.br` file next to every text asset so the server sends them precompressed
 * instead of compressing per request.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(here, '../dist/web');
const COMPRESSIBLE = /\.(?:js|mjs|css|html|svg|json|txt|map)$/;

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else yield path;
  }
}

/** Writes `<file>.gz` and `<file>.br` beside every compressible file of the build. */
function precompress(): Plugin {
  return {
    name: 'patchbay-precompress',
    apply: 'build',
    closeBundle() {
      for (const path of [...files(outDir)]) {
        if (!COMPRESSIBLE.test(path)) continue;
        const body = readFileSync(path);
        writeFileSync(`${path}.gz`, gzipSync(body, { level: 9 }));
        writeFileSync(
          `${path}.br`,
          brotliCompressSync(body, {
            params: {
              [constants.BROTLI_PARAM_QUALITY]: 11,
              [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
            },
          }),
        );
      }
    },
  };
}

export default defineConfig({
  root: here,
  base: '/',
  plugins: [react(), precompress()],
  // The dashboard imports src/client and src/contracts; their zod schemas are dropped unless a
  // page uses one at run time (none may: types only), so zod never reaches the browser.
  build: {
    outDir,
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    reportCompressedSize: false,
    // dist/web/.vite/manifest.json: the size test follows the entry's static imports in it.
    manifest: true,
    rolldownOptions: {
      treeshake: {
        moduleSideEffects: (id: string) => !/[\\/]src[\\/]contracts[\\/]/.test(id),
      },
    },
  },
  server: {
    // `npm run web:dev`: the API of a `patchbay serve` on the default port.
    proxy: { '/v1': 'http://127.0.0.1:7070', '/health': 'http://127.0.0.1:7070' },
  },
});
