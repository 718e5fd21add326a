import { z } from 'zod';
import { PatchbayError } from '../../contracts/index.js';
import type { McpBackend } from '../backend.js';

/** What a tool's call gets besides its arguments. */
export interface ToolContext {
  backend: McpBackend;
  /** The longest one call may hold waiting for a run (PATCHBAY_MCP_WAIT_LIMIT_MS). */
  waitLimitMs: number;
  /** Aborted when the client cancels the call or goes away. */
  signal: AbortSignal;
  /**
   * Tells the client how far a long call has come (`notifications/progress`); does nothing
   * when the client did not ask for progress (no `progressToken`). `progress` must grow.
   */
  progress(progress: number, message: string): Promise<void>;
}

/** MCP's hints about a tool's behaviour, shown by clients when they ask for approval. */
export interface ToolHints {
  /** Calling it again with the same arguments changes nothing more. */
  idempotent?: boolean;
  /** It may undo or destroy something (cancel a run). */
  destructive?: boolean;
}

/**
 * One MCP tool. Its input is a zod object, parsed once per call (bad arguments are
 * VALIDATION_FAILED with the fields); what `call` returns is the tool's structured result, and
 * a PatchbayError it throws is answered as a tool error carrying the error's code.
 */
export interface ToolDefinition<
  Input extends z.ZodType<Record<string, unknown>> = z.ZodType<Record<string, unknown>>,
> {
  /** snake_case; clients show it prefixed with the server's name (`patchbay`). */
  name: string;
  title: string;
  description: string;
  input: Input;
  /**
   * Whether a call can change anything (start, stop or register something). Read-only mode
   * (PATCHBAY_MCP_READ_ONLY, `patchbay mcp --read-only`) leaves these out.
   */
  mutates: boolean;
  hints?: ToolHints;
  call(args: z.output<Input>, ctx: ToolContext): Promise<Record<string, unknown>>;
}

/** Declares a tool with its argument types inferred from its input schema. */
export function defineTool<Input extends z.ZodType<Record<string, unknown>>>(
  tool: ToolDefinition<Input>,
): ToolDefinition {
  return tool as unknown as ToolDefinition;
}

/** The tools one MCP server offers: all of them, or in read-only mode those that change nothing. */
export interface ToolRegistry {
  list(): ToolDefinition[];
  /**
   * @throws PatchbayError MCP_TOOL_NOT_FOUND for a name no tool has; MCP_TOOL_READ_ONLY for a
   *   tool that changes something when the server is read-only.
   */
  get(name: string): ToolDefinition;
}

export function createToolRegistry(
  tools: readonly ToolDefinition[],
  options: { readOnly: boolean },
): ToolRegistry {
  const byName = new Map<string, ToolDefinition>();
  for (const tool of tools) {
    if (byName.has(tool.name)) throw new Error(`two MCP tools are named ${tool.name}`);
    byName.set(tool.name, tool);
  }
  const offered = tools.filter((t) => !(options.readOnly && t.mutates));
  return {
    list: () => offered,
    get(name) {
      const tool = byName.get(name);
      if (!tool) {
        throw new PatchbayError('MCP_TOOL_NOT_FOUND', `no tool ${JSON.stringify(name)}`, {
          tool: name,
        });
      }
      if (options.readOnly && tool.mutates) {
        throw new PatchbayError(
          'MCP_TOOL_READ_ONLY',
          `${name} changes something and this MCP server is read-only (PATCHBAY_MCP_READ_ONLY or --read-only)`,
          { tool: name },
        );
      }
      return tool;
    },
  };
}

/** Parses a call's arguments: VALIDATION_FAILED with the offending fields, as the HTTP API does. */
export function parseArguments<T>(schema: z.ZodType<T>, args: unknown): T {
  const parsed = schema.safeParse(args ?? {});
  if (parsed.success) return parsed.data;
  const fields = parsed.error.issues.map((i) => ({
    location: 'arguments',
    path: i.path.join('.') || '(root)',
    message: i.message,
  }));
  throw new PatchbayError(
    'VALIDATION_FAILED',
    `invalid arguments: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`,
    { fields },
  );
}

/** The JSON Schema MCP clients see for a tool's arguments. */
export function inputJsonSchema(schema: z.ZodType): { type: 'object'; [k: string]: unknown } {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  delete json.$schema;
  return { ...json, type: 'object' };
}
