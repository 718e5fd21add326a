import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { GateResult, GateStatus } from '../contracts/index.js';
import { supervise, type ExitInfo } from '../exec/index.js';
import type { Logger } from '../observability/index.js';
import type { RepoGate } from '../optimizer/index.js';
import { ulid, type RunRecord } from '../store/index.js';
import type { RunLauncher } from './run-containment.js';
import { stopRequested, type ActiveRun, type EngineResources } from './systems/resources.js';

/** A gate's output kept for its log and the fix prompt: past this, only the end is kept. */
const MAX_LOG_CHARS = 8 * 1024 * 1024;

/** How one gate ran: its result on the run, what it printed, and how its process ended. */
export interface GateRun {
  result: GateResult;
  output: string;
  exit: ExitInfo;
}

function statusOf(exit: ExitInfo): GateStatus {
  if (exit.reason === 'exited' && exit.exitCode === 0) return 'passed';
  if (exit.reason === 'timeout' || exit.reason === 'idle_timeout') return 'timed_out';
  return 'failed';
}

/**
 * Runs one gate of a repository run (`sh -c <command>` in its worktree) as the run's own
 * process: contained like the agent (sandbox or PID namespace), under the supervisor with the
 * run's limits (PATCHBAY_GATE_TIMEOUT_MS for the whole gate), held in `entry.proc` so cancel,
 * pause and shutdown reach it. Its env is the run's (the clean base and the run's `env`,
 * never the agent's provider credentials) with `CI=true`. Output streams as `output` events
 * naming the gate, between `gate` events; the whole output is stored as the gate's log.
 */
export async function runGate(
  res: EngineResources,
  launcher: RunLauncher,
  args: { record: RunRecord; entry: ActiveRun; log: Logger; gate: RepoGate; round: number },
): Promise<GateRun> {
  const { config, writer } = res;
  const { record, entry, log, gate, round } = args;
  const runId = record.id;
  writer.append(runId, 'gate', {
    gate: gate.gate,
    command: gate.command,
    round,
    phase: 'started',
  });
  const env = { ...config.childEnvBase, CI: 'true', ...record.env };
  const { argv, wrapped } = await launcher.argvFor(record, ['sh', '-c', gate.command], env, {});
  let output = '';
  const keep = (text: string): void => {
    output += text;
    if (output.length > MAX_LOG_CHARS) output = output.slice(output.length - MAX_LOG_CHARS / 2);
  };
  const proc = supervise(
    { argv, cwd: record.workdir!, env, stdin: 'ignore', wrapped },
    {
      timeoutMs: config.gateTimeoutMs,
      idleTimeoutMs: record.idleTimeoutMs,
      resultGraceMs: config.resultGraceMs,
      killGraceMs: config.killGraceMs,
      maxOutputBytes: record.maxOutputBytes,
      // A chatty test suite is not a reason to stop it: its middle is dropped instead.
      outputPolicy: 'truncate',
      tailBytes: config.outputTailBytes,
      dropRateBytesPerSecond: config.outputDropRate,
    },
    {
      output(stream, text, tail) {
        keep(text);
        writer.append(runId, 'output', {
          stream,
          text,
          gate: gate.gate,
          ...(tail ? { tail: true } : {}),
        });
      },
      dropped(droppedBytes, final) {
        if (final) keep(`\n[… ${droppedBytes} bytes of output dropped …]\n`);
        writer.append(runId, 'dropped', { reason: 'output_limit', droppedBytes, final });
      },
      get saturated() {
        return writer.saturated;
      },
      onDrain: (cb) => writer.onDrain(cb),
    },
    log,
  );
  entry.proc = proc;
  entry.softInterrupt = undefined;
  if (proc.pid !== undefined)
    await res.store.runs.update(runId, { pid: proc.pid, pgid: proc.pgid! });
  // Cancelled or drained while the gate was starting: it stops at once.
  if (stopRequested(entry)) proc.cancel();
  const exit = await proc.exited;
  if (exit.error) keep(`\n${exit.error}\n`);
  const status = statusOf(exit);
  const logArtifact = await storeGateLog(
    res,
    record,
    `gate-${round}-${gate.gate}.log`,
    output,
    log,
  );
  const result: GateResult = {
    gate: gate.gate,
    command: gate.command,
    status,
    exitCode: exit.exitCode,
    durationMs: Math.round(exit.durationMs),
    logArtifact,
    round,
  };
  writer.append(runId, 'gate', { ...result, phase: 'finished' });
  res.metrics.gateDuration.observe({ gate: gate.gate, status }, exit.durationMs / 1000);
  log.info({ gate: gate.gate, round, status, ms: result.durationMs }, 'validation gate');
  return { result, output, exit };
}

/** A gate that did not run (an earlier one it needs failed, or the run was stopped). */
export function skippedGate(res: EngineResources, runId: string, gate: RepoGate, round: number) {
  const result: GateResult = {
    gate: gate.gate,
    command: gate.command,
    status: 'skipped',
    exitCode: null,
    durationMs: 0,
    logArtifact: null,
    round,
  };
  res.writer.append(runId, 'gate', { ...result, phase: 'finished' });
  return result;
}

/**
 * The gate's output as an artifact of the run (`GET /v1/artifacts/:id`), announced by an
 * `artifact` event; null (logged) when it could not be stored: the gate's result stands.
 */
async function storeGateLog(
  res: EngineResources,
  record: RunRecord,
  name: string,
  output: string,
  log: Logger,
): Promise<string | null> {
  try {
    const data = Buffer.from(output, 'utf8');
    const id = `art_${ulid()}`;
    const path = join(id, name);
    const file = join(res.config.dataDir, 'artifacts', path);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, data);
    await res.store.artifacts.insert({
      id,
      runId: record.id,
      optimizationId: null,
      repoId: record.repoId,
      name,
      path,
      bytes: data.length,
      sha256: createHash('sha256').update(data).digest('hex'),
      contentType: 'text/plain; charset=utf-8',
      createdAt: new Date().toISOString(),
    });
    res.writer.append(record.id, 'artifact', { id, name, bytes: data.length });
    return id;
  } catch (err) {
    log.error({ err, name }, 'could not store a gate log');
    return null;
  }
}
