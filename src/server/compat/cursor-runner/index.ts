import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { isPatchbayError } from '../../../contracts/index.js';
import { resolveTrustedWorkdir } from '../../../workspaces/index.js';
import type { ServerDeps } from '../../deps.js';
import { createConversationMap } from './conversations.js';
import { createExecution } from './execution.js';
import { createFeedHub, registerFeeds } from './feeds.js';
import { buildFileTree } from './file-tree.js';
import { registerConversationRoutes, agentView } from './routes-conversations.js';
import { providedSecret, registerCursorRoutes, secretMatches } from './routes-cursor.js';
import { registerTaskRoutes, startTaskOperator } from './tasks.js';
import { CompatFailure, sendFailure } from './wire.js';

/** Paths of cursor-runner's API (the rest of the server keeps its own). */
const PREFIXES = [
  '/cursor/',
  '/api/',
  '/conversations/api/',
  '/agent-conversations/api/',
  '/repositories/api/',
  '/telegram/',
];

export function isCursorRunnerPath(url: string): boolean {
  return PREFIXES.some((p) => url.startsWith(p));
}

/**
 * With PATCHBAY_API_TOKENS set, a cursor-runner client that cannot send a bearer token may
 * authenticate with the cursor-runner webhook secret instead, on cursor-runner's paths only.
 */
export function cursorRunnerCredential(
  request: FastifyRequest,
  secret: string | undefined,
): boolean {
  return (
    secret !== undefined &&
    isCursorRunnerPath(request.url) &&
    secretMatches(providedSecret(request), secret)
  );
}

/**
 * cursor-runner's HTTP API on the engine: its requests are runs of Patchbay conversations,
 * its conversations map onto Patchbay's, its answers and callbacks have its fields and
 * headers. Everything else (auth, budgets, trusted roots, limits) is Patchbay's.
 */
export async function registerCursorRunner(app: FastifyInstance, deps: ServerDeps): Promise<void> {
  const { config, engine, store, log } = deps;
  const clog = log.child({ compat: 'cursor-runner' });
  const hub = createFeedHub(clog);
  const conversations = createConversationMap({ config, engine: () => engine, store, hub });
  const execution = createExecution({
    config,
    engine: () => engine,
    store,
    log: clog,
    conversations,
  });
  // The feeds follow the runs of linked conversations, wherever the request came from.
  const feedsOff = [
    engine.events.on('runCreated', ({ run }) => {
      if (run.conversationId) void conversations.changed(run.conversationId, 'message_added');
    }),
    engine.events.on('runFinished', ({ run }) => {
      if (!run.conversationId) return;
      const overflow = run.error?.code === 'AGENT_CONTEXT_WINDOW_EXCEEDED';
      void conversations.changed(run.conversationId, overflow ? 'summarized' : 'message_added');
    }),
  ];
  const operator = config.cursorRunnerTaskOperator
    ? startTaskOperator({ store, execution, log: clog, pollMs: config.cursorRunnerTaskPollMs })
    : undefined;

  await app.register(async (scope) => {
    scope.setErrorHandler((err: FastifyError, request, reply) => {
      if (err instanceof CompatFailure) {
        return sendFailure(reply, err.status, err.message, err.code ? { code: err.code } : {});
      }
      if (isPatchbayError(err)) {
        if (err.status >= 500) request.log.error({ err }, 'cursor-runner request failed');
        return sendFailure(reply, err.status, err.message, { code: err.code });
      }
      const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
      if (status >= 500) request.log.error({ err }, 'cursor-runner request failed');
      return sendFailure(reply, status, status >= 500 ? 'Internal server error' : err.message);
    });
    scope.addHook('onClose', async () => {
      operator?.stop();
      for (const off of feedsOff) off();
      hub.closeAll();
    });

    registerCursorRoutes(scope, {
      execution,
      conversations,
      webhookSecret: config.cursorRunnerWebhookSecret,
      log: clog,
    });
    registerTaskRoutes(scope, store);
    registerConversationRoutes(scope, { store, conversations, execution, hub, log: clog });

    // Trees of the repositories root (cursor-runner showed its parent: see docs/compat.md),
    // never of a directory a link leads outside the trusted roots (WORKDIR_NOT_TRUSTED).
    const trusted = (dir: string): Promise<string> =>
      resolveTrustedWorkdir(dir, config.workspaceRoots);
    for (const prefix of ['/api', '/conversations/api']) {
      scope.get(`${prefix}/working-directory/files`, { schema: { hide: true } }, async () => {
        const ws = await conversations.workspace(undefined);
        if (!ws.create.workdir) {
          throw new CompatFailure(
            500,
            'PATCHBAY_CURSOR_RUNNER_REPOSITORIES_PATH is not configured',
          );
        }
        return buildFileTree(await trusted(ws.create.workdir));
      });
    }
    scope.get(
      '/repositories/api/:repository/files',
      { schema: { hide: true } },
      async (request) => {
        const { repository } = request.params as { repository: string };
        const ws = await conversations.workspace(repository).catch(() => {
          throw new CompatFailure(404, `Repository '${repository}' not found`, 'REPO_NOT_FOUND');
        });
        const dir = ws.create.workdir ?? (await store.repos.get(ws.create.repo!))?.path;
        if (!dir)
          throw new CompatFailure(404, `Repository '${repository}' not found`, 'REPO_NOT_FOUND');
        // A registered repository's own checkout; a directory through a link is checked.
        return buildFileTree(ws.create.workdir ? await trusted(dir) : dir);
      },
    );

    registerFeeds(
      scope,
      hub,
      async (kind, id) => {
        if (kind === 'conversation') return conversations.get(id);
        const found = await store.cursorRunner.getConversation(id);
        return found?.kind === 'agent' ? agentView(found) : undefined;
      },
      deps.openStreams,
    );
  });
}
