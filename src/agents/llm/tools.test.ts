import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { repositoryMap, systemPrompt } from './context.js';
import { runTool, toolsFor } from './tools.js';
import type { ToolPolicy } from './tool-spec.js';
import { createWorkspace, type Workspace } from './workspace.js';

const EDIT: ToolPolicy = { readOnly: false, commands: null };

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function repo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'llm-tools-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'src', 'a', 'b', 'c'), { recursive: true });
  writeFileSync(join(dir, 'src', 'x.ts'), 'export const x = 1;\nexport const y = 2;\n');
  writeFileSync(join(dir, 'src', 'a', 'b', 'c', 'deep.ts'), 'deep\n');
  writeFileSync(join(dir, 'CLAUDE.md'), 'Use tabs.\n');
  execFileSync('git', ['init', '-q'], { cwd: dir });
  return dir;
}

describe('llm agent tools', () => {
  let dir: string;
  let ws: Workspace;
  beforeEach(async () => {
    dir = repo();
    ws = await createWorkspace(dir);
  });

  it('refuses paths outside the workspace, through .. or a symbolic link, and .git', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'llm-outside-'));
    dirs.push(outside);
    writeFileSync(join(outside, 'secret'), 'secret\n');
    symlinkSync(outside, join(dir, 'link'));
    for (const path of ['../secret', '/etc/passwd', 'link/secret', 'link/new.txt']) {
      const r = await runTool(ws, 'read_file', { path }, EDIT);
      expect(r, path).toMatchObject({ isError: true });
      expect(r.output).toContain('outside the repository');
    }
    const w = await runTool(ws, 'write_file', { path: 'link/new.txt', content: 'x' }, EDIT);
    expect(w.isError).toBe(true);
    const g = await runTool(
      ws,
      'write_file',
      { path: '.git/hooks/pre-commit', content: 'x' },
      EDIT,
    );
    expect(g.output).toContain('inside .git');
  });

  it('reads a range of lines and says which', async () => {
    const r = await runTool(ws, 'read_file', { path: 'src/x.ts', startLine: 2, endLine: 2 }, EDIT);
    expect(r).toEqual({ output: '(lines 2-2 of 3)\nexport const y = 2;', isError: false });
    const missing = await runTool(ws, 'read_file', { path: 'nope.ts' }, EDIT);
    expect(missing.output).toContain('does not exist');
  });

  it('lists and searches with git, untracked files included', async () => {
    const list = await runTool(ws, 'list_files', { path: 'src' }, EDIT);
    expect(list.output.split('\n').sort()).toEqual(['src/a/b/c/deep.ts', 'src/x.ts']);
    const found = await runTool(ws, 'search', { pattern: 'const y' }, EDIT);
    expect(found.output).toBe('src/x.ts:2:export const y = 2;');
    const none = await runTool(ws, 'search', { pattern: 'zzz' }, EDIT);
    expect(none).toEqual({ output: 'no match for zzz', isError: false });
  });

  it('replaces a unique place, refuses an ambiguous one and changes nothing', async () => {
    const ok = await runTool(
      ws,
      'replace',
      {
        path: 'src/x.ts',
        oldText: 'export const x = 1;',
        newText: 'export const x = 10;',
      },
      EDIT,
    );
    expect(ok.isError).toBe(false);
    const amb = await runTool(
      ws,
      'replace',
      {
        path: 'src/x.ts',
        oldText: 'export const',
        newText: 'const',
      },
      EDIT,
    );
    expect(amb.isError).toBe(true);
    expect(amb.output).toMatch(/matches 2 places/);
    expect(readFileSync(join(dir, 'src', 'x.ts'), 'utf8')).toBe(
      'export const x = 10;\nexport const y = 2;\n',
    );
  });

  it('applies a multi-file patch all or nothing', async () => {
    writeFileSync(join(dir, 'b.ts'), 'b = 1\n');
    const bad = await runTool(
      ws,
      'apply_patch',
      {
        edits: [
          { path: 'b.ts', oldText: 'b = 1', newText: 'b = 2' },
          { path: 'src/x.ts', oldText: 'not there', newText: 'x' },
        ],
      },
      EDIT,
    );
    expect(bad.isError).toBe(true);
    expect(readFileSync(join(dir, 'b.ts'), 'utf8')).toBe('b = 1\n');
    const good = await runTool(
      ws,
      'apply_patch',
      {
        edits: [
          { path: 'b.ts', oldText: 'b = 1', newText: 'b = 2' },
          { path: 'src/x.ts', oldText: 'y = 2', newText: 'y = 3' },
        ],
      },
      EDIT,
    );
    expect(good.isError).toBe(false);
    expect(readFileSync(join(dir, 'b.ts'), 'utf8')).toBe('b = 2\n');
  });

  it('writes new files in new directories; finish ends with its summary', async () => {
    const w = await runTool(ws, 'write_file', { path: 'docs/new/a.md', content: 'hi\n' }, EDIT);
    expect(w.isError).toBe(false);
    expect(readFileSync(join(dir, 'docs', 'new', 'a.md'), 'utf8')).toBe('hi\n');
    expect(await runTool(ws, 'finish', { summary: 'done' }, EDIT)).toMatchObject({
      finished: 'done',
    });
  });

  it('answers bad input and unknown tools with an error for the model', async () => {
    expect((await runTool(ws, 'read_file', {}, EDIT)).output).toContain(
      'invalid input for read_file',
    );
    expect((await runTool(ws, 'rm_rf', {}, EDIT)).output).toContain('there is no tool rm_rf');
  });

  it('read-only runs get only the tools that change nothing', async () => {
    expect(toolsFor({ readOnly: true, commands: null }).map((t) => t.name)).toEqual([
      'list_files',
      'read_file',
      'search',
      'finish',
    ]);
    const r = await runTool(
      ws,
      'write_file',
      { path: 'a', content: 'x' },
      { readOnly: true, commands: null },
    );
    expect(r.isError).toBe(true);
  });

  it('maps the repository to depth 3 and gives its instructions', async () => {
    const map = await repositoryMap(ws);
    expect(map.split('\n')).toEqual([
      'CLAUDE.md (1 lines)',
      'src/a/b/ (1 files deeper)',
      'src/x.ts (2 lines)',
    ]);
    expect(await systemPrompt(ws)).toContain('## CLAUDE.md\n\nUse tabs.');
  });
});

