import { PatchbayError, type AgentName } from '../contracts/index.js';
import { claudeAgent } from './claude/adapter.js';
import { codexAgent } from './codex/adapter.js';
import { cursorAgent } from './cursor/adapter.js';
import { geminiAgent } from './gemini/adapter.js';
import { llmAgent } from './llm/adapter.js';
import { shellAgent } from './shell/shell-agent.js';
import type { AgentAdapter } from './types.js';

const adapters: Record<AgentName, AgentAdapter> = {
  shell: shellAgent,
  claude: claudeAgent,
  cursor: cursorAgent,
  codex: codexAgent,
  gemini: geminiAgent,
  llm: llmAgent,
};

export function getAgent(name: string): AgentAdapter {
  const adapter = (adapters as Record<string, AgentAdapter | undefined>)[name];
  if (!adapter) {
    throw new PatchbayError('AGENT_NOT_SUPPORTED', `agent \`${name}\` is not available`, {
      agent: name,
      available: Object.keys(adapters),
    });
  }
  return adapter;
}

export function listAgents(): AgentAdapter[] {
  return Object.values(adapters);
}
