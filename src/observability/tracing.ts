import {
  defaultTextMapGetter,
  defaultTextMapSetter,
  INVALID_SPAN_CONTEXT,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import { scrubText } from './redact.js';
import { setActiveContextSource } from './trace-context.js';

export type { Span as TraceSpan } from '@opentelemetry/api';

/** W3C ids of a span: 32 and 16 lowercase hex digits. */
export interface TraceIds {
  traceId: string;
  spanId: string;
}

export interface SpanOptions {
  attributes?: Attributes;
  kind?: 'internal' | 'server' | 'client' | 'producer';
  /** When the span began, if before now (a run's queue wait starts at its creation). */
  startTime?: Date;
  /**
   * Its parent: a context (from `extract`), the ids of a span elsewhere (a run's creating
   * span, read from the store), or null for a new trace. Default: the active span.
   */
  parent?: Context | TraceIds | null;
}

/**
 * Traces of one process. Off (no PATCHBAY_OTLP_ENDPOINT) every method is a no-op that calls
 * straight through: no span objects, no context switches, no ids.
 */
export interface Tracing {
  readonly enabled: boolean;
  /**
   * Runs `fn` inside a new span, active for everything `fn` awaits; ends it when `fn` settles
   * and records a rejection as the span's error.
   */
  inSpan<T>(name: string, options: SpanOptions, fn: (span: Span) => Promise<T>): Promise<T>;
  /** Starts a span the caller ends (for work that begins and ends in different callbacks). */
  startSpan(name: string, options?: SpanOptions): Span;
  /** Calls `fn` with `span` active: spans started inside are its children, logs carry its ids. */
  withSpan<T>(span: Span, fn: () => T): T;
  /** The context an incoming `traceparent` (and `tracestate`) header carries. */
  extract(headers: Record<string, string | string[] | undefined>): Context;
  /** Writes `traceparent` of `span` (default: the active span) into outgoing headers. */
  inject(headers: Record<string, string>, span?: Span): void;
  /** Ids of the active span, if one is recording. */
  activeIds(): TraceIds | undefined;
  /** Sends what is buffered and stops; later spans are dropped. */
  shutdown(): Promise<void>;
}

export interface CreateTracingOptions {
  /** OTLP/HTTP base URL (`/v1/traces` is appended unless present); unset: tracing is off. */
  endpoint?: string | undefined;
  /** Extra request headers of the exporter (an API key of a hosted collector). */
  headers?: Record<string, string>;
  serviceName: string;
  version: string;
  /** Longest time a finished span waits in the buffer before it is sent. */
  exportDelayMs?: number;
}

const kinds = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
} as const;

const noopSpan: Span = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
let contextManagerReady: Promise<ContextManagerLike> | undefined;
interface ContextManagerLike {
  active(): Context;
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F>;
}

/** The process's AsyncLocalStorage context manager, made once, on the first tracing. */
async function processContextManager(): Promise<ContextManagerLike> {
  contextManagerReady ??= import('@opentelemetry/context-async-hooks').then((m) => {
    const cm = new m.AsyncLocalStorageContextManager().enable();
    setActiveContextSource(cm);
    return cm;
  });
  return contextManagerReady;
}

/** `https://collector:4318` → `https://collector:4318/v1/traces`. */
function tracesUrl(endpoint: string): string {
  const base = endpoint.replace(/\/+$/, '');
  return base.endsWith('/v1/traces') ? base : `${base}/v1/traces`;
}

/** Tracing off: what `createTracing` returns without an endpoint, for code given none. */
export const tracingOff: Tracing = {
  enabled: false,
  inSpan: (_name, _options, fn) => fn(noopSpan),
  startSpan: () => noopSpan,
  withSpan: (_span, fn) => fn(),
  extract: () => ROOT_CONTEXT,
  inject: () => undefined,
  activeIds: () => undefined,
  shutdown: () => Promise.resolve(),
};

/**
 * @example
 *   const tracing = await createTracing({ endpoint: config.otlpEndpoint, serviceName: 'patchbay', version });
 *   await tracing.inSpan('run.create', { attributes: { 'patchbay.run.id': id } }, async () => insert());
 */
