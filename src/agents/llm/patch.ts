/**
 * The `llm` agent's one-shot mode (`mode: "patch"`): one model call, given the named files
 * whole, answers with edits to them (the `apply_patch` tool's shape); they are applied through
 * the edits ladder, all or none, and every touched JavaScript or TypeScript file must still
 * parse. No turns, no retries with the model: a patch that does not apply or parse fails the
 * run (LLM_PATCH_NOT_APPLIED, LLM_PATCH_INVALID) and leaves the files as they were.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type * as TypeScript from 'typescript';
import { PatchbayError } from '../../contracts/index.js';
import { applyEdits, type FileEdit, type LlmTool } from '../../llm/index.js';
import { repositoryInstructions } from './context.js';
import { createSession, type SessionOptions } from './session.js';
import { createWorkspace, type Workspace } from './workspace.js';

export interface LlmPatchOptions extends SessionOptions {
  cwd: string;
  prompt: string;
  files: string[];
  model?: string;
  signal?: AbortSignal;
}

const MAX_FILE_CHARS = 200_000;

const SUBMIT: LlmTool = {
  name: 'apply_patch',
  description:
    'The change, as replacements in the given files: each oldText copied exactly from the file (enough lines to be unique), newText what replaces it. Applied all or none.',
  parameters: {
    type: 'object',
    properties: {
      edits: {
        type: 'array',
        minItems: 1,
        items: {
          type: 'object',
          properties: {
            path: { type: 'string' },
            oldText: { type: 'string' },
            newText: { type: 'string' },
          },
          required: ['path', 'oldText', 'newText'],
          additionalProperties: false,
        },
      },
      summary: { type: 'string', description: 'One sentence: what the change does' },
    },
    required: ['edits'],
    additionalProperties: false,
  },
};

/** The compiler, loaded on the first JS/TS file checked (it is ~10 MB of heap). */
let typescript: Promise<typeof TypeScript> | undefined;
const loadTypeScript = (): Promise<typeof TypeScript> =>
  (typescript ??= import('typescript').then(
    (m) => ((m as unknown as { default?: typeof TypeScript }).default ?? m) as typeof TypeScript,
  ));

const JS_TS = new Set(['.js', '.jsx', '.mjs', '.cjs', '.ts', '.tsx', '.mts', '.cts']);

/** The first syntax error of each JS/TS file that no longer parses. */
export async function syntaxErrors(files: Map<string, string>): Promise<string[]> {
  const checked = [...files].filter(([path]) => JS_TS.has(extname(path).toLowerCase()));
  if (checked.length === 0) return [];
  const ts = await loadTypeScript();
  const errors: string[] = [];
  for (const [path, text] of checked) {
    const ext = extname(path).toLowerCase();
    const kind =
      ext === '.tsx'
        ? ts.ScriptKind.TSX
        : ext === '.jsx'
          ? ts.ScriptKind.JSX
          : ext.includes('t')
            ? ts.ScriptKind.TS
            : ts.ScriptKind.JS;
    const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, kind);
    // The parser's own diagnostics: syntax only, no type checking (internal, but stable).
    const diagnostics = (
      source as unknown as { parseDiagnostics?: readonly TypeScript.Diagnostic[] }
    ).parseDiagnostics;
    const first = diagnostics?.[0];
    if (first) {
      const { line, character } = source.getLineAndCharacterOfPosition(first.start ?? 0);
      const message = ts.flattenDiagnosticMessageText(first.messageText, ' ');
      errors.push(`${path}:${line + 1}:${character + 1}: ${message}`);
    }
  }
  return errors;
}

const EditsInput = (input: unknown): FileEdit[] | undefined => {
  const edits = (input as { edits?: unknown } | null)?.edits;
  if (!Array.isArray(edits) || edits.length === 0) return undefined;
  const ok = edits.every(
    (e: unknown) =>
      typeof e === 'object' &&
      e !== null &&
      ['path', 'oldText', 'newText'].every(
        (k) => typeof (e as Record<string, unknown>)[k] === 'string',
      ),
  );
  return ok ? (edits as FileEdit[]) : undefined;
};

