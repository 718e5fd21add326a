import { readdir } from 'node:fs/promises';
import type { DetectResult, Evidence } from '../../contracts/index.js';
import { dependencyEvidence, type PackageJson } from './package-json.js';

export type FrameworkDetection = DetectResult['framework'];

/** Frontend libraries whose presence means an `express` dependency is not the whole story. */
const FRONTEND = ['react', 'vue', 'svelte', '@angular/core', 'solid-js', 'preact', 'next'];

const LIBRARY_FIELDS = ['exports', 'main', 'module', 'types', 'typings'] as const;

async function rootFiles(root: string): Promise<string[]> {
  try {
    return (await readdir(root)).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

function configEvidence(files: readonly string[], pattern: RegExp): Evidence[] {
  return files.filter((f) => pattern.test(f)).map((file) => ({ file, line: 1 }));
}

/**
 * Score two signals: a dependency (strong) and a framework config file (weaker alone: a
 * leftover config without the dependency is not a working app).
 */
function scored(dep: Evidence[], config: Evidence[]): number | undefined {
  if (dep.length > 0 && config.length > 0) return 0.95;
  if (dep.length > 0) return 0.85;
  if (config.length > 0) return 0.6;
  return undefined;
}

/**
 * The application framework of the repository root, most specific first: Next.js and NestJS
 * before React+Vite and Express (a Next app has React; a Nest app may list Express), then a
 * plain library (package.json says what it exports), else unknown.
 */
export async function detectFramework(
  root: string,
  pkg: PackageJson | undefined,
): Promise<FrameworkDetection> {
  const files = await rootFiles(root);
  const dep = (name: string): Evidence[] => (pkg ? dependencyEvidence(pkg, name) : []);

  const nextDep = dep('next');
  const nextConfig = configEvidence(files, /^next\.config\.(js|cjs|mjs|ts|mts)$/);
  const next = scored(nextDep, nextConfig);
  if (next !== undefined) {
    return { name: 'nextjs', confidence: next, evidence: [...nextDep, ...nextConfig] };
  }

  const nestDep = dep('@nestjs/core');
  const nestConfig = configEvidence(files, /^nest-cli\.json$/);
  const nest = scored(nestDep, nestConfig);
  if (nest !== undefined) {
    return { name: 'nestjs', confidence: nest, evidence: [...nestDep, ...nestConfig] };
  }

  const reactDep = dep('react');
  const viteDep = dep('vite');
  const viteConfig = configEvidence(files, /^vite\.config\.(js|cjs|mjs|ts|mts)$/);
  if (reactDep.length > 0 && (viteDep.length > 0 || viteConfig.length > 0)) {
    return {
      name: 'react-vite',
      confidence: viteDep.length > 0 && viteConfig.length > 0 ? 0.95 : 0.85,
      evidence: [...reactDep, ...viteDep, ...viteConfig],
    };
  }

  const expressDep = dep('express');
  if (expressDep.length > 0 && !FRONTEND.some((name) => pkg?.dependencies.has(name))) {
    return { name: 'express', confidence: 0.8, evidence: expressDep };
  }

  const libraryField = pkg && LIBRARY_FIELDS.find((field) => pkg.fields[field] !== undefined);
  if (pkg && libraryField) {
    // A private package is rarely published, so less likely a library than an app.
    return {
      name: 'library',
      confidence: pkg.fields.private === true ? 0.4 : 0.6,
      evidence: pkg.evidence(libraryField),
    };
  }
  return { name: 'unknown', confidence: 0, evidence: [] };
}
