import { PatchbayError, type AgentName } from '../contracts/index.js';
import { shellAgent } from './shell/shell-agent.js';
import type { AgentAdapter } from './types.js';

const adapters: Record<AgentName, AgentAdapter> = {
  shell: shellAgent,
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
