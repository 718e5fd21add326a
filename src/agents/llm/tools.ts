/**
 * The `llm` agent's tools: what the model may do in the run's directory. Each takes JSON the
 * model wrote (checked with zod), works only inside the workspace, and answers with text for
 * the model; a failure is a ToolError whose message tells the model what to do instead.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { z } from 'zod';
import { applyEdit, applyEdits, type LlmTool } from '../../llm/index.js';
import { runCommand } from './command.js';
import type { ToolPolicy, ToolSpec } from './tool-spec.js';
import { ToolError, type Workspace } from './workspace.js';

const MAX_READ_LINES = 2000;
const MAX_OUTPUT_CHARS = 60_000;
const MAX_LIST = 1000;
const MAX_MATCHES = 200;

export interface ToolOutcome {
  output: string;
  isError: boolean;
  /** Set by `finish`: the agent's summary, which ends the loop. */
  finished?: string;
}

const path = z.string().min(1);

function clip(text: string): string {
  return text.length <= MAX_OUTPUT_CHARS
    ? text
    : `${text.slice(0, MAX_OUTPUT_CHARS)}\n… (cut at ${MAX_OUTPUT_CHARS} characters)`;
}

async function readText(ws: Workspace, file: string): Promise<string> {
  const abs = await ws.resolve(file);
  try {
    return await readFile(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ToolError(
      code === 'ENOENT'
        ? `${file} does not exist; list_files shows what does`
        : code === 'EISDIR'
          ? `${file} is a directory; list_files lists it`
          : `cannot read ${file}: ${code ?? String(err)}`,
    );
  }
}

const schema = (properties: Record<string, unknown>, required: string[]) => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});
const str = (description: string) => ({ type: 'string', description });
const int = (description: string) => ({ type: 'integer', minimum: 1, description });

const listFiles: ToolSpec<z.ZodObject<{ path: z.ZodOptional<z.ZodString> }>> = {
  tool: {
    name: 'list_files',
    description:
      'List the files under a directory of the repository (tracked and untracked, ignored ones left out).',
    parameters: schema(
      { path: str('Directory relative to the repository root; default the root') },
      [],
    ),
  },
  input: z.object({ path: path.optional() }),
  async run(ws, { path: dir = '.' }) {
    const abs = await ws.resolve(dir);
    const rel = relative(ws.root, abs) || '.';
    const out = await ws.git(['ls-files', '--cached', '--others', '--exclude-standard', '--', rel]);
    const files = out.split('\n').filter(Boolean);
    if (files.length === 0) return `no files under ${rel}`;
    const shown = files.slice(0, MAX_LIST).join('\n');
    return files.length > MAX_LIST ? `${shown}\n… and ${files.length - MAX_LIST} more` : shown;
  },
};

const readFileTool: ToolSpec<
  z.ZodObject<{
    path: z.ZodString;
    startLine: z.ZodOptional<z.ZodNumber>;
    endLine: z.ZodOptional<z.ZodNumber>;
  }>
> = {
  tool: {
    name: 'read_file',
    description: `Read a text file, whole or a range of lines (1-based, inclusive; at most ${MAX_READ_LINES} lines at once).`,
    parameters: schema(
      {
        path: str('File relative to the repository root'),
        startLine: int('First line'),
        endLine: int('Last line'),
      },
      ['path'],
    ),
  },
  input: z.object({
    path,
    startLine: z.number().int().min(1).optional(),
    endLine: z.number().int().min(1).optional(),
  }),
  async run(ws, input) {
    const lines = (await readText(ws, input.path)).split('\n');
    const total = lines.length;
    const start = input.startLine ?? 1;
    const end = Math.min(input.endLine ?? total, total, start + MAX_READ_LINES - 1);
    if (start > total)
      throw new ToolError(`${input.path} has ${total} lines; startLine ${start} is past its end`);
    const header = start === 1 && end === total ? '' : `(lines ${start}-${end} of ${total})\n`;
    return clip(header + lines.slice(start - 1, end).join('\n'));
  },
};

const search: ToolSpec<z.ZodObject<{ pattern: z.ZodString; path: z.ZodOptional<z.ZodString> }>> = {
  tool: {
    name: 'search',
    description:
      'Search the repository with `git grep -n` (a basic regular expression); answers file:line:text.',
    parameters: schema(
      { pattern: str('Regular expression'), path: str('Limit to this file or directory') },
      ['pattern'],
    ),
  },
  input: z.object({ pattern: z.string().min(1), path: path.optional() }),
  async run(ws, { pattern, path: where = '.' }) {
    const rel = relative(ws.root, await ws.resolve(where)) || '.';
    // Exit code 1 is "no match", not a failure.
    const out = await ws.git(['grep', '-n', '-I', '--untracked', '-e', pattern, '--', rel], {
      okCodes: [1],
    });
    const lines = out.split('\n').filter(Boolean);
    if (lines.length === 0) return `no match for ${pattern}`;
    const shown = lines
      .slice(0, MAX_MATCHES)
      .map((l) => (l.length > 300 ? `${l.slice(0, 300)}…` : l));
    return clip(
      shown.join('\n') +
        (lines.length > MAX_MATCHES ? `\n… and ${lines.length - MAX_MATCHES} more` : ''),
    );
  },
};

