import type { AgentPermissions } from '../../contracts/index.js';
import { createCliAgent } from '../cli-agent.js';
import { createCursorParser } from './parser.js';

/**
 * Cursor has no edit-only mode: `--force` lets it write files and run commands unasked (`edit`
 * and `full`); `read-only` runs in `--mode ask`, which changes nothing.
 */
function permissionArgs(permissions: AgentPermissions): string[] {
  return permissions === 'read-only' ? ['--mode', 'ask'] : ['--force'];
}

/**
 * `cursor-agent -p --output-format stream-json --trust <--force | --mode ask> [--model m]
 * [--resume id] [args] <prompt>`: `--trust` because a headless run cannot answer the
 * workspace-trust question.
 */
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
    '--trust',
    ...permissionArgs(run.agentPermissions),
    ...(run.model ? ['--model', run.model] : []),
    ...(run.resumeSessionId ? ['--resume', run.resumeSessionId] : []),
    ...run.args,
    run.prompt,
  ],
  createParser: createCursorParser,
});
