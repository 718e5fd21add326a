/**
 * cursor-runner's wire format: what its clients send and parse. Bodies are read leniently
 * (as Express did: unknown fields ignored) and answered with its fields, so a client written
 * for cursor-runner needs no change. See docs/compat.md for where Patchbay differs.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';

export const QueueType = z.enum(['default', 'telegram', 'api']);
export type QueueType = z.infer<typeof QueueType>;

/** Body of /cursor/execute[/async] and /cursor/iterate[/async]. */
export const ExecuteBody = z.object({
  id: z.string().min(1).max(200).optional(),
  repository: z.string().max(200).nullish(),
  branchName: z.string().max(200).nullish(),
  prompt: z.string().nullish(),
  conversationId: z.string().max(200).nullish(),
  conversation_id: z.string().max(200).nullish(),
  queueType: QueueType.nullish(),
  callbackUrl: z.string().max(4096).nullish(),
  callback_url: z.string().max(4096).nullish(),
  maxIterations: z.coerce.number().int().min(1).max(50).nullish(),
});
export type ExecuteBody = z.infer<typeof ExecuteBody>;

/** The result body of a finished request (and of its callback). */
export interface SuccessBody {
  success: true;
  requestId: string;
  repository: string | null;
  branchName?: string;
  command?: string[];
  output: string;
  error: string | null;
  exitCode: number;
  duration: string;
  timestamp: string;
  iterations?: number;
  maxIterations?: number;
  /** Patchbay's additions: where to look for everything else. */
  runId?: string;
  conversationId?: string;
}

export interface FailureBody {
  success: false;
  error: string;
  requestId?: string;
  repository?: string | null;
  exitCode?: number;
  duration?: string;
  timestamp?: string;
  iterations?: number;
  maxIterations?: number;
  output?: string;
  code?: string;
  runId?: string;
}

/** A request refused or failed with cursor-runner's body. */
export class CompatFailure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/** `req-<ms>-<9 chars>`, as cursor-runner names requests without an `id`. */
export function newRequestId(prefix = 'req'): string {
  return `${prefix}-${Date.now()}-${randomBytes(6).toString('base64url').slice(0, 9).toLowerCase()}`;
}

export const timestamp = (): string => new Date().toISOString();

/** cursor-runner's error body: `{success:false, error, timestamp, …}`. */
export function sendFailure(
  reply: FastifyReply,
  status: number,
  error: string,
  extra: Record<string, unknown> = {},
): FastifyReply {
  return reply.code(status).send({ success: false, error, ...extra, timestamp: timestamp() });
}

/** Headers cursor-runner's conversation routes set so browsers never cache answers. */
export const noStore = {
  'cache-control': 'no-store, no-cache, must-revalidate, proxy-revalidate',
  pragma: 'no-cache',
  expires: '0',
};