const editShape = { path, oldText: z.string(), newText: z.string() };
const editProps = {
  path: str('File relative to the repository root'),
  oldText: str('The exact text to replace, with enough lines around it to be unique'),
  newText: str('The text to put in its place'),
};

const replace: ToolSpec<z.ZodObject<typeof editShape>> = {
  tool: {
    name: 'replace',
    description:
      'Replace one unique piece of text in a file. oldText must match exactly one place (small whitespace or indentation drift is tolerated); otherwise nothing changes and the error says why.',
    parameters: schema(editProps, ['path', 'oldText', 'newText']),
  },
  input: z.object(editShape),
  async run(ws, edit) {
    const abs = await ws.resolve(edit.path);
    const result = applyEdit(await readText(ws, edit.path), edit);
    if (!result.ok) throw new ToolError(result.message);
    await writeFile(abs, result.content);
    return `replaced in ${edit.path} at line ${result.line} (matched ${result.matchedBy})`;
  },
};

const patchShape = { edits: z.array(z.object(editShape)).min(1) };
const applyPatch: ToolSpec<z.ZodObject<typeof patchShape>> = {
  tool: {
    name: 'apply_patch',
    description:
      'Several replacements, in one or more files, applied all or none: if any edit does not match one unique place, no file changes.',
    parameters: schema(
      {
        edits: {
          type: 'array',
          minItems: 1,
          items: schema(editProps, ['path', 'oldText', 'newText']),
        },
      },
      ['edits'],
    ),
  },
  input: z.object(patchShape),
  async run(ws, { edits }) {
    const files = new Map<string, string>();
    for (const edit of edits) {
      if (files.has(edit.path)) continue;
      await ws.resolve(edit.path);
      try {
        files.set(edit.path, await readText(ws, edit.path));
      } catch {
        // Missing: applyEdits reports it with the others.
      }
    }
    const result = applyEdits(files, edits);
    if (!result.ok) throw new ToolError(result.message);
    for (const [file, content] of result.files) await writeFile(await ws.resolve(file), content);
    return `applied ${edits.length} edit(s) to ${result.files.size} file(s): ${[...result.files.keys()].join(', ')}`;
  },
};

const writeShape = { path, content: z.string() };
const writeFileTool: ToolSpec<z.ZodObject<typeof writeShape>> = {
  tool: {
    name: 'write_file',
    description: 'Create a file, or replace a whole file, with the given content.',
    parameters: schema(
      { path: str('File relative to the repository root'), content: str('The whole content') },
      ['path', 'content'],
    ),
  },
  input: z.object(writeShape),
  async run(ws, { path: file, content }) {
    const abs = await ws.resolve(file);
    await mkdir(dirname(abs), { recursive: true });
    await writeFile(abs, content);
    return `wrote ${file} (${content.split('\n').length} lines)`;
  },
};

const finish: ToolSpec<z.ZodObject<{ summary: z.ZodString }>> = {
  tool: {
    name: 'finish',
    description: 'End the task: say what was done (and what was not) in a short summary.',
    parameters: schema({ summary: str('What was done') }, ['summary']),
  },
  input: z.object({ summary: z.string() }),
  async run(_ws, { summary }) {
    return { finished: summary };
  },
};

const specs = [
  listFiles,
  readFileTool,
  search,
  replace,
  applyPatch,
  writeFileTool,
  runCommand,
  finish,
] as ToolSpec<z.ZodType>[];

/** The tools that change nothing, all a `read-only` run gets. */
const READ_ONLY = new Set(['list_files', 'read_file', 'search', 'finish']);

const available = (name: string, policy: ToolPolicy): boolean =>
  policy.readOnly ? READ_ONLY.has(name) : name !== 'run_command' || policy.commands !== null;

/** The tools as the model is told about them, in a run with this policy. */
export function toolsFor(policy: ToolPolicy): LlmTool[] {
  return specs.filter((s) => available(s.tool.name, policy)).map((s) => s.tool);
}

/** Runs one tool call; never throws: a failure is an error result for the model. */
export async function runTool(
  ws: Workspace,
  name: string,
  input: unknown,
  policy: ToolPolicy,
): Promise<ToolOutcome> {
  const spec = specs.find((s) => s.tool.name === name && available(name, policy));
  if (!spec) {
    const names = toolsFor(policy).map((t) => t.name);
    return { output: `there is no tool ${name}; the tools are ${names.join(', ')}`, isError: true };
  }
  const parsed = spec.input.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.join('.') || '(input)'}: ${i.message}`,
    );
    return { output: `invalid input for ${name}: ${problems.join('; ')}`, isError: true };
  }
  try {
    const out = await spec.run(ws, parsed.data, policy);
    return typeof out === 'string'
      ? { output: out, isError: false }
      : { output: out.finished, isError: false, finished: out.finished };
  } catch (err) {
    if (err instanceof ToolError) return { output: err.message, isError: true };
    return {
      output: `${name} failed: ${err instanceof Error ? err.message : String(err)}`,
      isError: true,
    };
  }
}
