#!/usr/bin/env -S node --max-semi-space-size=2 --optimize-for-size --no-opt
// Memory flags for a server that must stay small under an output flood (docs/architecture.md, "Memory").
// Thin launcher: the CLI is compiled to dist/ by `npm install` (the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The bundle (see scripts/bundle.ts) when the build made one, else the compiled modules.
const bundle = new URL('../dist/patchbay.mjs', import.meta.url);
const entry = existsSync(fileURLToPath(bundle))
  ? bundle
  : new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(
    'patchbay: dist/ is missing; run `npm run build` (npm install does it for you)\n',
  );
  process.exit(1);
}
await import(entry.href);
