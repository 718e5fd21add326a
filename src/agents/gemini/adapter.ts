import { createCliAgent } from '../cli-agent.js';
import { createGeminiParser } from './parser.js';

/** `gemini -p <prompt> --output-format stream-json [--resume id]`. */
export const geminiAgent = createCliAgent({
  name: 'gemini',
  install: 'npm install -g @google/gemini-cli',
  stateDirs: ['.gemini'],
  capabilities: { resume: true, interrupt: true, usage: true, cost: false, streamingText: true },
  args: (run) => [
    ...(run.resumeSessionId ? ['--resume', run.resumeSessionId] : []),
    '-p',
    run.prompt,
    '--output-format',
    'stream-json',
    ...(run.model ? ['--model', run.model] : []),
    ...run.args,
  ],
  createParser: createGeminiParser,
});
