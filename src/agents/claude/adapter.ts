import { randomUUID } from 'node:crypto';
import { createCliAgent } from '../cli-agent.js';
import { createClaudeParser } from './parser.js';

/**
 * `claude -p --output-format stream-json --verbose --input-format stream-json` (stream-json
 * output needs --verbose). The prompt goes in as a user message on stdin, which stays open so
 * that an interrupt is a control request (the turn ends, the process and session survive);
 * stdin is closed once the result arrives, and the CLI exits.
 */
export const claudeAgent = createCliAgent({
  name: 'claude',
  install: 'npm install -g @anthropic-ai/claude-code',
  stateDirs: ['.claude', '.config/claude'],
  // Its main config; an empty file would read as corrupt, so a new one is an empty object.
  stateFiles: { '.claude.json': '{}\n' },
  capabilities: { resume: true, interrupt: true, usage: true, cost: true, streamingText: true },
  args: (run) => [
    '-p',
    '--output-format',
    'stream-json',
    '--verbose',
    '--input-format',
    'stream-json',
    ...(run.model ? ['--model', run.model] : []),
    ...(run.resumeSessionId ? ['--resume', run.resumeSessionId] : []),
    ...run.args,
  ],
  stdinChannel: {
    input: (run) =>
      `${JSON.stringify({ type: 'user', message: { role: 'user', content: run.prompt } })}\n`,
    interrupt: () =>
      `${JSON.stringify({ type: 'control_request', request_id: randomUUID(), request: { subtype: 'interrupt' } })}\n`,
  },
  createParser: createClaudeParser,
});
