/**
 * What the model is told about the repository before its first turn: a map of the tree (to
 * depth 3, with line counts), its languages and declared commands, and the repository's own
 * instructions for agents, when present.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { detectedCommands, languagesOf } from './repo-facts.js';
import type { Workspace } from './workspace.js';

const MAP_DEPTH = 3;
const MAX_MAP_ENTRIES = 400;
const MAX_INSTRUCTIONS_CHARS = 20_000;
const LINE_COUNT_MAX_BYTES = 1024 * 1024;

/** Instruction files, in the order they are given to the model. */
export const INSTRUCTION_FILES = ['AGENTS.md', 'CLAUDE.md', '.patchbay/system-prompt.md'];

async function lineCount(path: string): Promise<number | null> {
  try {
    const buf = await readFile(path);
    if (buf.length > LINE_COUNT_MAX_BYTES || buf.includes(0)) return null;
    let n = 0;
    for (const byte of buf) if (byte === 10) n++;
    return buf.length > 0 && buf[buf.length - 1] !== 10 ? n + 1 : n;
  } catch {
    return null;
  }
}

/**
 * `path (N lines)` for files up to MAP_DEPTH folders deep, `dir/ (N files)` for what is deeper,
 * from git's list of files (ignored ones left out).
 */
async function filesOf(ws: Workspace): Promise<string[]> {
  const out = await ws.git(['ls-files', '--cached', '--others', '--exclude-standard']);
  return out.split('\n').filter(Boolean).sort();
}

export async function repositoryMap(ws: Workspace, listed?: string[]): Promise<string> {
  const files = listed ?? (await filesOf(ws));
  const entries: string[] = [];
  const deep = new Map<string, number>();
  for (const file of files) {
    const parts = file.split('/');
    if (parts.length > MAP_DEPTH) {
      const dir = `${parts.slice(0, MAP_DEPTH).join('/')}/`;
      deep.set(dir, (deep.get(dir) ?? 0) + 1);
      continue;
    }
    if (entries.length >= MAX_MAP_ENTRIES) continue;
    const lines = await lineCount(join(ws.root, file));
    entries.push(lines === null ? `${file} (binary or large)` : `${file} (${lines} lines)`);
  }
  for (const [dir, n] of deep) {
    if (entries.length < MAX_MAP_ENTRIES) entries.push(`${dir} (${n} files deeper)`);
  }
  const more = files.length - entries.length;
  return entries.sort().join('\n') + (more > 0 && entries.length >= MAX_MAP_ENTRIES ? '\n…' : '');
}

/** The repository's instructions for agents, each file headed by its name. */
export async function repositoryInstructions(ws: Workspace): Promise<string> {
  const parts: string[] = [];
  for (const name of INSTRUCTION_FILES) {
    try {
      const text = await readFile(await ws.resolve(name), 'utf8');
      parts.push(`## ${name}\n\n${text.slice(0, MAX_INSTRUCTIONS_CHARS)}`);
    } catch {
      // absent (or unreadable): nothing to add
    }
  }
  return parts.join('\n\n');
}

export async function systemPrompt(ws: Workspace): Promise<string> {
  const instructions = await repositoryInstructions(ws);
  const files = await filesOf(ws);
  const languages = languagesOf(files);
  const commands = await detectedCommands(ws.root, files);
  return [
    'You are a coding agent working in a git repository. Use the tools to read the code and change it; paths are relative to the repository root. Edit with `replace` or `apply_patch` (copy oldText from the file as it is, with enough lines to be unique) or `write_file` for new files. When a tool answers with an error, read it and try again. When the task is done, call `finish` with a short summary.',
    `# Repository map\n\n${await repositoryMap(ws, files)}`,
    ...(languages ? [`Languages: ${languages}.`] : []),
    ...(commands.length > 0
      ? [`Commands this repository declares:\n${commands.map((c) => `- ${c}`).join('\n')}`]
      : []),
    ...(instructions ? [`# The repository's instructions\n\n${instructions}`] : []),
  ].join('\n\n');
}
