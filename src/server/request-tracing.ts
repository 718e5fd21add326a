import type { FastifyInstance } from 'fastify';
import type { TraceSpan, Tracing } from '../observability/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The server span of this request (tracing on only). */
    span?: TraceSpan;
  }
}

/**
 * One server span per request, child of the caller's `traceparent` when it sent one (else the
 * first span of a new trace). X-Request-ID stays the request id; the span carries it too.
 *
 * The span is made active for the hooks that follow and again before the handler: body
 * parsing resumes on the socket's own async context, which would lose it.
 */
export function registerRequestTracing(app: FastifyInstance, tracing: Tracing): void {
  if (!tracing.enabled) return;

  app.addHook('onRequest', (request, _reply, done) => {
    const span = tracing.startSpan(request.method, {
      kind: 'server',
      parent: tracing.extract(request.headers),
      attributes: {
        'http.request.method': request.method,
        // The path only: a query string may carry a signed URL's signature.
        'url.path': request.url.split('?')[0]!,
        'patchbay.request_id': request.id,
      },
    });
    request.span = span;
    tracing.withSpan(span, done);
  });

  app.addHook('preHandler', (request, _reply, done) => {
    if (request.span) tracing.withSpan(request.span, done);
    else done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    const span = request.span;
    if (span) {
      const route = request.routeOptions.url;
      if (route) {
        span.updateName(`${request.method} ${route}`);
        span.setAttribute('http.route', route);
      }
      span.setAttribute('http.response.status_code', reply.statusCode);
      // Server spans are errors on 5xx only: a 4xx is the client's doing.
      if (reply.statusCode >= 500) span.setStatus({ code: 2 });
      span.end();
      request.span = undefined;
    }
    done();
  });

  app.addHook('onRequestAbort', (request, done) => {
    request.span?.setAttribute('http.request.aborted', true);
    request.span?.end();
    request.span = undefined;
    done();
  });
}
