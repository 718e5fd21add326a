/**
 * A scripted OpenAI Responses API on 127.0.0.1, as Codex reaches it through a custom provider
 * (`wire_api = "responses"`): `POST {base_url}/responses` with `stream: true`, answered with the
 * SSE events Codex consumes (codex-rs/codex-api/src/sse/responses.rs):
 *
 *   event: response.created            data: {"type":"response.created","response":{"id":…}}
 *   event: response.output_item.added  data: {"type":…,"item":{…}}
 *   event: response.output_text.delta  data: {"type":…,"delta":"…"}
 *   event: response.output_item.done   data: {"type":…,"item":{…}}
 *   event: response.completed          data: {"type":…,"response":{"id":…,"usage":{input_tokens,
 *          input_tokens_details:{cached_tokens}, output_tokens, output_tokens_details, total_tokens}}}
 *
 * or `response.failed` with `response.error {code, message}`. HTTP errors carry OpenAI's body
 * `{"error":{"message","type","param","code"}}`. Each case queues what the model answers, one
 * entry per request, under its own mark (harness.ts `caseTag`, put in its prompt): a request
 * takes the next reply of the case its newest user text names, so a stuck or slow run cannot
 * consume or shift another case's replies. Every request is recorded so a test can check what
 * Codex sent (a resumed thread's earlier turns, the tool output of a rejected patch). Anything
 * else Codex asks for is logged and answered 404 with an OpenAI-shaped body.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CaseScripts, caseOf } from '../harness.js';

export interface Usage {
  input: number;
  cached: number;
  output: number;
}

/** What the model does for one request. */
export type Reply =
  | { kind: 'text'; text: string; usage: Usage }
  /** The freeform `apply_patch` tool Codex offers to the gpt-5 family (a custom tool call). */
  | { kind: 'patch'; patch: string; usage: Usage }
  /** The `exec_command` function tool (unified exec). */
  | { kind: 'shell'; cmd: string; usage: Usage }
  /** Opens the stream, sends a first delta, then stays silent until the client goes away. */
  | { kind: 'hang'; usage: Usage }
  | { kind: 'http-error'; status: number; body: unknown; headers?: Record<string, string> }
  /** A stream that starts, then ends with `response.failed` carrying this error. */
  | { kind: 'failed'; code: string; message: string; type?: string };

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: ResponsesBody | undefined;
  at: number;
  /** The case its newest user text names. */
  case: string | undefined;
}

/** The fields of a Responses request the tests look at. */
export interface ResponsesBody {
  model: string;
  stream: boolean;
  input: { type: string; role?: string; content?: unknown; output?: string; call_id?: string }[];
  tools?: { type: string; name?: string }[];
}

export interface ScriptedOpenAi {
  /** The base_url for config.toml: `http://127.0.0.1:<port>/v1`. */
  baseUrl: string;
  requests: RecordedRequest[];
  /** Requests to a path this server does not implement. */
  unknown: RecordedRequest[];
  /** Queues the answers for the next requests of case `name`, in order. */
  queue(name: string, ...replies: Reply[]): void;
  /** Replies still queued, of one case or of all. */
  pending(name?: string): number;
  /** The /v1/responses requests of case `name`. */
  requestsOf(name: string): RecordedRequest[];
  /** Drops the replies still queued. */
  clear(): void;
  close(): Promise<void>;
}

