/** Small presentational helpers shared by the runs pages (no zod: plain copies of the enums). */
import type { AgentName, Run, RunStatus } from '../../../src/contracts/index.js';

export const RUN_STATUSES: readonly RunStatus[] = [
  'queued',
  'running',
  'paused',
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
  'interrupted',
];
export const AGENTS: readonly AgentName[] = ['shell', 'claude', 'cursor', 'codex', 'gemini', 'llm'];

const TERMINAL: ReadonlySet<RunStatus> = new Set([
  'succeeded',
  'failed',
  'cancelled',
  'timed_out',
  'interrupted',
]);

export const isTerminal = (status: RunStatus): boolean => TERMINAL.has(status);

export function statusClass(status: RunStatus): string {
  switch (status) {
    case 'succeeded':
      return 'ok';
    case 'failed':
    case 'timed_out':
    case 'interrupted':
      return 'bad';
    case 'cancelled':
    case 'paused':
      return 'warn';
    case 'queued':
    case 'running':
      return 'live';
  }
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms == null) return '—';
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

/** What a run is about, in one line: its prompt or its command. */
export function runTitle(run: Run): string {
  if (run.prompt) return run.prompt.split('\n')[0] ?? run.prompt;
  if (run.command) return run.command.join(' ');
  return run.kind;
}

/** `since` presets of the runs list: label and age in milliseconds. */
export const SINCE: Readonly<Record<string, { label: string; ms: number }>> = {
  '1h': { label: 'Last hour', ms: 3600_000 },
  '24h': { label: 'Last 24 hours', ms: 86_400_000 },
  '7d': { label: 'Last 7 days', ms: 7 * 86_400_000 },
  '30d': { label: 'Last 30 days', ms: 30 * 86_400_000 },
};
