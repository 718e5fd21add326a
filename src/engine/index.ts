export { deliverCallback, signPayload, type CallbackOptions } from './callbacks.js';
export { createEngine, type Engine, type EngineOptions, type QueueStats } from './engine.js';
export { createLocalEventBus, type EventBus, type EventListener } from './event-bus.js';
export { EventCursor, isTerminalEvent, type EventCursorOptions } from './event-cursor.js';
export { createRepoService, type RepoService } from './repos.js';
