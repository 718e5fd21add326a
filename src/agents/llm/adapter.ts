import {
  PatchbayError,
  type AgentPermissions,
  type ParsedCreateRunRequest,
} from '../../contracts/index.js';
import type { AgentAdapter } from '../types.js';
import { createLlmParser } from './parser.js';

/** The flags a run may pass in `args`, each with one value. */
const LIMIT_FLAGS: Record<string, (value: string) => boolean> = {
  '--max-turns': (v) => /^[1-9][0-9]{0,3}$/.test(v),
  '--max-cost-usd': (v) => /^[0-9]+(\.[0-9]+)?$/.test(v) && Number(v) > 0,
  '--mode': (v) => v === 'agent' || v === 'patch',
  '--file': (v) => v.length > 0 && !v.startsWith('-'),
};

/** `mode: "patch"`: one call, so a short default timeout. */
export const PATCH_TIMEOUT_MS = 180_000;

function patchMode(request: { mode?: string | undefined; args?: string[] | undefined }): boolean {
  if (request.mode) return request.mode === 'patch';
  const args = request.args ?? [];
  const i = args.indexOf('--mode');
  return i >= 0 && args[i + 1] === 'patch';
}

function assertLimitArgs(args: string[]): void {
  for (let i = 0; i < args.length; i += 2) {
    const flag = args[i]!;
    const value = args[i + 1];
    const check = LIMIT_FLAGS[flag];
    if (!check || value === undefined || !check(value)) {
      throw new PatchbayError(
        'VALIDATION_FAILED',
        `the llm agent takes only \`--max-turns <1-9999>\`, \`--max-cost-usd <usd>\`, \`--mode agent|patch\` and \`--file <path>\` in args; got \`${args.slice(i, i + 2).join(' ')}\``,
        { fields: [{ path: 'args', message: 'unknown flag or bad value' }] },
      );
    }
  }
}

/** `mode: "patch"` needs files and a fresh session; files are for patch mode only. */
function assertPatchRequest(request: ParsedCreateRunRequest): void {
  const patch = patchMode(request);
  const files = request.files?.length ?? (request.args ?? []).filter((a) => a === '--file').length;
  if (patch && files === 0) {
    throw new PatchbayError('VALIDATION_FAILED', 'mode "patch" needs the files it may edit', {
      fields: [{ path: 'files', message: 'required with mode "patch"' }],
    });
  }
  if (!patch && files > 0) {
    throw new PatchbayError('VALIDATION_FAILED', 'files are for mode "patch" only', {
      fields: [{ path: 'files', message: 'only with mode "patch"' }],
    });
  }
  if (patch && (request.resumeSessionId || request.conversationId)) {
    throw new PatchbayError('VALIDATION_FAILED', 'mode "patch" is one call: it does not resume', {
      fields: [{ path: 'mode', message: 'not in a conversation or a resume' }],
    });
  }
  if (patch && request.agentPermissions === 'read-only') {
    throw new PatchbayError('VALIDATION_FAILED', 'mode "patch" edits: not with read-only', {
      fields: [{ path: 'agentPermissions', message: 'read-only cannot patch' }],
    });
  }
}

/**
 * `read-only`: the tools that read; `edit`: and those that edit; `full`: and `run_command`,
 * limited to PATCHBAY_ALLOWED_COMMANDS when the server sets it.
 */
function permissionArgs(permissions: AgentPermissions, allowed: string[] | undefined): string[] {
  switch (permissions) {
    case 'read-only':
      return ['--read-only'];
    case 'edit':
      return [];
    case 'full':
      return ['--commands', ...(allowed ? ['--allowed-commands', allowed.join(',')] : [])];
  }
}

/**
 * The built-in coding agent: this installation itself, `patchbay agent llm [--model m]
 * [--max-turns n] [--max-cost-usd x] -- <prompt>`, run as a supervised child like any CLI
 * agent (sandbox, timeouts, pause/cancel, output caps and events unchanged). The model
 * settings (AgentContext.llm.env, keys included) reach it as the first line of its stdin:
 * never in argv or its environment; so does the transcript of a session it resumes (stored by
 * the server as each run's `transcript.json`).
 */
export const llmAgent: AgentAdapter = {
  name: 'llm',
  capabilities: { resume: true, interrupt: true, usage: true, cost: true, streamingText: true },
  sessionArtifact: 'transcript.json',
  async validate(request) {
    if (!request.prompt) {
      throw new PatchbayError('RUN_PROMPT_REQUIRED', 'the llm agent needs a prompt', {
        field: 'prompt',
      });
    }
    if (request.pty) {
      // Its settings go in on stdin: a terminal would echo them into the output.
      throw new PatchbayError('VALIDATION_FAILED', 'the llm agent does not run in a terminal', {
        fields: [{ path: 'pty', message: 'not for the llm agent' }],
      });
    }
    assertLimitArgs(request.args ?? []);
    assertPatchRequest(request);
    for (const [field, flag] of [
      ['maxTurns', '--max-turns'],
      ['maxCostUsd', '--max-cost-usd'],
      ['mode', '--mode'],
      ['files', '--file'],
    ] as const) {
      if (request[field] !== undefined && request.args?.includes(flag)) {
        throw new PatchbayError('VALIDATION_FAILED', `give ${field} or ${flag} in args, not both`, {
          fields: [{ path: field, message: `also ${flag} in args` }],
        });
      }
    }
  },
  requestArgs(request) {
    return [
      ...(request.maxTurns !== undefined ? ['--max-turns', String(request.maxTurns)] : []),
      ...(request.maxCostUsd !== undefined ? ['--max-cost-usd', String(request.maxCostUsd)] : []),
      ...(request.mode ? ['--mode', request.mode] : []),
      ...(request.files ?? []).flatMap((f) => ['--file', f]),
    ];
  },
  defaultTimeoutMs: (request) => (patchMode(request) ? PATCH_TIMEOUT_MS : undefined),
  plan(run, context) {
    if (!context.llm) throw new Error('the llm agent needs AgentContext.llm');
    return {
      argv: [
        ...context.llm.self,
        'agent',
        'llm',
        ...(run.model ? ['--model', run.model] : []),
        ...permissionArgs(run.agentPermissions, context.allowedCommands),
        '--settings-stdin',
        ...run.args,
        '--',
        run.prompt ?? '',
      ],
      // On stdin, not in the env: a command the model runs could read its parent's initial
      // environment (/proc/<pid>/environ), never what the parent read from a pipe.
      stdin: 'pipe',
      input: `${JSON.stringify({
        settings: context.llm.env,
        ...(run.resumeSessionId
          ? { session: { id: run.resumeSessionId, messages: run.sessionMessages ?? [] } }
          : {}),
        ...(run.repo ? { repo: run.repo } : {}),
      })}\n`,
    };
  },
  createParser: createLlmParser,
};
