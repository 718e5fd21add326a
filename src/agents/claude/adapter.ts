import { createCliAgent } from '../cli-agent.js';
import { createClaudeParser } from './parser.js';

/** `claude -p <prompt> --output-format stream-json --verbose` (stream-json needs --verbose). */
export const claudeAgent = createCliAgent({
  name: 'claude',
  stateDirs: ['.claude', '.claude.json', '.config/claude'],
  capabilities: { resume: true, interrupt: true, usage: true, cost: true, streamingText: true },
  args: (run) => [
    '-p',
    run.prompt,
    '--output-format',
    'stream-json',
    '--verbose',
    ...(run.model ? ['--model', run.model] : []),
    ...(run.resumeSessionId ? ['--resume', run.resumeSessionId] : []),
    ...run.args,
  ],
  createParser: createClaudeParser,
});
