/**
 * A scripted Anthropic Messages API on 127.0.0.1, for the real Claude Code CLI (pointed at it with
 * ANTHROPIC_BASE_URL, as at a gateway). Written from the published wire format
 * (docs.anthropic.com "Streaming Messages" and "Errors"): `POST /v1/messages` with `stream: true`
 * answers `message_start`, `content_block_start`/`content_block_delta`/`content_block_stop` per
 * block (`text_delta`, or `input_json_delta` for a `tool_use`), `message_delta` (stop_reason,
 * output usage) and `message_stop`; errors are `{type:'error', error:{type, message}}` with the
 * status the API uses.
 *
 * Each case queues the answers to the agent's main requests (those that offer tools) under its
 * own mark (harness.ts `caseTag`, put in its prompt): a request takes the next reply of the case
 * its newest user text names, so a stuck or slow run cannot consume or shift another case's
 * replies. Anything else the CLI asks (a side call without tools, a case with nothing queued,
 * an endpoint we do not know) gets a short default and is recorded, as every request is.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CaseScripts, caseOf } from '../harness.js';

export interface Usage {
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
}

export type Reply =
  /** A text answer (stop_reason end_turn). */
  | { kind: 'text'; text: string; usage: Usage }
  /** A tool call (stop_reason tool_use), optionally after some text. */
  | { kind: 'tool'; name: string; input: Record<string, unknown>; text?: string; usage: Usage }
  /** An HTTP error with the API's error body. */
  | { kind: 'error'; status: number; type: string; message: string; retryAfterS?: number }
  /** Starts a text answer and keeps the stream open until the client goes away. */
  | { kind: 'hold'; text: string; usage: Usage };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  /** True for a main agent turn (the request offered tools) that took a scripted reply. */
  scripted: boolean;
  /** The reply it got, for main turns. */
  reply?: Reply;
  /** The case its newest user text names. */
  case: string | undefined;
}

export interface AnthropicServer {
  url: string;
  requests: RecordedRequest[];
  /** Queues replies for the next main-turn requests of case `name`, in order. */
  script(name: string, ...replies: Reply[]): void;
  /** Replies still queued, of one case or of all. */
  pending(name?: string): number;
  /** Requests currently held open by a `hold` reply. */
  holding(): number;
  close(): Promise<void>;
}

const MODEL = 'claude-sonnet-4-5-20250929';

function sse(res: ServerResponse, event: string, data: Record<string, unknown>): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
}

function usageBody(usage: Usage, output: number): Record<string, number> {
  return {
    input_tokens: usage.input,
    cache_creation_input_tokens: usage.cacheWrite ?? 0,
    cache_read_input_tokens: usage.cacheRead ?? 0,
    output_tokens: output,
  };
}

function startMessage(res: ServerResponse, usage: Usage, model: string): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    'request-id': `req_${randomUUID().replace(/-/g, '')}`,
  });
  sse(res, 'message_start', {
    message: {
      id: `msg_${randomUUID().replace(/-/g, '')}`,
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: usageBody(usage, 1),
    },
  });
}

function textBlock(res: ServerResponse, index: number, text: string): void {
  sse(res, 'content_block_start', { index, content_block: { type: 'text', text: '' } });
  // Two deltas, as the API streams text in pieces.
  const half = Math.ceil(text.length / 2);
  for (const piece of [text.slice(0, half), text.slice(half)]) {
    if (piece)
      sse(res, 'content_block_delta', { index, delta: { type: 'text_delta', text: piece } });
  }
  sse(res, 'content_block_stop', { index });
}

function endMessage(res: ServerResponse, stopReason: string, usage: Usage): void {
  sse(res, 'message_delta', {
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: { output_tokens: usage.output },
  });
  sse(res, 'message_stop', {});
  res.end();
}

