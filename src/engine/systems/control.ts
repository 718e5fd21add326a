import {
  isPatchbayError,
  isTerminalStatus,
  PatchbayError,
  type Run,
} from '../../contracts/index.js';
import { toRun } from '../../store/index.js';
import type { ControlAction, RemoteControl } from '../control-redis.js';
import type { Dispatcher } from '../dispatcher.js';
import { isTerminalEvent } from '../event-cursor.js';
import type { FinishingSystem } from './finishing.js';
import { getRecord, notActive, type EngineResources } from './resources.js';

/**
 * Control: pause, resume, cancel and interrupt. A run this process holds is controlled here
 * (signals to its process group, or the agent's own interrupt request); one held by another
 * server goes to that server over the control channel; a queued run is cancelled in place.
 */
export function createControlSystem(
  res: EngineResources,
  deps: { dispatcher: Dispatcher; finishing: FinishingSystem; remote?: RemoteControl | undefined },
) {
  const { config, store, writer, log, active } = res;
  const { dispatcher, finishing, remote } = deps;

  async function cancelQueued(runId: string): Promise<void> {
    await dispatcher.remove(await getRecord(res, runId));
    await finishing.endWithoutProcess(runId, ['queued'], 'cancelled', {
      code: 'RUN_CANCELLED',
      message: 'The run was cancelled before it started.',
    });
  }

  /** Pause (SIGSTOP) or resume (SIGCONT) a run this process holds, with its status event. */
  function freezeOrThaw(id: string, action: 'pause' | 'resume'): Promise<Run> {
    const [from, to] =
      action === 'pause' ? (['running', 'paused'] as const) : (['paused', 'running'] as const);
    return res.withRunLock(id, async () => {
      const record = await getRecord(res, id);
      const entry = active.get(id);
      const proc = entry?.proc;
      if (!entry || record.status !== from) throw notActive(record, action);
      // Claimed but not yet spawned: the pause (or its undoing) takes effect at the spawn.
      if (!proc) entry.pausePending = action === 'pause';
      else if (!(action === 'pause' ? proc.pause() : proc.resume())) {
        throw notActive(record, action);
      }
      await store.runs.transition(id, [from], { status: to });
      writer.append(
        id,
        'status',
        to === 'running' ? { status: to, pid: proc?.pid ?? null } : { status: to },
      );
      log.info({ runId: id }, action === 'pause' ? 'run paused' : 'run resumed');
      const run = toRun(await getRecord(res, id));
      res.events.emit(action === 'pause' ? 'runPaused' : 'runResumed', { run });
      return run;
    });
  }

  async function waitForRun(id: string, signal?: AbortSignal): Promise<Run> {
    let resolveEnd!: () => void;
    const ended = new Promise<void>((r) => (resolveEnd = r));
    const unsubscribe = res.bus.subscribe(id, (events) => {
      if (events.some(isTerminalEvent)) resolveEnd();
    });
    const onAbort = (): void => resolveEnd();
    signal?.addEventListener('abort', onAbort);
    try {
      const record = await getRecord(res, id);
      if (!isTerminalStatus(record.status)) await ended;
      return toRun(await getRecord(res, id));
    } finally {
      unsubscribe();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async function cancelLocal(id: string): Promise<Run> {
    const entry = await res.withRunLock(id, async () => {
      const record = await getRecord(res, id);
      if (isTerminalStatus(record.status)) throw notActive(record, 'cancel');
      if (record.status === 'queued') {
        await cancelQueued(id);
        return null;
      }
      const a = active.get(id);
      if (!a) throw notActive(record, 'cancel (it is held by another process)');
      a.cancelRequested = true;
      a.proc?.cancel();
      return a;
    });
    if (entry) {
      // Answer with the final state when it comes within the kill grace.
      await Promise.race([
        entry.done,
        new Promise((r) => setTimeout(r, config.killGraceMs + 2000).unref()),
      ]);
    }
    return toRun(await getRecord(res, id));
  }

  async function interruptLocal(id: string): Promise<Run> {
    const entry = await res.withRunLock(id, async () => {
      const record = await getRecord(res, id);
      const a = active.get(id);
      if (record.status !== 'running' || !a) throw notActive(record, 'interrupt');
      a.interruptRequested = true;
      // The agent's own control request where it has one, SIGINT to the group otherwise;
      // claimed but not yet spawned, SIGINT at the spawn.
      if (a.proc && !a.softInterrupt?.()) a.proc.interrupt();
      log.info({ runId: id }, 'run interrupted');
      return a;
    });
    const ended = await Promise.race([
      entry.done.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), config.killGraceMs).unref()),
    ]);
    if (!ended) entry.proc?.cancel();
    return toRun(await getRecord(res, id));
  }

  const local: Record<ControlAction, (id: string) => Promise<Run>> = {
    cancel: cancelLocal,
    interrupt: interruptLocal,
    pause: (id) => freezeOrThaw(id, 'pause'),
    resume: (id) => freezeOrThaw(id, 'resume'),
  };

  /**
   * A control verb for a run held by another server goes to that server (when servers share a
   * store and a control channel); otherwise it is handled here.
   */
  async function controlled(action: ControlAction, id: string): Promise<Run> {
    if (remote && !active.has(id)) {
      const record = await getRecord(res, id);
      if (record.status === 'running' || record.status === 'paused') {
        const timeout =
          action === 'cancel' || action === 'interrupt' ? config.killGraceMs + 5000 : 5000;
        const reply = await remote.request(action, id, timeout);
        if (!reply) throw notActive(record, `${action} (no server holds it)`);
        if (!reply.ok) {
          throw new PatchbayError(
            (reply.code ?? 'RUN_NOT_ACTIVE') as 'RUN_NOT_ACTIVE',
            reply.message ?? `cannot ${action} run ${id}`,
            { id },
          );
        }
        return toRun(await getRecord(res, id));
      }
    }
    return local[action](id);
  }

  // Requests from other servers for runs this one holds.
  remote?.serve(async (action, runId) => {
    if (!active.has(runId)) return null;
    try {
      await local[action](runId);
      return { ok: true };
    } catch (err) {
      return isPatchbayError(err)
        ? { ok: false, code: err.code, message: err.message }
        : { ok: false, message: (err as Error).message };
    }
  });

  return {
    cancelRun: (id: string) => controlled('cancel', id),
    interruptRun: (id: string) => controlled('interrupt', id),
    pauseRun: (id: string) => controlled('pause', id),
    resumeRun: (id: string) => controlled('resume', id),
    waitForRun,
  };
}
