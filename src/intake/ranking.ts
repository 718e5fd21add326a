import type { Horizon, ScoreInputs } from '../contracts/index.js';
import type { TaskRecord } from '../store/index.js';

/**
 * The score: a sum of points per signal, each stored with its value (ScoreInputs), so the
 * inbox can say why a task ranks where it does. Deterministic: the same task, weights and
 * clock give the same score. docs/inbox.md "How ranking works" explains the numbers.
 */

const DAY = 86_400_000;

export const PRIORITY_POINTS: Record<string, number> = {
  highest: 25,
  high: 15,
  medium: 5,
  low: 0,
  lowest: -5,
};

/** Small built-in leanings per source before any learning (assigned work over mail). */
export const SOURCE_BASE: Record<string, number> = { jira: 3, github: 3, gmail: 1, drive: 0 };

export interface RankingContext {
  now: Date;
  senderAffinity: ReadonlyMap<string, number>;
  sourcePriors: ReadonlyMap<string, number>;
  /** Tasks that point at each task (edges into it from open tasks). */
  blocks: ReadonlyMap<string, number>;
}

/**
 * The person a task is from: its author or reporter at the source, else the sender of its
 * email (a notification email's sender is a robot relaying the author), by email or handle.
 */
export function senderOf(task: Pick<TaskRecord, 'people'>): string | null {
  for (const role of ['author', 'reporter', 'from']) {
    const p = task.people.find((x) => x.role === role && !x.isUser);
    if (p) return (p.email ?? p.handle ?? p.name ?? '').toLowerCase() || null;
  }
  return null;
}

/**
 * A role or robot mailbox (RFC 2142-style `recruiting@`, `it@`, `noreply@`, `notifications@`):
 * its "please do X" is a template sent to many, not a person asking the user directly.
 */
const ROLE_LOCALPART =
  /^(no-?reply|do-?not-?reply|notifications?|notify|alerts?|recruiting|careers|jobs|hr|people|it|helpdesk|support|billing|finance|info|hello|team|news(letter)?|marketing|calendar|security|admin|postmaster|mailer-daemon)([+.-].*)?$/;

export function isRoleSender(sender: string | null): boolean {
  if (!sender?.includes('@')) return false;
  return ROLE_LOCALPART.test(sender.split('@')[0]!);
}

function duePoints(days: number | null): number {
  if (days === null) return 0;
  if (days < 0) return 40;
  if (days <= 1) return 35;
  if (days <= 3) return 25;
  if (days <= 7) return 15;
  if (days <= 30) return 5;
  return 0;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

export function scoreTask(
  task: Pick<
    TaskRecord,
    | 'id'
    | 'kind'
    | 'people'
    | 'dueAt'
    | 'priority'
    | 'asksUser'
    | 'waitingOnUser'
    | 'sourceUpdatedAt'
  >,
  ctx: RankingContext,
): { score: number; inputs: ScoreInputs } {
  const now = ctx.now.getTime();
  const dueInDays = task.dueAt ? round2((Date.parse(task.dueAt) - now) / DAY) : null;
  const ageDays = round2(Math.max(0, (now - Date.parse(task.sourceUpdatedAt)) / DAY));
  const sender = senderOf(task);
  const senderAffinity = sender ? (ctx.senderAffinity.get(sender) ?? 0) : 0;
  const sourcePrior = ctx.sourcePriors.get(task.kind) ?? 0;
  const blocks = ctx.blocks.get(task.id) ?? 0;
  const points: Record<string, number> = {
    due: duePoints(dueInDays),
    priority: PRIORITY_POINTS[task.priority ?? ''] ?? 0,
    asksUser: task.asksUser && !isRoleSender(sender) ? 15 : 0,
    waitingOnUser: task.waitingOnUser ? 15 : 0,
    senderAffinity: round2(senderAffinity * 5),
    recency: round2(Math.max(0, 10 - ageDays)),
    blocks: Math.min(3, blocks) * 5,
    source: round2((SOURCE_BASE[task.kind] ?? 0) + sourcePrior * 3),
  };
  const score = round2(Object.values(points).reduce((a, b) => a + b, 0));
  return {
    score,
    inputs: {
      dueInDays,
      priority: task.priority,
      asksUser: task.asksUser,
      waitingOnUser: task.waitingOnUser,
      sender,
      senderAffinity,
      ageDays,
      blocks,
      source: task.kind,
      sourcePrior,
      points,
    },
  };
}

/**
 * The horizon the signals propose. A due date decides when there is one (within a day or
 * overdue: today; within seven days: this week; later: this month), except that the highest
 * priority is always today. Without one: a fresh (≤ 2 days) direct ask waiting on the user is
 * today; high priority or waiting on the user is this week; the rest this month.
 */
export function proposeHorizon(inputs: ScoreInputs): Horizon {
  const due = inputs.dueInDays;
  if (inputs.priority === 'highest') return 'today';
  if (due !== null) return due <= 1 ? 'today' : due <= 7 ? 'week' : 'month';
  if (inputs.asksUser && inputs.waitingOnUser && inputs.ageDays <= 2) return 'today';
  if (inputs.priority === 'high' || inputs.waitingOnUser) return 'week';
  return 'month';
}
