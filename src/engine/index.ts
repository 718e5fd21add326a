export {
  CONCURRENCY_RETRY_AFTER_SECONDS,
  createBudgets,
  dayWindow,
  type Budgets,
  type BudgetScopeRef,
} from './budgets.js';
export { deliverCallback, signPayload, type CallbackOptions } from './callbacks.js';
export { assertSafeCallbackUrl } from './callback-target.js';
export { ReactionGaveUp, type Reaction, type ReactionContext } from './reactions/types.js';
export {
  createEngine,
  type Engine,
  type EngineOptions,
  type QueueStats,
  type WorkerInfo,
} from './engine.js';
export { jobQueueOf, type RunQueueCounts } from './dispatcher.js';
export { onLiveEvents, onRemoteLiveEvents, relayLiveEvents } from './live-events.js';
export { createRedisEventBus, type RedisEventBus } from './event-bus-redis.js';
export {
  createLocalEventBus,
  type Broadcast,
  type EventBus,
  type EventListener,
} from './event-bus.js';
export { EventCursor, isTerminalEvent, type EventCursorOptions } from './event-cursor.js';
export { createRepoService, type RepoService } from './repos.js';
export { createStageParser } from './optimizations.js';
export { resolveContainment, type ResolvedContainment } from './run-containment.js';
export {
  createRedisControl,
  type ControlAction,
  type ControlReply,
  type RemoteControl,
} from './control-redis.js';
export {
  createSchedules,
  DEFAULT_MAX_CONSECUTIVE_FAILURES,
  type RunOrigin,
  type Schedules,
} from './schedules.js';
export { runDiffPath } from './run-workspaces.js';
export type { Triggers } from './triggers/triggers.js';
export { githubNameOf } from './reactions/github-delivery.js';
export { createActionsReports, type ActionsReports } from './actions-reports.js';
export { INBOX_RUN_ORIGIN } from './reactions/inbox-task.js';
export { createDomainEvents, type DomainEvents } from './domain-events.js';
