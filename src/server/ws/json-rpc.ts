import type { WebSocket } from 'ws';
import { z } from 'zod';
import {
  CreateRunRequest,
  PatchbayError,
  type ErrorCode,
  type RunEvent,
} from '../../contracts/index.js';
import type { EventCursor } from '../../engine/index.js';
import type { Logger } from '../../observability/index.js';
import type { ServerDeps } from '../deps.js';
import { toPatchbayError } from '../errors.js';

/** JSON-RPC 2.0 error codes; our catalog code always travels in `error.data.code`. */
const rpcCodes: Partial<Record<ErrorCode, number>> = {
  RPC_PARSE_ERROR: -32700,
  RPC_INVALID_REQUEST: -32600,
  RPC_METHOD_NOT_FOUND: -32601,
  VALIDATION_FAILED: -32602,
  INTERNAL_ERROR: -32603,
};

const RpcRequest = z.object({
  jsonrpc: z.literal('2.0'),
  method: z.string().min(1),
  params: z.unknown().optional(),
  id: z.union([z.string(), z.number(), z.null()]).optional(),
});

const IdParams = z.object({ id: z.string().min(1).max(100) }).strict();
const SubscribeParams = z
  .object({ id: z.string().min(1).max(100), after: z.number().int().min(0).default(0) })
  .strict();

type RpcId = string | number | null;

/** Buffered bytes above which a subscription waits before sending more. */
const SEND_HIGH_WATER = 256 * 1024;

/**
 * Limits that keep one connection from taking the server down: a batch of thousands of calls
 * once ran them all at once and built a single answer too large for a string.
 */
export const RPC_LIMITS = {
  /** Calls in one batch message; a longer batch is refused whole, before any call runs. */
  maxBatch: 50,
  /** Calls of one connection running at once (a batch counts each of its calls). */
  maxInFlight: 64,
  /** Calls of one batch running at the same time; the rest wait their turn. */
  batchConcurrency: 4,
  /** Bytes of one answer message; calls whose answers would not fit get an error instead. */
  maxResponseBytes: 8 * 1024 * 1024,
} as const;

function rpcError(id: RpcId, err: PatchbayError) {
  const data: Record<string, unknown> = { code: err.code };
  if (err.details !== undefined) data.details = err.details;
  return {
    jsonrpc: '2.0' as const,
    id,
    error: { code: rpcCodes[err.code] ?? -32000, message: err.message, data },
  };
}

function parseParams<T extends z.ZodType>(schema: T, params: unknown): z.output<T> {
  const parsed = schema.safeParse(params ?? {});
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => ({
      location: 'params',
      path: i.path.join('.') || '(root)',
      message: i.message,
    }));
    throw new PatchbayError(
      'VALIDATION_FAILED',
      `invalid params: ${fields.map((f) => `${f.path}: ${f.message}`).join('; ')}`,
      { fields },
    );
  }
  return parsed.data;
}

/** The id of a call as sent, undefined for a notification (which is never answered). */
function requestId(message: unknown): RpcId | undefined {
  if (!message || typeof message !== 'object' || !('id' in message)) return undefined;
  const id = (message as { id: unknown }).id;
  return typeof id === 'string' || typeof id === 'number' || id === null ? id : null;
}

const tooLarge = (id: RpcId, bytes: number) =>
  rpcError(
    id,
    new PatchbayError(
      'RPC_RESPONSE_TOO_LARGE',
      `the answer would be ${bytes} bytes; at most ${RPC_LIMITS.maxResponseBytes} are sent in one message: ask for less (e.g. a smaller limit)`,
      { bytes, maxResponseBytes: RPC_LIMITS.maxResponseBytes },
    ),
  );

/** One answer as text, or an error in its place when it is too large or cannot be serialized. */
function serialize(message: unknown): string {
  const id = requestId(message) ?? null;
  let text: string;
  try {
    text = JSON.stringify(message);
  } catch (err) {
    // A string past V8's limit throws RangeError: answer with an error, never crash.
    return JSON.stringify(rpcError(id, toPatchbayError(err)));
  }
  const bytes = Buffer.byteLength(text);
  return bytes > RPC_LIMITS.maxResponseBytes ? JSON.stringify(tooLarge(id, bytes)) : text;
}

