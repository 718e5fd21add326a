import type { z } from 'zod';
import type { LlmTool } from '../../llm/index.js';
import type { Workspace } from './workspace.js';

/** What a run lets its tools do, from its `agentPermissions` and the server's allow-list. */
export interface ToolPolicy {
  /** Only the tools that change nothing (`read-only`). */
  readOnly: boolean;
  /**
   * Commands (`full` only), or null for none; `allowed` is PATCHBAY_ALLOWED_COMMANDS (names
   * of executables), undefined for any.
   */
  commands: { allowed?: string[]; timeoutMs: number; env: Record<string, string> } | null;
}

/** One tool: what the model is told, the input it must send, and what it does. */
export interface ToolSpec<S extends z.ZodType> {
  tool: LlmTool;
  input: S;
  /** The tool's answer, or `{ finished }` to end the loop; a ToolError for a failure. */
  run(ws: Workspace, input: z.infer<S>, policy: ToolPolicy): Promise<string | { finished: string }>;
}
