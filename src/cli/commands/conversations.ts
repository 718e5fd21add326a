import type { Command } from 'commander';
import type { Conversation } from '../../contracts/index.js';
import { createContext } from '../context.js';
import { out } from '../output.js';

function describe(c: Conversation): string {
  const where = c.repoId ?? c.workdir ?? 'fresh directory';
  return `${c.id}  ${c.agent}  ${c.title ?? '(untitled)'}  ${where}  ${c.messageCount} message(s)${c.summary ? '  [summary pending]' : ''}`;
}

export function registerConversations(program: Command): void {
  const conversations = program
    .command('conversations')
    .description(
      'Conversations: one agent session over many runs in one workspace (send with `patchbay run --conversation <id> -- "prompt"`)',
    );
  conversations
    .command('new')
    .description('Start a conversation')
    .requiredOption('--agent <name>', 'claude | cursor | codex | gemini | llm')
    .option('--repo <id>', 'work on this repository (the first run makes its worktree)')
    .option('--ref <ref>', 'where that worktree starts')
    .option('--workdir <dir>', 'or work in this directory (inside a trusted root)')
    .option('--model <model>', 'default model of its runs')
    .option('--title <title>', 'a title')
    .option('--json', 'print JSON')
    .action(
      async (
        opts: {
          agent: string;
          repo?: string;
          ref?: string;
          workdir?: string;
          model?: string;
          title?: string;
          json?: boolean;
        },
        command: Command,
      ) => {
        const c = await createContext(command).client.createConversation({
          agent: opts.agent as Conversation['agent'],
          ...(opts.repo ? { repo: opts.repo } : {}),
          ...(opts.ref ? { ref: opts.ref } : {}),
          ...(opts.workdir ? { workdir: opts.workdir } : {}),
          ...(opts.model ? { model: opts.model } : {}),
          ...(opts.title ? { title: opts.title } : {}),
        });
        if (opts.json) out.json(c);
        else out.line(c.id);
      },
    );
  conversations
    .command('list')
    .description('List conversations, newest first')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const { conversations: list } = await createContext(command).client.listConversations();
      if (opts.json) out.json(list);
      else if (list.length === 0)
        out.note('no conversations yet (patchbay conversations new --agent claude)');
      else for (const c of list) out.line(describe(c));
    });
  conversations
    .command('show')
    .description('Show a conversation and its messages')
    .argument('<id>', 'conversation id')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }, command: Command) => {
      const c = await createContext(command).client.getConversation(id);
      if (opts.json) {
        out.json(c);
        return;
      }
      out.line(describe(c));
      if (c.sessionId) out.line(`session ${c.sessionId}`);
      for (const m of c.messages) {
        out.line(
          `\n[${m.seq}] ${m.role}${m.runId ? ` (${m.runId}${m.runStatus ? `, ${m.runStatus}` : ''})` : ''}`,
        );
        out.line(m.content);
      }
    });
}