/** A batch answer within the size bound: answers past it become errors, in order. */
function serializeBatch(responses: unknown[]): string {
  let total = 2;
  const parts = responses.map((r) => {
    let text = serialize(r);
    const bytes = Buffer.byteLength(text);
    if (total + bytes + 1 > RPC_LIMITS.maxResponseBytes) {
      text = JSON.stringify(tooLarge(requestId(r) ?? null, total + bytes));
    }
    total += Buffer.byteLength(text) + 1;
    return text;
  });
  return `[${parts.join(',')}]`;
}

/**
 * One WebSocket connection speaking JSON-RPC 2.0: run.create/get/list/cancel/pause/resume,
 * run.subscribe → `run.event` notifications, run.unsubscribe. Batches are supported.
 */
export function handleJsonRpcSocket(
  socket: WebSocket,
  deps: ServerDeps,
  clientKey: string,
  log: Logger,
): void {
  const subscriptions = new Map<string, EventCursor>();
  let closed = false;
  let inFlight = 0;

  const sendText = (text: string): void => {
    if (closed || socket.readyState !== socket.OPEN) return;
    socket.send(text, (err) => {
      // The peer went away mid-send: nothing to answer, and nothing to crash over.
      if (err) log.debug({ err }, 'websocket send failed');
    });
  };
  const send = (message: unknown): void => sendText(serialize(message));

  const waitForBuffer = async (): Promise<void> => {
    while (!closed && socket.bufferedAmount > SEND_HIGH_WATER) {
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  const pump = async (runId: string, cursor: EventCursor): Promise<void> => {
    try {
      for (;;) {
        const batch = await cursor.next();
        if (!batch || closed) break;
        for (const event of batch) {
          send({ jsonrpc: '2.0', method: 'run.event', params: event satisfies RunEvent });
          await waitForBuffer();
        }
      }
    } catch (err) {
      log.error({ err, runId }, 'subscription failed');
    } finally {
      if (subscriptions.get(runId) === cursor) subscriptions.delete(runId);
      cursor.close();
    }
  };

  const methods: Record<string, (params: unknown) => Promise<unknown>> = {
    'run.create': async (params) => {
      const request = parseParams(CreateRunRequest, params);
      deps.runCreateLimiter.hit(clientKey);
      const run = await deps.engine.createRun(request);
      return request.wait ? deps.engine.waitForRun(run.id) : run;
    },
    'run.get': async (params) => deps.engine.getRun(parseParams(IdParams, params).id),
    'run.list': async (params) =>
      deps.engine.listRuns(
        parseParams(
          z
            .object({
              limit: z.number().int().min(1).max(200).default(50),
              cursor: z.string().optional(),
            })
            .strict(),
          params,
        ),
      ),
    'run.cancel': async (params) => deps.engine.cancelRun(parseParams(IdParams, params).id),
    'run.pause': async (params) => deps.engine.pauseRun(parseParams(IdParams, params).id),
    'run.resume': async (params) => deps.engine.resumeRun(parseParams(IdParams, params).id),
    'run.interrupt': async (params) => deps.engine.interruptRun(parseParams(IdParams, params).id),
    'run.subscribe': async (params) => {
      const { id, after } = parseParams(SubscribeParams, params);
      subscriptions.get(id)?.close();
      const cursor = await deps.engine.openCursor(id, after);
      subscriptions.set(id, cursor);
      // Notifications start after the response is sent (see handle()).
      queueMicrotask(() => void pump(id, cursor));
      return { subscribed: true, id, after };
    },
    'run.unsubscribe': async (params) => {
      const { id } = parseParams(IdParams, params);
      const cursor = subscriptions.get(id);
      cursor?.close();
      subscriptions.delete(id);
      return { unsubscribed: cursor !== undefined, id };
    },
  };

  const handleOne = async (message: unknown): Promise<unknown> => {
    const parsed = RpcRequest.safeParse(message);
    if (!parsed.success) {
      return rpcError(
        requestId(message) ?? null,
        new PatchbayError('RPC_INVALID_REQUEST', undefined, {
          issues: parsed.error.issues.map((i) => i.message),
        }),
      );
    }
    const { method, params, id } = parsed.data;
    const isNotification = id === undefined;
    const fn = Object.hasOwn(methods, method) ? methods[method] : undefined;
    if (!fn) {
      return isNotification
        ? undefined
        : rpcError(
            id,
            new PatchbayError('RPC_METHOD_NOT_FOUND', `no method ${method}`, { method }),
          );
    }
    try {
      const result = await fn(params);
      return isNotification ? undefined : { jsonrpc: '2.0', id, result };
    } catch (err) {
      const pe = toPatchbayError(err);
      if (pe.kind === 'unexpected') log.error({ err, method }, 'json-rpc method failed');
      return isNotification ? undefined : rpcError(id, pe);
    }
  };

  /** Runs the calls of a batch a few at a time, each answer in order. */
  const handleBatch = async (messages: unknown[]): Promise<unknown[]> => {
    const answers: unknown[] = new Array(messages.length);
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < messages.length) {
        const i = next++;
        answers[i] = await handleOne(messages[i]);
      }
    };
    await Promise.all(Array.from({ length: RPC_LIMITS.batchConcurrency }, lane));
    return answers.filter((r) => r !== undefined);
  };

  const onMessage = async (data: unknown, isBinary: boolean): Promise<void> => {
    let message: unknown;
    try {
      message = JSON.parse(isBinary ? Buffer.from(data as Buffer).toString('utf8') : String(data));
    } catch {
      send(rpcError(null, new PatchbayError('RPC_PARSE_ERROR')));
      return;
    }
    const calls = Array.isArray(message) ? message.length : 1;
    if (Array.isArray(message) && calls === 0) {
      send(rpcError(null, new PatchbayError('RPC_INVALID_REQUEST', 'empty batch')));
      return;
    }
    if (calls > RPC_LIMITS.maxBatch) {
      send(
        rpcError(
          null,
          new PatchbayError(
            'RPC_BATCH_TOO_LARGE',
            `a batch may hold at most ${RPC_LIMITS.maxBatch} calls; this one has ${calls}`,
            { calls, maxBatch: RPC_LIMITS.maxBatch },
          ),
        ),
      );
      return;
    }
    if (inFlight + calls > RPC_LIMITS.maxInFlight) {
      const err = new PatchbayError(
        'RPC_TOO_MANY_IN_FLIGHT',
        `this connection has ${inFlight} calls in progress; at most ${RPC_LIMITS.maxInFlight} may run at once`,
        { inFlight, maxInFlight: RPC_LIMITS.maxInFlight },
      );
      const ids = (Array.isArray(message) ? message : [message]).map(requestId);
      const answers = ids.filter((id) => id !== undefined).map((id) => rpcError(id, err));
      if (answers.length > 0) send(Array.isArray(message) ? answers : answers[0]);
      return;
    }
    inFlight += calls;
    try {
      if (Array.isArray(message)) {
        const responses = await handleBatch(message);
        if (responses.length > 0) sendText(serializeBatch(responses));
        return;
      }
      const response = await handleOne(message);
      if (response !== undefined) send(response);
    } finally {
      inFlight -= calls;
    }
  };

  socket.on('message', (data, isBinary) => {
    onMessage(data, isBinary).catch((err: unknown) =>
      log.error({ err }, 'json-rpc message handling failed'),
    );
  });

  const close = (): void => {
    if (closed) return;
    closed = true;
    for (const cursor of subscriptions.values()) cursor.close();
    subscriptions.clear();
    deps.openStreams.delete(terminate);
  };
  const terminate = (): void => {
    close();
    socket.close(1001, 'server shutting down');
  };
  deps.openStreams.add(terminate);
  socket.on('close', close);
  socket.on('error', close);
}
