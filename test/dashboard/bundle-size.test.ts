/**
 * The production build's budget: the JavaScript a first visit loads (the entry chunk and
 * every chunk it imports statically, per Vite's manifest) is at most 150 KB gzipped; zod's
 * runtime is in no chunk; every text asset has its precompressed `.gz` and `.br` beside it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { WEB_DIST } from './harness.js';

const BUDGET_BYTES = 150 * 1024;

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
}

function readManifest(): Record<string, ManifestChunk> {
  const path = join(WEB_DIST, '.vite', 'manifest.json');
  if (!existsSync(path)) throw new Error(`${path} is missing; run \`npm run build\` first`);
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, ManifestChunk>;
}

/** Files of the entry chunk and of every chunk reachable from it by static imports. */
export function initialFiles(manifest: Record<string, ManifestChunk>): string[] {
  const entries = Object.entries(manifest).filter(([, c]) => c.isEntry);
  const seen = new Set<string>();
  const files: string[] = [];
  const visit = (key: string): void => {
    if (seen.has(key)) return;
    seen.add(key);
    const chunk = manifest[key];
    if (!chunk) return;
    files.push(chunk.file);
    for (const next of chunk.imports ?? []) visit(next);
  };
  for (const [key] of entries) visit(key);
  return files;
}

describe('dashboard bundle', () => {
  it('loads at most 150 KB of gzipped JavaScript initially', () => {
    const manifest = readManifest();
    const files = initialFiles(manifest).filter((f) => f.endsWith('.js'));
    expect(files.length).toBeGreaterThan(0);
    const sizes = files.map((f) => ({
      file: f,
      gzip: gzipSync(readFileSync(join(WEB_DIST, f)), { level: 9 }).length,
    }));
    const total = sizes.reduce((sum, s) => sum + s.gzip, 0);
    expect(total, JSON.stringify(sizes)).toBeLessThanOrEqual(BUDGET_BYTES);
    // The pages are separate chunks: the initial set is not the whole app.
    const all = Object.values(manifest).filter((c) => c.file.endsWith('.js'));
    expect(all.length).toBeGreaterThan(files.length);
  });

  it('ships no zod runtime', () => {
    for (const name of readdirSync(join(WEB_DIST, 'assets'))) {
      if (!name.endsWith('.js')) continue;
      const text = readFileSync(join(WEB_DIST, 'assets', name), 'utf8');
      expect(text.includes('ZodError') || text.includes('$ZodType'), name).toBe(false);
    }
  });

  it('has a .gz and a .br beside every text asset', () => {
    const names = readdirSync(join(WEB_DIST, 'assets'));
    const assets = names.filter((n) => /\.(?:js|css)$/.test(n));
    expect(assets.length).toBeGreaterThan(0);
    for (const name of [...assets.map((n) => join('assets', n)), 'index.html']) {
      expect(existsSync(join(WEB_DIST, `${name}.gz`)), `${name}.gz`).toBe(true);
      expect(existsSync(join(WEB_DIST, `${name}.br`)), `${name}.br`).toBe(true);
    }
  });
});
