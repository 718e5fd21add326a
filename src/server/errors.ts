import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import {
  errorCatalog,
  isPatchbayError,
  PatchbayError,
  type ErrorBody,
  type ErrorCode,
} from '../contracts/index.js';

export interface FieldProblem {
  location: string;
  path: string;
  message: string;
}

/** Fastify's own error codes that are the client's fault, mapped to ours. */
const fastifyCodes: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'VALIDATION_FAILED',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VALIDATION_FAILED',
  FST_ERR_CTP_INVALID_JSON_BODY: 'VALIDATION_FAILED',
  FST_ERR_VALIDATION: 'VALIDATION_FAILED',
  // The router's own refusals (see frameworkErrors in app.ts).
  FST_ERR_BAD_URL: 'VALIDATION_FAILED',
  FST_ERR_MAX_PARAM_LENGTH: 'VALIDATION_FAILED',
};

/** Converts anything thrown into a PatchbayError, keeping user-facing detail. */
export function toPatchbayError(err: unknown): PatchbayError {
  if (isPatchbayError(err)) return err;
  if (hasZodFastifySchemaValidationErrors(err)) {
    const location = (err as { validationContext?: string }).validationContext ?? 'body';
    const fields: FieldProblem[] = err.validation.map((v) => ({
      location,
      path: v.instancePath.replace(/^\//, '').replace(/\//g, '.') || '(root)',
      message: v.message ?? 'invalid',
    }));
    const summary = fields.map((f) => `${f.location}.${f.path}: ${f.message}`).join('; ');
    return new PatchbayError('VALIDATION_FAILED', `invalid request: ${summary}`, { fields });
  }
  const fe = err as Partial<FastifyError> & { message?: string };
  if (err instanceof SyntaxError || fe.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return new PatchbayError('VALIDATION_FAILED', 'the request body is not valid JSON', {
      fields: [{ location: 'body', path: '(root)', message: String(fe.message) }],
    });
  }
  if (fe.code && fastifyCodes[fe.code]) {
    return new PatchbayError(fastifyCodes[fe.code]!, fe.message);
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode === 429) {
    return new PatchbayError('RATE_LIMITED');
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new PatchbayError('VALIDATION_FAILED', fe.message);
  }
  return new PatchbayError('INTERNAL_ERROR', undefined, undefined, { cause: err });
}

export function errorBody(err: PatchbayError, requestId: string): ErrorBody {
  const body: ErrorBody = {
    error: { code: err.code, message: err.message, requestId },
  };
  if (err.details !== undefined) body.error.details = err.details;
  return body;
}

/**
 * Seconds a client should wait before retrying: `details.retryAfterSeconds` when the error
 * carries it (RATE_LIMITED, BUDGET_EXCEEDED), 60 for any other 429, otherwise none.
 */
export function retryAfterSeconds(err: PatchbayError): number | undefined {
  const given = (err.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
  if (typeof given === 'number' && Number.isFinite(given)) return Math.max(1, Math.ceil(given));
  return err.status === 429 ? 60 : undefined;
}

export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  thrown: unknown,
): FastifyReply {
  const err = toPatchbayError(thrown);
  if (err.kind === 'unexpected' || err.status >= 500) {
    request.log.error({ err: thrown, code: err.code }, 'request failed');
  } else {
    request.log.info({ code: err.code, message: err.message }, 'request refused');
  }
  const retryAfter = retryAfterSeconds(err);
  if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
  // Never leak internals of unexpected errors to the client.
  const safe =
    err.kind === 'unexpected' ? new PatchbayError(err.code, errorCatalog[err.code].message) : err;
  return reply.code(err.status).send(errorBody(safe, request.id));
}
