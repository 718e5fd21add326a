/**
 * What the model is told about a repository beside its map: the languages its files are in
 * (by extension) and the commands it declares for building and testing (package.json scripts
 * with the package manager its lockfile names, Makefile targets, Cargo, Go, Python).
 */
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';

const LANGUAGES: Record<string, string> = {
  '.ts': 'TypeScript',
  '.tsx': 'TypeScript',
  '.mts': 'TypeScript',
  '.cts': 'TypeScript',
  '.js': 'JavaScript',
  '.jsx': 'JavaScript',
  '.mjs': 'JavaScript',
  '.cjs': 'JavaScript',
  '.py': 'Python',
  '.go': 'Go',
  '.rs': 'Rust',
  '.java': 'Java',
  '.kt': 'Kotlin',
  '.rb': 'Ruby',
  '.php': 'PHP',
  '.cs': 'C#',
  '.c': 'C',
  '.h': 'C',
  '.cc': 'C++',
  '.cpp': 'C++',
  '.hpp': 'C++',
  '.swift': 'Swift',
  '.scala': 'Scala',
  '.sh': 'Shell',
  '.vue': 'Vue',
  '.svelte': 'Svelte',
  '.css': 'CSS',
  '.scss': 'CSS',
  '.html': 'HTML',
  '.sql': 'SQL',
};

/** `TypeScript (120 files), JavaScript (3 files)`, most files first; empty when none known. */
export function languagesOf(files: string[]): string {
  const counts = new Map<string, number>();
  for (const file of files) {
    const language = LANGUAGES[extname(file).toLowerCase()];
    if (language) counts.set(language, (counts.get(language) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([language, n]) => `${language} (${n} file${n === 1 ? '' : 's'})`)
    .join(', ');
}

const SCRIPT_NAMES = ['build', 'test', 'lint', 'typecheck', 'check', 'format', 'dev', 'start'];

async function text(root: string, name: string): Promise<string | undefined> {
  try {
    return await readFile(join(root, name), 'utf8');
  } catch {
    return undefined;
  }
}

/** The build and test commands the repository declares, as one would type them. */
export async function detectedCommands(root: string, files: string[]): Promise<string[]> {
  const has = new Set(files);
  const commands: string[] = [];
  const pkg = await text(root, 'package.json');
  if (pkg) {
    const runner = has.has('pnpm-lock.yaml')
      ? 'pnpm'
      : has.has('yarn.lock')
        ? 'yarn'
        : has.has('bun.lockb') || has.has('bun.lock')
          ? 'bun'
          : 'npm';
    let scripts: Record<string, unknown> = {};
    try {
      const parsed = JSON.parse(pkg) as { scripts?: Record<string, unknown> };
      scripts = parsed.scripts ?? {};
    } catch {
      // not JSON: no scripts to offer
    }
    for (const name of SCRIPT_NAMES) {
      if (typeof scripts[name] === 'string') commands.push(`${runner} run ${name}`);
    }
  }
  const makefile = await text(root, 'Makefile');
  if (makefile) {
    const targets = [...makefile.matchAll(/^([A-Za-z][\w-]*):(?!=)/gm)].map((m) => m[1]!);
    for (const target of [...new Set(targets)].slice(0, 10)) commands.push(`make ${target}`);
  }
  if (has.has('Cargo.toml')) commands.push('cargo build', 'cargo test');
  if (has.has('go.mod')) commands.push('go build ./...', 'go test ./...');
  if (has.has('pyproject.toml') || has.has('setup.py') || has.has('pytest.ini')) {
    commands.push('python -m pytest');
  }
  return commands;
}
