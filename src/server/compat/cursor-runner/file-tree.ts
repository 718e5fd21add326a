import { lstat, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** A node of cursor-runner's file tree. */
export interface FileNode {
  name: string;
  path: string;
  type: 'file' | 'directory';
  children?: FileNode[];
}

/** What cursor-runner's tree leaves out: VCS, dependencies, build output, caches, logs. */
const IGNORED = new Set([
  '.git',
  'node_modules',
  '.next',
  'dist',
  'build',
  '.cache',
  'coverage',
  '.nyc_output',
  '.vscode',
  '.idea',
  '__pycache__',
  '.pytest_cache',
  '.mypy_cache',
  'venv',
  'env',
  '.env',
  '.DS_Store',
]);
const ignored = (name: string): boolean =>
  IGNORED.has(name) || name.endsWith('.log') || name.endsWith('.tmp');

/** Nodes one tree may hold: a huge checkout answers with the first ones. */
const MAX_NODES = 20_000;
const MAX_DEPTH = 10;

/**
 * The tree under `root` as cursor-runner built it (directories first here, then names), to
 * depth 10. Symbolic links are listed as files and never followed, so the tree cannot leave
 * `root`.
 */
export async function buildFileTree(root: string): Promise<FileNode[]> {
  let count = 0;
  async function walk(dir: string, depth: number): Promise<FileNode[]> {
    if (depth >= MAX_DEPTH) return [];
    const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => !ignored(n));
    const nodes: FileNode[] = [];
    for (const name of names.sort()) {
      if (count >= MAX_NODES) break;
      const full = join(dir, name);
      const stat = await lstat(full).catch(() => null);
      if (!stat) continue;
      count++;
      const path = relative(root, full);
      nodes.push(
        stat.isDirectory()
          ? { name, path, type: 'directory', children: await walk(full, depth + 1) }
          : { name, path, type: 'file' },
      );
    }
    return nodes.sort((a, b) => (a.type === b.type ? 0 : a.type === 'directory' ? -1 : 1));
  }
  return walk(root, 0);
}
