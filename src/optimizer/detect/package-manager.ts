import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { DetectResult, Evidence } from '../../contracts/index.js';
import type { PackageManagerName } from './overrides.js';
import type { PackageJson } from './package-json.js';

export type PackageManagerDetection = DetectResult['packageManager'];

/** Lockfiles in the order a tie between several is broken (see detectPackageManager). */
const LOCKFILES: readonly { file: string; manager: PackageManagerName; binary?: boolean }[] = [
  { file: 'pnpm-lock.yaml', manager: 'pnpm' },
  { file: 'yarn.lock', manager: 'yarn' },
  { file: 'bun.lock', manager: 'bun' },
  { file: 'bun.lockb', manager: 'bun', binary: true },
  { file: 'package-lock.json', manager: 'npm' },
  { file: 'npm-shrinkwrap.json', manager: 'npm' },
];

/** The first line of a file, read without loading a multi-megabyte lockfile whole. */
async function firstLine(path: string): Promise<string | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const buffer = Buffer.alloc(256);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return (buffer.subarray(0, bytesRead).toString('utf8').split(/\r?\n/)[0] ?? '').trim();
  } finally {
    await handle.close();
  }
}

/** `pnpm@9.12.0+sha512.abc` → pnpm, 9.12.0 (the corepack format; the hash is not a version). */
export function parsePackageManagerField(
  value: unknown,
): { name: PackageManagerName; version: string | null } | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(npm|pnpm|yarn|bun)(?:@([^+\s]+))?/.exec(value.trim());
  if (!match) return undefined;
  return { name: match[1] as PackageManagerName, version: match[2] ?? null };
}

/**
 * The package manager from package.json's `packageManager` field and the lockfiles present.
 *
 * The field wins when present (corepack enforces it); lockfiles that disagree with it, or with
 * each other, lower the confidence. Between conflicting lockfiles with no field, a non-npm
 * lockfile wins: a stray package-lock.json beside pnpm-lock.yaml is the usual accident
 * (someone ran `npm install` once), the reverse is rare. No signal at all means npm, weakly.
 */
export async function detectPackageManager(
  root: string,
  pkg: PackageJson | undefined,
): Promise<PackageManagerDetection> {
  const locks: { manager: PackageManagerName; evidence: Evidence }[] = [];
  for (const lock of LOCKFILES) {
    const line = await firstLine(join(root, lock.file));
    if (line === undefined) continue;
    const evidence: Evidence = lock.binary
      ? { file: lock.file, line: 1 }
      : { file: lock.file, line: 1, text: line };
    locks.push({ manager: lock.manager, evidence });
  }
  const lockManagers = [...new Set(locks.map((l) => l.manager))];
  const field = pkg ? parsePackageManagerField(pkg.fields.packageManager) : undefined;
  const fieldEvidence = field && pkg ? pkg.evidence('packageManager') : [];

  let name: PackageManagerName;
  let confidence: number;
  if (field) {
    name = field.name;
    if (lockManagers.length === 0) confidence = 0.9;
    else if (!lockManagers.includes(field.name)) confidence = 0.6;
    else confidence = lockManagers.length === 1 ? 1 : 0.7;
  } else if (lockManagers.length > 0) {
    name = lockManagers.find((m) => m !== 'npm') ?? 'npm';
    confidence = lockManagers.length === 1 ? 0.9 : 0.5;
  } else {
    name = 'npm';
    confidence = 0.3;
  }
  return {
    name,
    version: field?.name === name ? field.version : null,
    confidence,
    evidence: [...fieldEvidence, ...locks.map((l) => l.evidence)],
  };
}
