export { getAgent, listAgents } from './registry.js';
export { assertCommandAllowed, shellAgent } from './shell/shell-agent.js';
export type { AgentAdapter, AgentCapabilities, AgentContext, LaunchPlan } from './types.js';
