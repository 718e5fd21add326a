import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The npm package's name (`patchbay` on the registry belongs to another project); the command
 * it installs is still `patchbay`.
 */
export const PACKAGE_NAME = 'patchbay-agents';

let cached: string | undefined;
let cachedRoot: string | undefined;

/**
 * The directory of the package (where its package.json is), found like packageVersion; the
 * current directory when none is found (a copy without its package.json).
 */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  cachedRoot = process.cwd();
  for (const candidate of ['../package.json', '../../package.json']) {
    const url = new URL(candidate, import.meta.url);
    try {
      const pkg = JSON.parse(readFileSync(url, 'utf8')) as { name?: string };
      if (pkg.name === PACKAGE_NAME) {
        cachedRoot = dirname(fileURLToPath(url));
        break;
      }
    } catch {
      // not there: try the next level
    }
  }
  return cachedRoot;
}

/**
 * The package version, from the nearest package.json named PACKAGE_NAME above this file: it is
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
      if (pkg.name === PACKAGE_NAME) {
        cached = pkg.version ?? cached;
        break;
      }
    } catch {
      // not there: try the next level
    }
  }
  return cached;
}