export async function createTracing(options: CreateTracingOptions): Promise<Tracing> {
  if (!options.endpoint) return tracingOff;
  // The SDK loads only when tracing is on: a process without it pays nothing at start either.
  const [
    cm,
    { W3CTraceContextPropagator },
    { OTLPTraceExporter },
    { resourceFromAttributes },
    sdk,
    semconv,
  ] = await Promise.all([
    processContextManager(),
    import('@opentelemetry/core'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/semantic-conventions'),
  ]);
  const { BasicTracerProvider, BatchSpanProcessor } = sdk;
  const { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } = semconv;
  const propagator = new W3CTraceContextPropagator();
  const exporter = new OTLPTraceExporter({
    url: tracesUrl(options.endpoint),
    headers: options.headers ?? {},
  });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: options.serviceName,
      [ATTR_SERVICE_VERSION]: options.version,
    }),
    spanProcessors: [
      new BatchSpanProcessor(exporter, { scheduledDelayMillis: options.exportDelayMs ?? 2000 }),
    ],
  });
  const tracer = provider.getTracer('patchbay', options.version);

  function parentContext(parent: SpanOptions['parent']): Context {
    if (parent === undefined) return cm.active();
    if (parent === null) return ROOT_CONTEXT;
    if ('traceId' in parent && typeof parent.traceId === 'string') {
      const ids = parent as TraceIds;
      return trace.setSpanContext(ROOT_CONTEXT, {
        traceId: ids.traceId,
        spanId: ids.spanId,
        traceFlags: TraceFlags.SAMPLED,
        isRemote: true,
      });
    }
    return parent as Context;
  }

  function startSpan(name: string, o: SpanOptions = {}): Span {
    return tracer.startSpan(
      name,
      {
        kind: kinds[o.kind ?? 'internal'],
        ...(o.attributes ? { attributes: o.attributes } : {}),
        ...(o.startTime ? { startTime: o.startTime } : {}),
      },
      parentContext(o.parent),
    );
  }

  return {
    enabled: true,
    startSpan,
    async inSpan(name, o, fn) {
      const span = startSpan(name, o);
      try {
        return await cm.with(trace.setSpan(cm.active(), span), () => fn(span));
      } catch (err) {
        recordError(span, err);
        throw err;
      } finally {
        span.end();
      }
    },
    withSpan: (span, fn) => cm.with(trace.setSpan(cm.active(), span), fn),
    extract: (headers) => propagator.extract(ROOT_CONTEXT, headers, defaultTextMapGetter),
    inject(headers, span) {
      const ctx = span ? trace.setSpan(ROOT_CONTEXT, span) : cm.active();
      propagator.inject(ctx, headers, defaultTextMapSetter);
    },
    activeIds() {
      const ctx = trace.getSpanContext(cm.active());
      return ctx && isSpanContextValid(ctx)
        ? { traceId: ctx.traceId, spanId: ctx.spanId }
        : undefined;
    },
    shutdown: () => provider.shutdown(),
  };
}

/** Marks a span failed with the error's type and message (never its details object). */
export function recordError(span: Span, err: unknown): void {
  const e = err instanceof Error ? err : new Error(String(err));
  const message = scrubText(e.message);
  span.recordException({ name: e.name, message });
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/** Ids of a span, or undefined for a non-recording one (tracing off). */
export function spanIds(span: Span): TraceIds | undefined {
  const ctx = span.spanContext();
  return isSpanContextValid(ctx) ? { traceId: ctx.traceId, spanId: ctx.spanId } : undefined;
}

/**
 * `target` with every method call made inside a trace in a span named `<name>.<method>` (a
 * store repository: `store.runs.get`). Off, it returns `target` itself. Sync methods stay sync.
 */
export function traceMethods<T extends object>(
  name: string,
  target: T,
  tracing: Tracing,
  attributes: Attributes = {},
): T {
  if (!tracing.enabled) return target;
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const value: unknown = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        // Only inside a trace: background pollers (job claims, heartbeats) would otherwise
        // send a root span every few hundred milliseconds, each its own one-span trace.
        if (!tracing.activeIds()) return method.apply(obj, args);
        const span = tracing.startSpan(`${name}.${prop}`, { kind: 'client', attributes });
        let result: unknown;
        try {
          result = tracing.withSpan(span, () => method.apply(obj, args));
        } catch (err) {
          recordError(span, err);
          span.end();
          throw err;
        }
        if (result instanceof Promise) {
          return result.then(
            (v: unknown) => {
              span.end();
              return v;
            },
            (err: unknown) => {
              recordError(span, err);
              span.end();
              throw err;
            },
          );
        }
        span.end();
        return result;
      };
    },
  });
}
