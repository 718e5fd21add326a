import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  ConnectorKindParams,
  ConnectorList,
  ConnectorTestResult,
  ConnectResult,
  ConnectTokenRequest,
  ErrorBody,
  PatchbayError,
  SyncReport,
} from '../../contracts/index.js';
import { CONNECTOR_KINDS, type ConnectorKind } from '../../intake/index.js';
import type { ServerDeps } from '../deps.js';

const errors = { 400: ErrorBody, 401: ErrorBody, 404: ErrorBody, 409: ErrorBody, 502: ErrorBody };
const tags = ['connectors'];

/** The OAuth callback: the provider redirects the browser here, with no bearer token (app.ts). */
export const OAUTH_CALLBACK_PATH = /^\/v1\/oauth\/callback\/[^/?#]+(?:[?#]|$)/;

interface TestAllEvent {
  id: number;
  event: 'step' | 'result' | 'done';
  data: unknown;
}

/**
 * The latest "test all" of this process: its events kept so a client that reconnects with
 * Last-Event-ID gets the ones it missed, then the rest live.
 */
function createTestAllRuns(deps: ServerDeps) {
  const { connections } = deps.inbox.inbox;
  let current: { events: TestAllEvent[]; done: boolean; listeners: Set<() => void> } | undefined;
  function start(): NonNullable<typeof current> {
    const run = { events: [] as TestAllEvent[], done: false, listeners: new Set<() => void>() };
    const emit = (event: TestAllEvent['event'], data: unknown): void => {
      run.events.push({ id: run.events.length + 1, event, data });
      for (const l of run.listeners) l();
    };
    current = run;
    void (async () => {
      const connected = (await connections.list()).filter((c) => c.status !== 'disconnected');
      for (const c of connected) {
        let steps;
        try {
          steps = await connections.test(c.kind);
        } catch (err) {
          steps = [{ step: 'auth' as const, ok: false, detail: (err as Error).message }];
        }
        for (const s of steps) emit('step', { kind: c.kind, ...s });
        emit('result', { kind: c.kind, ok: steps.every((s) => s.ok) });
      }
      emit('done', { connectors: connected.length });
      run.done = true;
      for (const l of run.listeners) l();
    })();
    return run;
  }
  return {
    /** A new run, or (with `after`) the current one resumed after event `after`. */
    open(after: number | undefined) {
      return after !== undefined && current ? current : start();
    },
  };
}

export function connectorRoutes(deps: ServerDeps): FastifyPluginAsyncZod {
  const { inbox, kick, syncs } = deps.inbox;
  const { connections } = inbox;
  const testAll = createTestAllRuns(deps);
  return async (app) => {
    app.get(
      '/v1/connectors',
      {
        schema: {
          tags,
          summary: 'Every connector kind with its status',
          response: { 200: ConnectorList, ...errors },
        },
      },
      async () => ({ connectors: await connections.list() }),
    );
    app.post(
      '/v1/connectors/:kind/connect',
      {
        schema: {
          tags,
          summary:
            'Start connecting: answers the provider authorize URL (OAuth with PKCE); GitHub also takes a token',
          params: ConnectorKindParams,
          body: ConnectTokenRequest.nullish(),
          response: { 200: ConnectResult, 204: z.null(), ...errors },
        },
      },
      async (request, reply) => {
        if (request.body?.token) {
          await connections.connectToken(request.params.kind, request.body.token);
          kick(request.params.kind);
          return reply.code(204).send(null);
        }
        return { authorizeUrl: await connections.connect(request.params.kind) };
      },
    );
    app.get(
      '/v1/oauth/callback/:kind',
      {
        schema: {
          tags,
          summary:
            'Where the provider sends the user back (no bearer token: the state is the credential)',
          params: ConnectorKindParams,
          querystring: z.object({
            code: z.string().min(1).max(4096).optional(),
            state: z.string().min(1).max(200),
            error: z.string().max(200).optional(),
          }),
          security: [],
          response: { 200: z.string(), ...errors },
        },
      },
      async (request, reply) => {
        const { code, state, error } = request.query;
        if (error || !code) {
          throw new PatchbayError(
            'INBOX_OAUTH_DENIED',
            `${request.params.kind}: the provider answered ${error ?? 'no code'}`,
          );
        }
        await connections.callback(request.params.kind, code, state);
        kick(request.params.kind);
        return reply
          .type('text/html; charset=utf-8')
          .send(
            `<!doctype html><title>Connected</title><p>${request.params.kind} is connected. You can close this tab.</p>`,
          );
      },
    );
    app.post(
      '/v1/connectors/:kind/test',
      {
        schema: {
          tags,
          summary: 'Prove the credentials: auth, scopes, one call, the cursor',
          params: ConnectorKindParams,
          response: { 200: ConnectorTestResult, ...errors },
        },
      },
      async (request) => {
        const kind = request.params.kind;
        const steps = (await connections.test(kind)).map((s) => ({ kind, ...s }));
        return { kind, ok: steps.every((s) => s.ok), steps };
      },
    );
    app.post(
      '/v1/connectors/:kind/sync',
      {
        schema: {
          tags,
          summary: 'Sync one connector now',
          description:
            'Runs the sync here and answers its report (null when nothing was synced: not connected, or rate limited). 409 INBOX_SYNC_IN_PROGRESS while another process syncs it.',
          params: ConnectorKindParams,
          response: { 200: SyncReport.nullable(), ...errors },
        },
      },
      async (request) => syncs.syncNow(request.params.kind),
    );
    app.post(
      '/v1/connectors/test-all',
      {
        schema: {
          tags,
          summary: 'Test every connected connector, streaming each step over SSE',
          description:
            'Events `step` ({kind, step, ok, detail}), `result` ({kind, ok}) and `done`. Reconnect with `Last-Event-ID` to resume the same test from there.',
          response: { 200: z.string(), ...errors },
        },
      },
      async (request, reply) => {
        const header = request.headers['last-event-id'];
        const after =
          typeof header === 'string' && /^\d+$/.test(header) ? Number(header) : undefined;
        const run = testAll.open(after);
        reply.hijack();
        const res = reply.raw;
        res.writeHead(200, {
          'content-type': 'text/event-stream',
          'cache-control': 'no-cache',
          connection: 'keep-alive',
          'x-request-id': request.id,
        });
        let sent = after ?? 0;
        await new Promise<void>((resolve) => {
          const flush = (): void => {
            for (const e of run.events.slice(sent)) {
              res.write(`id: ${e.id}\nevent: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`);
              sent = e.id;
            }
            if (run.done && sent >= run.events.length) finish();
          };
          const finish = (): void => {
            run.listeners.delete(flush);
            deps.openStreams.delete(finish);
            res.end();
            resolve();
          };
          run.listeners.add(flush);
          deps.openStreams.add(finish);
          res.on('close', finish);
          flush();
        });
      },
    );
    app.delete(
      '/v1/connectors/:kind',
      {
        schema: {
          tags,
          summary: 'Disconnect: the credentials and cursor are deleted (tasks stay)',
          params: ConnectorKindParams,
          response: { 204: z.null(), ...errors },
        },
      },
      async (request, reply) => {
        await connections.disconnect(request.params.kind as ConnectorKind);
        return reply.code(204).send(null);
      },
    );
  };
}

export const connectorKinds = CONNECTOR_KINDS;
