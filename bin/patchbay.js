#!/usr/bin/env -S node --max-semi-space-size=2
// The small young generation keeps a flooded server's memory flat (see docs/architecture.md).
// Thin launcher: the CLI is compiled to dist/ by `npm install` (the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(
    'patchbay: dist/ is missing; run `npm run build` (npm install does it for you)\n',
  );
  process.exit(1);
}
await import(entry.href);
