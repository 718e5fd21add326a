/**
 * A scripted Gemini API (generativelanguage.googleapis.com v1beta) on 127.0.0.1, written from
 * the published REST reference: `POST /v1beta/models/{model}:streamGenerateContent?alt=sse`
 * answers Server-Sent Events whose `data:` lines are GenerateContentResponse objects
 * (`candidates[].content.parts[]` with `text` or `functionCall`, `finishReason`,
 * `usageMetadata`); `:generateContent` answers one such object (the CLI's model-router side
 * call asks for JSON `{reasoning, model_choice}`); `:countTokens` answers `{totalTokens}`;
 * errors carry Google's `{"error":{code,message,status,details}}` body.
 *
 * Each case scripts the turns the model takes under its own mark (harness.ts `caseTag`, put in
 * its prompt): a streamGenerateContent request takes the next turn of the case its newest user
 * text names, so a stuck or slow run cannot consume or shift another case's turns. Every
 * request is recorded with its case.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { CaseScripts, caseOf } from '../harness.js';

export interface Usage {
  prompt: number;
  candidates: number;
  cached?: number;
}

export type Turn =
  /** The model answers with text (split into a few SSE chunks), then STOP. */
  | { text: string; usage?: Usage }
  /** The model calls a tool (e.g. write_file {file_path, content}). */
  | { call: { name: string; args: Record<string, unknown> }; text?: string; usage?: Usage }
  /** An HTTP error with Google's error body. */
  | { error: GoogleError }
  /** Sends a first text chunk, then holds the stream open until the client goes away. */
  | { hang: string };

export interface GoogleError {
  code: number;
  status: string;
  message: string;
  details?: unknown[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  /** `streamGenerateContent`, `generateContent`, `countTokens` or `other`. */
  kind: string;
  model: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  /** The case its newest user text names (undefined: none, or no such script). */
  case: string | undefined;
  /** When it arrived (ms since the epoch). */
  at: number;
}

export interface GeminiServer {
  url: string;
  requests: RecordedRequest[];
  /** Requests the server had no script for (answered with a plain text, logged). */
  unknown: RecordedRequest[];
  /** Appends turns to the script of case `name` (its prompt carries `caseTag(name)`). */
  script(name: string, ...turns: Turn[]): void;
  /** Turns not consumed yet, of one case or of all. */
  pending(name?: string): number;
  /** The usage the server reported to case `name`, summed over its answers (side calls too). */
  sentUsage(name: string): { prompt: number; candidates: number; cached: number };
  /** The streamGenerateContent requests of case `name`. */
  turns(name: string): RecordedRequest[];
  close(): Promise<void>;
}

export const DEFAULT_USAGE: Usage = { prompt: 100, candidates: 10 };
/** What a side call (the model router) reports. */
const SIDE_CALL_USAGE: Usage = { prompt: 5, candidates: 5 };

/** Google's error bodies, as the API sends them. */
export const errors = {
  unauthenticated: (): GoogleError => ({
    code: 401,
    status: 'UNAUTHENTICATED',
    message:
      'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
  }),
  permissionDenied: (): GoogleError => ({
    code: 403,
    status: 'PERMISSION_DENIED',
    message:
      "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
  }),
  rateLimited: (retryDelay = '2s'): GoogleError => ({
    code: 429,
    status: 'RESOURCE_EXHAUSTED',
    message:
      'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [
          {
            quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
            quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
          },
        ],
      },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay },
    ],
  }),
  internal: (): GoogleError => ({
    code: 500,
    status: 'INTERNAL',
    message:
      'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  }),
  unavailable: (): GoogleError => ({
    code: 503,
    status: 'UNAVAILABLE',
    message: 'The model is overloaded. Please try again later.',
  }),
  contextLength: (count = 1_200_000, max = 1_048_576): GoogleError => ({
    code: 400,
    status: 'INVALID_ARGUMENT',
    message: `The input token count (${count}) exceeds the maximum number of tokens allowed (${max}).`,
  }),
};

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text ? JSON.parse(text) : undefined);
      } catch {
        resolve(text);
      }
    });
    req.on('error', () => resolve(undefined));
  });
}

const usageMetadata = (u: Usage) => ({
  promptTokenCount: u.prompt,
  candidatesTokenCount: u.candidates,
  totalTokenCount: u.prompt + u.candidates,
  ...(u.cached !== undefined ? { cachedContentTokenCount: u.cached } : {}),
});

const chunk = (parts: unknown[], extra: Record<string, unknown> = {}) => ({
  candidates: [{ content: { role: 'model', parts }, index: 0, ...extra }],
});

function sendError(res: ServerResponse, error: GoogleError): void {
  res.writeHead(error.code, { 'content-type': 'application/json; charset=UTF-8' });
  res.end(JSON.stringify({ error }));
}

