import { readFileSync } from 'node:fs';

let cached: string | undefined;

/**
 * The package version, from the nearest package.json named `patchbay` above this file: it is
 * two levels up from src/config and dist/config, one level up from the dist/patchbay.mjs bundle.
 */
export function packageVersion(): string {
  if (cached) return cached;
  cached = '0.0.0';
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(candidate, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'patchbay') {
        cached = pkg.version ?? cached;
        break;
      }
    } catch {
      // not there: try the next level
    }
  }
  return cached;
}
