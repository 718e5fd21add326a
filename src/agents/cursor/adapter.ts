import { createCliAgent } from '../cli-agent.js';
import { createCursorParser } from './parser.js';

/** `cursor-agent -p --output-format stream-json --force [--resume id] <prompt>`. */
export const cursorAgent = createCliAgent({
  name: 'cursor',
  // Not on npm: Cursor ships its own installer (https://cursor.com/cli, into ~/.local/bin).
  install: 'curl https://cursor.com/install -fsS | bash',
  stateDirs: ['.cursor', '.config/cursor'],
  capabilities: { resume: true, interrupt: true, usage: false, cost: false, streamingText: true },
  args: (run) => [
    '-p',
    '--output-format',
    'stream-json',
    '--force',
    ...(run.model ? ['--model', run.model] : []),
    ...(run.resumeSessionId ? ['--resume', run.resumeSessionId] : []),
    ...run.args,
    run.prompt,
  ],
  createParser: createCursorParser,
});
