export { buildApp } from './app.js';
export { assertSafeBind, isLoopbackHost } from './auth.js';
export { compatReactions } from './compat/index.js';
export type { ServerDeps } from './deps.js';
export { startServer, type RunningServer, type StartServerOptions } from './serve.js';
export { startWorker, type RunningWorker, type StartWorkerOptions } from './worker.js';
export { loadLocalMcpBackend } from './mcp.js';
