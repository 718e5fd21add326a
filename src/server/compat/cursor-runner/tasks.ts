import type { FastifyInstance } from 'fastify';
import type { Logger } from '../../../observability/index.js';
import type { CursorRunnerTaskRecord, Store } from '../../../store/index.js';
import type { Execution } from './execution.js';
import { CompatFailure } from './wire.js';

/** cursor-runner's task statuses. */
export const TaskStatus = { ready: 0, complete: 1, archived: 2, backlogged: 3, inProgress: 4 };
const LABELS = ['ready', 'complete', 'archived', 'backlogged', 'in_progress'] as const;

/** A task as cursor-runner's clients read it (the columns of its `tasks` table). */
export function taskView(t: CursorRunnerTaskRecord) {
  return {
    id: t.id,
    prompt: t.prompt,
    status: t.status,
    status_label: LABELS[t.status] ?? 'unknown',
    createdat: t.createdAt,
    updatedat: t.updatedAt,
    order: t.order,
    uuid: t.uuid,
    runId: t.runId,
  };
}

function taskId(params: unknown): number {
  const id = Number.parseInt((params as { id: string }).id, 10);
  if (Number.isNaN(id)) throw new CompatFailure(400, 'Invalid task ID. Must be a number.');
  return id;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** `/api/tasks` CRUD, with cursor-runner's messages and status codes. */
export function registerTaskRoutes(app: FastifyInstance, store: Store): void {
  const repo = store.cursorRunner;
  const notFound = (): CompatFailure => new CompatFailure(404, 'Task not found', 'TASK_NOT_FOUND');

  app.get('/api/tasks', { schema: { hide: true } }, async (request) => {
    const raw = (request.query as Record<string, string | undefined>).status;
    const status = raw !== undefined ? Number.parseInt(raw, 10) : undefined;
    if (status !== undefined && Number.isNaN(status)) {
      throw new CompatFailure(400, 'Invalid status parameter. Must be a number.');
    }
    return (await repo.listTasks(status)).map(taskView);
  });

  app.get('/api/tasks/:id', { schema: { hide: true } }, async (request) => {
    const task = await repo.getTask(taskId(request.params));
    if (!task) throw notFound();
    return taskView(task);
  });

  app.post('/api/tasks', { schema: { hide: true } }, async (request, reply) => {
    const body = (request.body ?? {}) as { prompt?: unknown; order?: unknown; status?: unknown };
    if (typeof body.prompt !== 'string' || body.prompt.trim() === '') {
      throw new CompatFailure(400, 'Prompt is required and must be a non-empty string');
    }
    const task = await repo.insertTask({
      prompt: body.prompt.trim(),
      order: isNumber(body.order) ? body.order : 0,
      status: isNumber(body.status) ? body.status : TaskStatus.ready,
    });
    return reply.code(201).send(taskView(task));
  });

  app.put('/api/tasks/:id', { schema: { hide: true } }, async (request) => {
    const id = taskId(request.params);
    const body = (request.body ?? {}) as { prompt?: unknown; order?: unknown; status?: unknown };
    const patch: { prompt?: string; order?: number; status?: number } = {};
    if (body.prompt !== undefined) {
      if (typeof body.prompt !== 'string' || body.prompt.trim() === '') {
        throw new CompatFailure(400, 'Prompt must be a non-empty string');
      }
      patch.prompt = body.prompt.trim();
    }
    if (body.status !== undefined) {
      if (!isNumber(body.status)) throw new CompatFailure(400, 'Status must be a number');
      patch.status = body.status;
    }
    if (body.order !== undefined) {
      if (!isNumber(body.order)) throw new CompatFailure(400, 'Order must be a number');
      patch.order = body.order;
    }
    const task = await (Object.keys(patch).length > 0
      ? repo.updateTask(id, patch)
      : repo.getTask(id));
    if (!task) throw notFound();
    return taskView(task);
  });

  app.delete('/api/tasks/:id', { schema: { hide: true } }, async (request) => {
    if (!(await repo.deleteTask(taskId(request.params)))) throw notFound();
    return { success: true, message: 'Task deleted' };
  });
}

/**
 * The task operator: takes the first ready task (lowest `order`, then id), marks it in
 * progress (compare-and-set, so one process takes it however many run the operator), runs its
 * prompt as a cursor-runner request and marks it complete, or backlogged when the run did not
 * succeed. One task at a time; idle, it looks every `pollMs`.
 */
export function startTaskOperator(deps: {
  store: Store;
  execution: Execution;
  log: Logger;
  pollMs: number;
}): { stop(): void } {
  const { store, execution, log } = deps;
  const repo = store.cursorRunner;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  async function runOne(): Promise<boolean> {
    const next = (await repo.listTasks(TaskStatus.ready))[0];
    if (!next) return false;
    const taken = await repo.updateTask(
      next.id,
      { status: TaskStatus.inProgress },
      TaskStatus.ready,
    );
    if (!taken) return true;
    const tlog = log.child({ taskId: next.id });
    const params = {
      requestId: `task-${next.id}-${Date.now()}`,
      prompt: next.prompt,
      repository: undefined,
      branchName: undefined,
      conversationId: undefined,
      queueType: 'default' as const,
    };
    try {
      const begun = await execution.begin(params, { taskId: next.id });
      await repo.updateTask(next.id, { runId: begun.runId });
      // The request's reaction marks the task complete or backlogged when its run ended.
      const outcome = await execution.wait(begun.id);
      tlog.info({ runId: begun.runId, success: outcome.body.success }, 'task operator: task done');
    } catch (err) {
      tlog.warn({ err }, 'task operator: the task could not run; backlogged');
      await repo.updateTask(next.id, { status: TaskStatus.backlogged }, TaskStatus.inProgress);
    }
    return true;
  }

  function schedule(ms: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      runOne().then(
        (worked) => schedule(worked ? 0 : deps.pollMs),
        (err: unknown) => {
          log.warn({ err }, 'task operator: look for tasks failed');
          schedule(deps.pollMs);
        },
      );
    }, ms);
    timer.unref();
  }
  schedule(deps.pollMs);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