function sendReply(res: ServerResponse, reply: Reply, model: string, onHold: () => void): void {
  switch (reply.kind) {
    case 'error': {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'request-id': `req_${randomUUID().replace(/-/g, '')}`,
      };
      if (reply.retryAfterS !== undefined) headers['retry-after'] = String(reply.retryAfterS);
      res.writeHead(reply.status, headers);
      res.end(
        JSON.stringify({ type: 'error', error: { type: reply.type, message: reply.message } }),
      );
      return;
    }
    case 'text':
      startMessage(res, reply.usage, model);
      textBlock(res, 0, reply.text);
      endMessage(res, 'end_turn', reply.usage);
      return;
    case 'tool': {
      startMessage(res, reply.usage, model);
      let index = 0;
      if (reply.text) textBlock(res, index++, reply.text);
      const json = JSON.stringify(reply.input);
      sse(res, 'content_block_start', {
        index,
        content_block: {
          type: 'tool_use',
          id: `toolu_${randomUUID().replace(/-/g, '')}`,
          name: reply.name,
          input: {},
        },
      });
      const cut = Math.floor(json.length / 2);
      for (const part of [json.slice(0, cut), json.slice(cut)]) {
        sse(res, 'content_block_delta', {
          index,
          delta: { type: 'input_json_delta', partial_json: part },
        });
      }
      sse(res, 'content_block_stop', { index });
      endMessage(res, 'tool_use', reply.usage);
      return;
    }
    case 'hold':
      startMessage(res, reply.usage, model);
      sse(res, 'content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
      sse(res, 'content_block_delta', {
        index: 0,
        delta: { type: 'text_delta', text: reply.text },
      });
      onHold();
      return;
  }
}

/** The text of each user message (its text blocks joined), oldest first. */
function userTexts(message: Record<string, unknown>): string[] {
  const messages = Array.isArray(message.messages)
    ? (message.messages as { role?: string; content?: unknown }[])
    : [];
  return messages
    .filter((m) => m.role === 'user')
    .map((m) =>
      typeof m.content === 'string'
        ? m.content
        : Array.isArray(m.content)
          ? (m.content as { type?: string; text?: unknown }[])
              .map((b) => (b.type === 'text' && typeof b.text === 'string' ? b.text : ''))
              .join('\n')
          : '',
    );
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export async function startAnthropicServer(): Promise<AnthropicServer> {
  const scripts = new CaseScripts<Reply>();
  const requests: RecordedRequest[] = [];
  const held = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = (req.url ?? '/').split('?')[0]!;
      const record: RecordedRequest = {
        method: req.method ?? 'GET',
        path,
        headers: req.headers,
        body,
        scripted: false,
        case: undefined,
      };
      requests.push(record);
      const message =
        typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
      record.case = caseOf(userTexts(message));
      if (req.method === 'POST' && path === '/v1/messages') {
        const model = typeof message.model === 'string' ? message.model : MODEL;
        const tools = Array.isArray(message.tools) ? message.tools : [];
        const main =
          tools.length > 0 && record.case !== undefined && scripts.pending(record.case) > 0;
        const reply: Reply = main
          ? scripts.next(record.case)!
          : { kind: 'text', text: 'ok', usage: { input: 1, output: 1 } };
        record.scripted = main;
        if (main) record.reply = reply;
        if (message.stream === true) {
          sendReply(res, reply, model, () => {
            held.add(res);
            res.on('close', () => held.delete(res));
          });
        } else if (reply.kind === 'error') {
          sendReply(res, reply, model, () => undefined);
        } else {
          // A non-streamed side call: one Message object.
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              id: `msg_${randomUUID().replace(/-/g, '')}`,
              type: 'message',
              role: 'assistant',
              model,
              content: [{ type: 'text', text: reply.kind === 'text' ? reply.text : 'ok' }],
              stop_reason: 'end_turn',
              stop_sequence: null,
              usage: usageBody({ input: 1, output: 1 }, 1),
            }),
          );
        }
        return;
      }
      if (req.method === 'POST' && path === '/v1/messages/count_tokens') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ input_tokens: 100 }));
        return;
      }
      // Unknown: a 404 in the API's error shape, recorded so a test can see what was asked.
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          type: 'error',
          error: { type: 'not_found_error', message: `no ${path}` },
        }),
      );
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script: (name, ...replies) => scripts.add(name, replies),
    pending: (name) => scripts.pending(name),
    holding: () => held.size,
    async close() {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
