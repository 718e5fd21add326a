import { createCliAgent } from '../cli-agent.js';
import { createCodexParser } from './parser.js';

/** `codex exec --json [-m model] <prompt>`, or `codex exec resume <id> --json <prompt>`. */
export const codexAgent = createCliAgent({
  name: 'codex',
  install: 'npm install -g @openai/codex',
  stateDirs: ['.codex'],
  capabilities: { resume: true, interrupt: true, usage: true, cost: false, streamingText: false },
  args: (run) => [
    'exec',
    ...(run.resumeSessionId ? ['resume', run.resumeSessionId] : []),
    '--json',
    '--skip-git-repo-check',
    ...(run.model ? ['-m', run.model] : []),
    ...run.args,
    run.prompt,
  ],
  createParser: createCodexParser,
});