async function readNamed(ws: Workspace, files: string[]): Promise<Map<string, string>> {
  const contents = new Map<string, string>();
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(await ws.resolve(file), 'utf8');
    } catch (err) {
      throw new PatchbayError(
        'LLM_PATCH_NOT_APPLIED',
        `${file}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    if (text.length > MAX_FILE_CHARS) {
      throw new PatchbayError(
        'LLM_PATCH_NOT_APPLIED',
        `${file} is over ${MAX_FILE_CHARS} characters: too large to send whole`,
      );
    }
    contents.set(file, text);
  }
  return contents;
}

/** One call, its edits applied and checked; the last line emitted is always a `result`. */
export async function runLlmPatch(options: LlmPatchOptions): Promise<{ ok: boolean }> {
  const { emit } = options;
  const session = createSession(options);
  try {
    const ws = await createWorkspace(options.cwd);
    const files = await readNamed(ws, options.files);
    const instructions = await repositoryInstructions(ws);
    const system = [
      'You change code by answering with one call of the `apply_patch` tool: replacements in the files below, each oldText copied exactly from the file with enough lines to match one place. Edit only these files. No other answer is read.',
      ...(instructions ? [`# The repository's instructions\n\n${instructions}`] : []),
    ].join('\n\n');
    const user = [
      options.prompt,
      ...[...files].map(([path, text]) => `## ${path}\n\n\`\`\`\n${text}\n\`\`\``),
    ].join('\n\n');
    const messages = [
      { role: 'system' as const, content: system },
      { role: 'user' as const, content: user },
    ];
    session.countTurn();
    let result;
    for await (const part of session.client.stream({
      purpose: 'agent.patch',
      messages,
      tools: [SUBMIT],
      ...(options.model ? { model: options.model } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    })) {
      if (part.type === 'text' && part.text)
        emit({ type: 'message', text: part.text, delta: true });
      if (part.type === 'finish') result = part.result;
    }
    if (!result) throw new Error('the model stream ended without its result');
    if (result.text) emit({ type: 'message', text: result.text });
    const call = result.toolCalls.find((c) => c.name === SUBMIT.name);
    const edits = call ? EditsInput(call.input) : undefined;
    if (!call || !edits) {
      throw new PatchbayError(
        'LLM_PATCH_NOT_APPLIED',
        'the model answered without an apply_patch call with edits',
      );
    }
    emit({ type: 'tool_call', id: call.id, name: call.name, input: call.input });
    const outside = edits.filter((e) => !files.has(e.path)).map((e) => e.path);
    const applied =
      outside.length > 0
        ? { ok: false as const, message: `edits to files not given: ${outside.join(', ')}` }
        : applyEdits(files, edits);
    if (!applied.ok) {
      emit({
        type: 'tool_result',
        id: call.id,
        name: call.name,
        output: applied.message,
        isError: true,
      });
      throw new PatchbayError('LLM_PATCH_NOT_APPLIED', applied.message);
    }
    const invalid = await syntaxErrors(applied.files);
    if (invalid.length > 0) {
      const message = `the patch leaves files that do not parse: ${invalid.join('; ')}`;
      emit({ type: 'tool_result', id: call.id, name: call.name, output: message, isError: true });
      throw new PatchbayError('LLM_PATCH_INVALID', message);
    }
    for (const [file, content] of applied.files) await writeFile(await ws.resolve(file), content);
    const summary =
      (call.input as { summary?: unknown }).summary ??
      `applied ${edits.length} edit(s) to ${[...applied.files.keys()].join(', ')}`;
    emit({
      type: 'tool_result',
      id: call.id,
      name: call.name,
      output: String(summary),
      isError: false,
    });
    return session.end(true, String(summary));
  } catch (err) {
    return session.fail(err, options.signal);
  }
}