describe('run_command', () => {
  const env = { PATH: '/usr/bin:/bin' };
  const full = (allowed?: string[]): ToolPolicy => ({
    readOnly: false,
    commands: { timeoutMs: 5000, env, ...(allowed ? { allowed } : {}) },
  });
  let ws: Workspace;
  beforeEach(async () => {
    ws = await createWorkspace(repo());
  });

  it('is offered only when the policy allows commands', () => {
    expect(toolsFor(EDIT).map((t) => t.name)).not.toContain('run_command');
    expect(toolsFor(full()).map((t) => t.name)).toContain('run_command');
  });

  it('runs in the workspace with the clean env, and reports a failing exit code', async () => {
    const ok = await runTool(ws, 'run_command', { argv: ['sh', '-c', 'ls src; env'] }, full());
    expect(ok.isError).toBe(false);
    expect(ok.output).toContain('exit code 0\na\nx.ts\n');
    expect(ok.output).toContain('PATH=/usr/bin:/bin');
    expect(ok.output).not.toMatch(/PATCHBAY_/);
    const bad = await runTool(ws, 'run_command', { argv: ['sh', '-c', 'echo no; exit 3'] }, full());
    expect(bad).toEqual({ output: 'exit code 3\nno\n', isError: true });
  });

  it('keeps to the allow-list (names only) and kills a command at its time limit', async () => {
    const refused = await runTool(ws, 'run_command', { argv: ['sh', '-c', 'true'] }, full(['ls']));
    expect(refused.output).toContain('not an allowed command');
    const path = await runTool(ws, 'run_command', { argv: ['/bin/ls'] }, full(['ls']));
    expect(path.output).toContain('not a path');
    const slow = await runTool(
      ws,
      'run_command',
      { argv: ['sleep', '5'], timeoutSeconds: 1 },
      full(),
    );
    expect(slow.output).toContain('did not end within 1 s');
  });
});
