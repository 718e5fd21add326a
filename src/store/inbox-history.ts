import type { Horizon, TaskState } from '../contracts/index.js';

/**
 * A task's undo history: the triage fields before each action, newest last, stored as JSON in
 * `inbox_tasks.previous` (older rows hold one object there: read as a one-entry history).
 */

/** The triage fields an undo restores exactly. */
export interface TriageFields {
  state: TaskState;
  snoozedUntil: string | null;
  duplicateOf: string | null;
  horizonOverride: Horizon | null;
  doneAt: string | null;
}

/** A learned weight as one action moved it (after the bounds), so an undo moves it back exactly. */
export interface LearnedStep {
  scope: 'sender' | 'source';
  key: string;
  delta: number;
}

/** One entry of a task's undo history: the fields before an action, and what it taught. */
export interface TriageSnapshot extends TriageFields {
  /** The action that replaced these fields (`accept`, `snooze`, …, `run`, `closed_at_source`). */
  action?: string;
  learned?: LearnedStep[];
}

/** Undo entries kept per task (oldest dropped first). */
export const HISTORY_LIMIT = 50;

/** `history` with the task's current triage fields pushed as the newest entry. */
export function pushHistory(
  task: TriageFields & { history: readonly TriageSnapshot[] },
  action: string,
  learned?: LearnedStep[],
): TriageSnapshot[] {
  const entry: TriageSnapshot = {
    state: task.state,
    snoozedUntil: task.snoozedUntil,
    duplicateOf: task.duplicateOf,
    horizonOverride: task.horizonOverride,
    doneAt: task.doneAt,
    action,
    ...(learned && learned.length > 0 ? { learned } : {}),
  };
  return [...task.history, entry].slice(-HISTORY_LIMIT);
}

/** Reads the `previous` column: a list (newest last), or the single object of older rows. */
export function historyOf(raw: string | null): TriageSnapshot[] {
  if (!raw) return [];
  const parsed = JSON.parse(raw) as TriageSnapshot | TriageSnapshot[] | null;
  if (!parsed) return [];
  return Array.isArray(parsed) ? parsed : [parsed];
}
