import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isTerminalStatus, PatchbayError, type Run } from '../../../contracts/index.js';
import type { ServerDeps } from '../../deps.js';
import { errorBody } from '../../errors.js';

/**
 * cc_executor's REST layer (its api/main.py): `POST /execute` runs a list of tasks one after
 * the other, each a prompt for Claude Code (here a Patchbay `claude` run, so the agent's
 * adapter, sandbox and limits apply), and answers when all are done; the status, results and
 * cancel routes read the execution while it runs. Executions are kept in memory, as there.
 */

const TaskListRequest = z.object({
  tasks: z.array(z.string().min(1).max(1_000_000)).min(1).max(100),
  timeout_per_task: z
    .number()
    .int()
    .positive()
    .max(7 * 24 * 3600)
    .nullish(),
  execution_id: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,100}$/)
    .nullish(),
});

const IdParams = z.object({ id: z.string().min(1).max(100) });

interface TaskResult {
  task_number: number;
  task_description: string;
  exit_code: number;
  stdout: string | null;
  stderr: string | null;
  execution_time: number;
  completed_at: string;
  run_id: string;
}

interface Execution {
  status: 'running' | 'completed' | 'failed' | 'cancelled';
  started_at: string;
  total_tasks: number;
  completed_tasks: number;
  current_task: string | null;
  results: TaskResult[];
  completed_at?: string;
  /** The run of the task in progress, for DELETE. */
  currentRunId?: string;
}

/** Executions kept, oldest dropped first: the original kept every one forever. */
const MAX_EXECUTIONS = 1000;

/** A FastAPI-style error (`detail`, read by its clients) alongside Patchbay's error body. */
function compatError(request: FastifyRequest, reply: FastifyReply, err: PatchbayError) {
  return reply.code(err.status).send({ detail: err.message, ...errorBody(err, request.id) });
}

/** The stdout and stderr text of a finished run, from its events. */
async function outputOf(deps: ServerDeps, run: Run) {
  const text = { stdout: '', stderr: '' };
  for (let after = 0; ;) {
    const page = await deps.engine.listEvents(run.id, after, 1000);
    for (const e of page.events) {
      if (e.type !== 'output') continue;
      text[e.data.stream === 'stderr' ? 'stderr' : 'stdout'] += String(e.data.text ?? '');
    }
    if (page.events.length === 0 || page.done) break;
    after = page.lastSeq;
  }
  return { stdout: text.stdout || run.resultText || '', stderr: text.stderr || null };
}

export function ccExecutorRestRoutes(deps: ServerDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const executions = new Map<string, Execution>();
    const hide = { hide: true } as const;

    app.get('/healthz', { schema: hide }, async () => ({ status: 'ok' }));

    app.post('/execute', { schema: { ...hide, body: TaskListRequest } }, async (request, reply) => {
      const body = request.body;
      const executionId = body.execution_id ?? crypto.randomUUID();
      if (executions.get(executionId)?.status === 'running') {
        return compatError(
          request,
          reply,
          new PatchbayError('VALIDATION_FAILED', `execution ${executionId} is already running`),
        );
      }
      const started = new Date();
      const exec: Execution = {
        status: 'running',
        started_at: started.toISOString(),
        total_tasks: body.tasks.length,
        completed_tasks: 0,
        current_task: null,
        results: [],
      };
      executions.delete(executionId);
      executions.set(executionId, exec);
      while (executions.size > MAX_EXECUTIONS) executions.delete(executions.keys().next().value!);
      let failed = 0;
      for (const [k, task] of body.tasks.entries()) {
        if (exec.status !== 'running') break;
        const taskStart = Date.now();
        exec.current_task = `Task ${k + 1}: ${task.slice(0, 50)}...`;
        try {
          deps.runCreateLimiter.hit(request.clientKey);
          // The prompt is an argument of its own: never spliced into a shell string.
          const created = await deps.engine.createRun({
            agent: 'claude',
            prompt: task,
            ...(body.timeout_per_task ? { timeoutMs: body.timeout_per_task * 1000 } : {}),
          });
          exec.currentRunId = created.id;
          const run = await deps.engine.waitForRun(created.id);
          const out = await outputOf(deps, run);
          const exitCode = run.status === 'succeeded' ? 0 : run.exitCode || 1;
          exec.results.push({
            task_number: k + 1,
            task_description: task,
            exit_code: exitCode,
            stdout: out.stdout,
            stderr: out.stderr ?? (run.error ? run.error.message : null),
            execution_time: (Date.now() - taskStart) / 1000,
            completed_at: new Date().toISOString(),
            run_id: run.id,
          });
          if (exitCode !== 0) failed++;
          exec.completed_tasks = k + 1;
        } catch (err) {
          // As the original: a task that cannot even start ends the list.
          exec.results.push({
            task_number: k + 1,
            task_description: task,
            exit_code: 1,
            stdout: null,
            stderr: err instanceof Error ? err.message : String(err),
            execution_time: (Date.now() - taskStart) / 1000,
            completed_at: new Date().toISOString(),
            run_id: exec.currentRunId ?? '',
          });
          failed++;
          break;
        }
      }
      const ended = new Date();
      if (exec.status === 'running') exec.status = failed === 0 ? 'completed' : 'failed';
      exec.completed_at = ended.toISOString();
      exec.current_task = null;
      return {
        execution_id: executionId,
        total_tasks: body.tasks.length,
        completed_tasks: exec.results.length,
        failed_tasks: failed,
        results: exec.results,
        started_at: exec.started_at,
        completed_at: exec.completed_at,
        total_execution_time: (ended.getTime() - started.getTime()) / 1000,
        status: exec.status,
      };
    });

    const find = (id: string): Execution => {
      const exec = executions.get(id);
      if (!exec) throw new PatchbayError('CC_EXECUTOR_EXECUTION_NOT_FOUND', 'Execution not found');
      return exec;
    };
    const withExecution =
      (fn: (id: string, exec: Execution) => Promise<unknown>) =>
      async (request: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply) => {
        try {
          return await fn(request.params.id, find(request.params.id));
        } catch (err) {
          if (err instanceof PatchbayError) return compatError(request, reply, err);
          throw err;
        }
      };

    app.get(
      '/executions/:id/status',
      { schema: { ...hide, params: IdParams } },
      withExecution(async (id, exec) => ({
        execution_id: id,
        status: exec.status,
        progress: `${exec.completed_tasks}/${exec.total_tasks} tasks completed`,
        current_task: exec.current_task,
      })),
    );

    app.get(
      '/executions/:id/results',
      { schema: { ...hide, params: IdParams } },
      withExecution(async (_id, exec) => {
        const { currentRunId: _run, ...visible } = exec;
        return visible;
      }),
    );

    app.delete(
      '/executions/:id',
      { schema: { ...hide, params: IdParams } },
      withExecution(async (id, exec) => {
        if (exec.status !== 'running') {
          throw new PatchbayError('CC_EXECUTOR_EXECUTION_NOT_RUNNING', 'Execution is not running');
        }
        // Unlike the original (which only relabelled it), the task in progress is stopped and
        // the rest are not started.
        exec.status = 'cancelled';
        const runId = exec.currentRunId;
        if (runId) {
          const run = await deps.engine.getRun(runId);
          if (!isTerminalStatus(run.status)) await deps.engine.cancelRun(runId).catch(() => null);
        }
        return { message: 'Execution cancelled', execution_id: id };
      }),
    );
  };
}
