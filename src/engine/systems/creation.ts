import { getAgent } from '../../agents/index.js';
import {
  invalidBodyField,
  PatchbayError,
  type ParsedCreateRunRequest,
  type Run,
} from '../../contracts/index.js';
import { requirePty } from '../../exec/index.js';
import { newRunRecord, toRun, type RunRecord } from '../../store/index.js';
import { git, resolveTrustedWorkdir, type GitOptions } from '../../workspaces/index.js';
import type { Budgets } from '../budgets.js';
import { assertSafeCallbackUrl } from '../callback-target.js';
import type { Conversations } from '../conversations.js';
import type { Dispatcher } from '../dispatcher.js';
import { runAttributes, traceFields } from '../run-tracing.js';
import type { RunOrigin } from '../schedules.js';
import { agentContext, getRecord, type EngineResources } from './resources.js';

/**
 * Creation: a run request is checked (agent, workspace, callback policy), passes the budgets,
 * is stored with its `queued` event and queued. Every path that creates a run ends in
 * `enqueueNew`: the API, conversations, schedules and the optimizer's stages.
 */
export function createCreationSystem(
  res: EngineResources,
  deps: {
    budgets: Budgets;
    conversations: Conversations;
    dispatcher: Dispatcher;
    gitOptions: GitOptions;
  },
) {
  const { config, store, writer, tracing, log } = res;
  const { budgets, conversations, dispatcher, gitOptions } = deps;

  function createRun(request: ParsedCreateRunRequest, origin: RunOrigin = {}): Promise<Run> {
    if (res.lifecycle.stopping) throw new PatchbayError('SERVER_SHUTTING_DOWN');
    const { conversationId } = request;
    return conversationId
      ? conversations.createRun({ ...request, conversationId }, (r) => insertRun(r, origin))
      : insertRun(request, origin);
  }

  /**
   * Every check a run request passes before it is stored: the agent's own (its CLI installed,
   * the command allowed, a prompt), the workspace (the run it follows, repo and ref, a trusted
   * workdir), pty and the callback URL policy. Budgets are not checked here: they depend on
   * the moment the run is created. Returns what the checks resolved.
   */
  async function checkRunRequest(request: ParsedCreateRunRequest) {
    const adapter = getAgent(request.agent ?? 'shell');
    await adapter.validate(request, agentContext(config, request.env ?? {}));
    if (!adapter.requestArgs) {
      for (const field of ['maxTurns', 'maxCostUsd', 'mode', 'files'] as const) {
        if (request[field] !== undefined) {
          throw invalidBodyField(field, 'llm agent only', `${field} is for the llm agent only`);
        }
      }
    }
    let follow: RunRecord | undefined;
    if (request.workspaceOf) {
      if (request.workdir || request.repo) {
        throw invalidBodyField(
          'workspaceOf',
          'not with workdir or repo',
          'workspaceOf takes the workspace of that run: give no workdir or repo',
        );
      }
      follow = await getRecord(res, request.workspaceOf);
      // A run still queued gets its workspace when it starts; the follow-up waits for it.
      if (!follow.workdir && follow.status !== 'queued') {
        throw new PatchbayError(
          'WORKSPACE_UNAVAILABLE',
          `run ${follow.id} never got a workspace (it is ${follow.status})`,
          { id: follow.id, status: follow.status },
        );
      }
    }
    if (request.repo) {
      if (request.workdir) {
        throw invalidBodyField('workdir', 'not with repo', 'give either repo or workdir, not both');
      }
      await assertRef(request.repo, request.ref);
    }
    assertValidateRequest(request, adapter, follow);
    const workdir = request.workdir
      ? await resolveTrustedWorkdir(request.workdir, config.workspaceRoots)
      : null;
    if (request.deliver && request.deliver !== 'none' && !request.repo && !follow?.repoId) {
      throw new PatchbayError(
        'DELIVERY_NOT_POSSIBLE',
        `deliver: ${request.deliver} needs a repository run (repo, or a conversation on one)`,
      );
    }
    if (request.pty) await requirePty();
    if (request.callbackFormat === 'standard-webhooks' && !config.webhookSecret) {
      throw new PatchbayError('CALLBACK_SECRET_MISSING');
    }
    if (request.callbackUrl) {
      await assertSafeCallbackUrl(request.callbackUrl, {
        allowPrivate: config.allowPrivateCallbackUrls,
      });
    }
    return { adapter, follow, workdir };
  }

  /**
   * Validates a run request exactly as createRun would, without storing anything: for what
   * starts runs later (schedules), so a request every tick would refuse is refused once, now.
   * A conversation's request is checked as the conversation would complete it.
   */
  async function validateRun(request: ParsedCreateRunRequest): Promise<void> {
    const { conversationId } = request;
    await checkRunRequest(
      conversationId ? (await conversations.plan({ ...request, conversationId })).planned : request,
    );
  }

  async function insertRun(request: ParsedCreateRunRequest, origin: RunOrigin): Promise<Run> {
    const { adapter, follow, workdir } = await checkRunRequest(request);
    const record = newRunRecord({
      agent: adapter.name,
      command: request.command ?? null,
      prompt: request.prompt ?? null,
      workdir,
      env: request.env ?? {},
      pty: request.pty ?? false,
      timeoutMs: request.timeoutMs ?? adapter.defaultTimeoutMs?.(request) ?? config.runTimeoutMs,
      idleTimeoutMs: request.idleTimeoutMs ?? config.idleTimeoutMs,
      maxOutputBytes: request.maxOutputBytes ?? config.maxOutputBytes,
      outputPolicy: request.outputPolicy ?? config.outputPolicy,
      callbackUrl: request.callbackUrl ?? null,
      model: request.model ?? null,
      args: [...(request.args ?? []), ...(adapter.requestArgs?.(request) ?? [])],
      resumeSessionId: request.resumeSessionId ?? null,
      agentPermissions: request.agentPermissions ?? 'edit',
      validateMode: request.validate ?? null,
      maxFixRounds: request.maxFixRounds ?? null,
      deliver: request.deliver ?? 'none',
      repoId: request.repo ?? null,
      ref: request.ref ?? null,
      autoCommit: request.autoCommit ?? true,
      network: request.network ?? false,
      conversationId: request.conversationId ?? null,
      ...(request.queue ? { queue: request.queue } : {}),
      retries: request.retries ?? 0,
      scheduleId: origin.scheduleId ?? null,
      origin: origin.origin ?? null,
      triggerId: origin.triggerId ?? null,
      replyTo: origin.replyTo ?? null,
      callbackFormat: request.callbackFormat ?? 'patchbay',
      ...(follow && {
        workdir: follow.workdir,
        repoId: follow.repoId,
        branch: follow.branch,
        workspaceOf: follow.workspaceOf ?? follow.id,
      }),
    });
    return enqueueNew(record);
  }

  /** Stores a new run (within the budgets), its `queued` event, and queues it. */
  function enqueueNew(created: RunRecord): Promise<Run> {
    // The span the run is created in (a child of the request's) is stored with it, so the
    // process that runs it continues the same trace.
    return tracing.inSpan('run.create', { attributes: runAttributes(created) }, (span) =>
      storeAndQueue({ ...created, ...traceFields(span) }),
    );
  }

  async function storeAndQueue(record: RunRecord): Promise<Run> {
    await budgets.insertRun(record);
    writer.track(record.id, 0);
    writer.append(record.id, 'status', { status: 'queued' });
    // Stored before any worker can take the run, and no longer numbered here: the process that
    // runs it (this one or another sharing the store) continues the seq from the store.
    await writer.flush();
    writer.untrack(record.id);
    log.info({ runId: record.id, agent: record.agent, kind: record.kind }, 'run queued');
    res.knownQueues.add(record.queue);
    await tracing.inSpan('queue.enqueue', { kind: 'producer' }, () => dispatcher.enqueue(record));
    const run = toRun(record);
    res.events.emit('runCreated', { run });
    return run;
  }

  /** The repository, the ref (default its default branch) and the commit it names. */
  async function assertRef(repoId: string, requested: string | undefined) {
    const repo = await store.repos.get(repoId);
    if (!repo) throw new PatchbayError('REPO_NOT_FOUND', `no repository ${repoId}`);
    const ref = requested ?? repo.defaultBranch;
    const sha = await git(
      ['rev-parse', '--verify', '-q', `${ref}^{commit}`],
      repo.path,
      gitOptions,
    ).catch(() => {
      throw new PatchbayError('REPO_REF_NOT_FOUND', `${ref} is not a commit of ${repo.name}`, {
        ref,
      });
    });
    return { repo, ref, sha: sha.trim() };
  }

  return { createRun, validateRun, enqueueNew, assertRef };
}

/**
 * `validate` and `maxFixRounds` are for runs on a repository (its own or the one of the run it
 * follows); `fix` needs an agent that can continue its session for the follow-up turns.
 */
function assertValidateRequest(
  request: ParsedCreateRunRequest,
  adapter: ReturnType<typeof getAgent>,
  follow: RunRecord | undefined,
): void {
  const onRepo = request.repo !== undefined || (follow?.repoId ?? null) !== null;
  for (const field of ['validate', 'maxFixRounds'] as const) {
    if (request[field] !== undefined && !onRepo) {
      throw invalidBodyField(
        field,
        'repository runs only',
        `${field} is for runs on a repository (give repo, or workspaceOf a repository run)`,
      );
    }
  }
  if (request.validate === 'fix' && !adapter.capabilities.resume) {
    throw invalidBodyField(
      'validate',
      'the agent cannot take a follow-up turn',
      `validate: fix gives the agent the failing checks in a follow-up turn of its session; the ${adapter.name} agent cannot continue a session (use report)`,
    );
  }
}

export type CreationSystem = ReturnType<typeof createCreationSystem>;