/** The text parts of a request's user contents, oldest first. */
function userTexts(body: unknown): string[] {
  const contents = (body as { contents?: { role?: string; parts?: { text?: unknown }[] }[] })
    ?.contents;
  if (!Array.isArray(contents)) return [];
  return contents
    .filter((c) => c.role === 'user')
    .flatMap((c) => (c.parts ?? []).map((p) => (typeof p.text === 'string' ? p.text : '')));
}

export async function startGeminiServer(): Promise<GeminiServer> {
  const scripts = new CaseScripts<Turn>();
  const requests: RecordedRequest[] = [];
  const unknown: RecordedRequest[] = [];
  const sentBy = new Map<string, { prompt: number; candidates: number; cached: number }>();
  const open = new Set<ServerResponse>();

  function count(name: string | undefined, usage: Usage): void {
    const sent = sentBy.get(name ?? '') ?? { prompt: 0, candidates: 0, cached: 0 };
    sent.prompt += usage.prompt;
    sent.candidates += usage.candidates;
    sent.cached += usage.cached ?? 0;
    sentBy.set(name ?? '', sent);
  }

  function stream(res: ServerResponse, turn: Turn, record: RecordedRequest): void {
    const model = record.model;
    if ('error' in turn) return sendError(res, turn.error);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const data = (value: unknown) => res.write(`data: ${JSON.stringify(value)}\r\n\r\n`);
    if ('hang' in turn) {
      data(chunk([{ text: turn.hang }]));
      open.add(res);
      res.on('close', () => open.delete(res));
      return;
    }
    const usage = turn.usage ?? DEFAULT_USAGE;
    count(record.case, usage);
    const text = 'text' in turn && turn.text ? turn.text : '';
    // Text arrives in pieces, as the real API streams it; usage rides on the last chunk.
    const pieces = text
      ? [text.slice(0, Math.ceil(text.length / 2)), text.slice(Math.ceil(text.length / 2))]
      : [];
    for (const piece of pieces.filter(Boolean)) data(chunk([{ text: piece }]));
    const last: unknown[] = 'call' in turn ? [{ functionCall: turn.call }] : [];
    data({
      ...chunk(last.length ? last : [{ text: '' }], { finishReason: 'STOP' }),
      usageMetadata: usageMetadata(usage),
      modelVersion: model,
      responseId: `resp-${requests.length}`,
    });
    res.end();
  }

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const match = /\/models\/([^/:]+):(\w+)$/.exec(url.pathname);
      const kind = match ? match[2]! : 'other';
      const record: RecordedRequest = {
        method: req.method ?? '',
        path: `${url.pathname}${url.search}`,
        kind: ['streamGenerateContent', 'generateContent', 'countTokens'].includes(kind)
          ? kind
          : 'other',
        model: match ? match[1]! : '',
        headers: req.headers,
        body,
        case: caseOf(userTexts(body)),
        at: Date.now(),
      };
      requests.push(record);
      if (record.kind === 'streamGenerateContent') {
        const turn = scripts.next(record.case);
        if (!turn) unknown.push(record);
        return stream(res, turn ?? { text: 'The script has no more turns.' }, record);
      }
      if (record.kind === 'countTokens') {
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ totalTokens: 100 }));
      }
      if (record.kind === 'generateContent') {
        // The CLI's side calls: the model router asks for {reasoning, model_choice}; others
        // (next-speaker checks, summaries) get a short JSON-ish text.
        const asJson = /model_choice|complexity_score/.test(JSON.stringify(body ?? ''));
        const text = asJson
          ? JSON.stringify({
              reasoning: 'scripted: a simple task',
              model_choice: 'flash',
              complexity_reasoning: 'scripted: a simple task',
              complexity_score: 10,
            })
          : JSON.stringify({ reasoning: 'scripted', next_speaker: 'user' });
        if (!asJson) unknown.push(record);
        count(record.case, SIDE_CALL_USAGE);
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(
          JSON.stringify({
            ...chunk([{ text }], { finishReason: 'STOP' }),
            usageMetadata: usageMetadata(SIDE_CALL_USAGE),
          }),
        );
      }
      unknown.push(record);
      process.stderr.write(
        `gemini scripted server: unknown request ${req.method} ${record.path}\n`,
      );
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ error: { code: 404, status: 'NOT_FOUND', message: 'not scripted' } }),
      );
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    unknown,
    script: (name, ...turns) => scripts.add(name, turns),
    pending: (name) => scripts.pending(name),
    sentUsage: (name) => ({ prompt: 0, candidates: 0, cached: 0, ...sentBy.get(name) }),
    turns: (name) => requests.filter((r) => r.kind === 'streamGenerateContent' && r.case === name),
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of open) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