/** OpenAI's error bodies, as its API sends them. */
export const openAiErrors = {
  invalidKey: {
    status: 401,
    body: {
      error: {
        message:
          'Incorrect API key provided: sk-wrong. You can find your API key at https://platform.openai.com/account/api-keys.',
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    },
  },
  rateLimited: (retryAfterS: number) => ({
    status: 429,
    headers: { 'retry-after': String(retryAfterS) },
    body: {
      error: {
        message: `Rate limit reached for gpt-5.5 in organization org-test on tokens per min (TPM): Limit 30000, Used 30000, Requested 1200. Please try again in ${retryAfterS}s.`,
        type: 'tokens',
        param: null,
        code: 'rate_limit_exceeded',
      },
    },
  }),
  server: {
    status: 500,
    body: {
      error: {
        message: 'The server had an error while processing your request. Sorry about that!',
        type: 'server_error',
        param: null,
        code: null,
      },
    },
  },
  contextLength: {
    status: 400,
    body: {
      error: {
        message:
          'Your input exceeds the context window of this model. Please adjust your input and try again.',
        type: 'invalid_request_error',
        param: 'input',
        code: 'context_length_exceeded',
      },
    },
  },
} as const;

/** `total_tokens` and the details objects the way the Responses API reports usage. */
function usageBody(u: Usage) {
  return {
    input_tokens: u.input,
    input_tokens_details: { cached_tokens: u.cached },
    output_tokens: u.output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: u.input + u.output,
  };
}

export async function startScriptedOpenAi(): Promise<ScriptedOpenAi> {
  const requests: RecordedRequest[] = [];
  const unknown: RecordedRequest[] = [];
  const replies = new CaseScripts<Reply>();
  const open = new Set<ServerResponse>();
  let seq = 0;

  function sse(res: ServerResponse, event: Record<string, unknown> & { type: string }): void {
    res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
  }

  function answer(res: ServerResponse, reply: Reply | undefined): void {
    if (!reply) {
      // Nothing scripted: a loud failure the test sees in the run, not a hang.
      sendJson(res, 500, {
        error: {
          message: 'scripted server: no reply queued',
          type: 'server_error',
          param: null,
          code: null,
        },
      });
      return;
    }
    if (reply.kind === 'http-error') {
      sendJson(res, reply.status, reply.body, reply.headers);
      return;
    }
    const id = `resp_${++seq}`;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    sse(res, {
      type: 'response.created',
      response: { id, object: 'response', status: 'in_progress', output: [] },
    });
    if (reply.kind === 'failed') {
      sse(res, {
        type: 'response.failed',
        response: {
          id,
          object: 'response',
          status: 'failed',
          error: {
            type: reply.type ?? 'invalid_request_error',
            code: reply.code,
            message: reply.message,
          },
        },
      });
      res.end();
      return;
    }
    if (reply.kind === 'hang') {
      const item = {
        type: 'message',
        id: `msg_${seq}`,
        role: 'assistant',
        status: 'in_progress',
        content: [],
      };
      sse(res, { type: 'response.output_item.added', output_index: 0, item });
      sse(res, {
        type: 'response.output_text.delta',
        output_index: 0,
        content_index: 0,
        delta: 'Working',
      });
      return; // left open: Codex waits (its idle timeout is longer than the test)
    }
    const item =
      reply.kind === 'text'
        ? {
            type: 'message',
            id: `msg_${seq}`,
            role: 'assistant',
            status: 'completed',
            content: [{ type: 'output_text', text: reply.text, annotations: [] }],
          }
        : reply.kind === 'patch'
          ? {
              type: 'custom_tool_call',
              id: `ctc_${seq}`,
              status: 'completed',
              call_id: `call_${seq}`,
              name: 'apply_patch',
              input: reply.patch,
            }
          : {
              type: 'function_call',
              id: `fc_${seq}`,
              status: 'completed',
              call_id: `call_${seq}`,
              name: 'exec_command',
              arguments: JSON.stringify({ cmd: reply.cmd }),
            };
    sse(res, {
      type: 'response.output_item.added',
      output_index: 0,
      item: reply.kind === 'text' ? { ...item, status: 'in_progress', content: [] } : item,
    });
    if (reply.kind === 'text') {
      sse(res, {
        type: 'response.output_text.delta',
        output_index: 0,
        content_index: 0,
        delta: reply.text,
      });
    }
    sse(res, { type: 'response.output_item.done', output_index: 0, item });
    sse(res, {
      type: 'response.completed',
      response: {
        id,
        object: 'response',
        status: 'completed',
        output: [item],
        usage: usageBody(reply.usage),
      },
    });
    res.end();
  }

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: ResponsesBody | undefined;
      try {
        body = text ? (JSON.parse(text) as ResponsesBody) : undefined;
      } catch {
        body = undefined;
      }
      const record: RecordedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body,
        at: Date.now(),
        case: caseOf(userTexts(body)),
      };
      const path = (req.url ?? '').split('?')[0];
      if (req.method === 'POST' && path === '/v1/responses') {
        requests.push(record);
        open.add(res);
        res.on('close', () => open.delete(res));
        answer(res, replies.next(record.case));
        return;
      }
      unknown.push(record);
      process.stderr.write(`scripted-openai: unhandled ${req.method} ${req.url}\n`);
      sendJson(res, 404, {
        error: {
          message: `Unknown request URL: ${req.method} ${path}`,
          type: 'invalid_request_error',
          param: null,
          code: 'unknown_url',
        },
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    unknown,
    queue: (name, ...r) => replies.add(name, r),
    pending: (name) => replies.pending(name),
    requestsOf: (name) => requests.filter((r) => r.case === name),
    clear: () => replies.clear(),
    async close() {
      for (const res of open) res.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** The text of every user message in a request, oldest first (what the model was shown). */
export function userTexts(body: ResponsesBody | undefined): string[] {
  return (body?.input ?? [])
    .filter((i) => i.type === 'message' && i.role === 'user')
    .flatMap((i) =>
      Array.isArray(i.content)
        ? (i.content as { type?: string; text?: string }[]).map((c) => c.text ?? '')
        : [],
    );
}

/** A minimal `~/.codex/config.toml` pointing Codex at this server as a user points it at a gateway. */
export function codexConfig(
  baseUrl: string,
  options: { envKey?: string; streamRetries?: number } = {},
): string {
  return [
    'model = "gpt-5.5"',
    'model_provider = "scripted"',
    '',
    '[model_providers.scripted]',
    'name = "Scripted OpenAI"',
    `base_url = "${baseUrl}"`,
    `env_key = "${options.envKey ?? 'OPENAI_API_KEY'}"`,
    'wire_api = "responses"',
    // Bounded failures: one retry of a failed request, none of a dropped stream by default.
    'request_max_retries = 1',
    `stream_max_retries = ${options.streamRetries ?? 0}`,
    'stream_idle_timeout_ms = 60000',
    '',
  ].join('\n');
}
