/** The common messages and tools in the AI SDK's shapes (which each provider then maps). */
import type { ModelMessage, ToolSet } from 'ai';
import type { LlmMessage, LlmTool } from './types.js';

export function toModelMessages(messages: readonly LlmMessage[]): ModelMessage[] {
  return messages.map((m): ModelMessage => {
    switch (m.role) {
      case 'system':
      case 'user':
        return { role: m.role, content: m.content };
      case 'assistant':
        return {
          role: 'assistant',
          content: [
            ...(m.reasoning ? [{ type: 'reasoning' as const, text: m.reasoning }] : []),
            ...(m.content ? [{ type: 'text' as const, text: m.content }] : []),
            ...(m.toolCalls ?? []).map((c) => ({
              type: 'tool-call' as const,
              toolCallId: c.id,
              toolName: c.name,
              input: c.input,
            })),
          ],
        };
      case 'tool':
        return {
          role: 'tool',
          content: m.results.map((r) => ({
            type: 'tool-result' as const,
            toolCallId: r.callId,
            toolName: r.name,
            output: r.isError
              ? { type: 'error-text' as const, value: r.output }
              : { type: 'text' as const, value: r.output },
          })),
        };
    }
  });
}

/** Tools without `execute`: the model asks, the caller runs them and sends the results. */
export async function toToolSet(
  tools: readonly LlmTool[] | undefined,
): Promise<ToolSet | undefined> {
  if (!tools || tools.length === 0) return undefined;
  const { jsonSchema, tool } = await import('ai');
  return Object.fromEntries(
    tools.map((t) => [
      t.name,
      tool({ description: t.description, inputSchema: jsonSchema(t.parameters as never) }),
    ]),
  );
}
