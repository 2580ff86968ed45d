/**
 * What the HTTP layer and the image flow need from tracing, whether OpenTelemetry is on or
 * not: a span per image request, and the timing of the steps of a miss (imgproxy's spans
 * `queue`, `downloading_source_image`, `processing_image`), which always feed the
 * `request_span_duration_seconds` histogram and, with tracing on, become child spans of the
 * request that started the computation.
 *
 * The request's span reaches the flow through AsyncLocalStorage, entered only when tracing
 * is on: the cache-hit path of a server without tracing pays nothing for it, and no service
 * signature carries a tracing argument.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';
import type { ErrorCategory } from './error-category.js';
import type { Metrics, SpanName } from './metrics.js';

export interface RequestSpan {
  /** A child span of this request, ended by the function returned. */
  child(name: SpanName): () => void;
  /** The request failed: recorded on the span as an exception event (imgproxy's SendError). */
  error(category: ErrorCategory, message: string): void;
  end(status: number): void;
}

export interface Tracing {
  /** The request's span, its parent read from the request's headers (W3C traceparent…). */
  startRequest(req: IncomingMessage, path: string): RequestSpan;
  /** Exports what is pending and stops. */
  shutdown(): Promise<void>;
}

const current = new AsyncLocalStorage<RequestSpan>();

/** Runs `fn` with `span` as the current request's span (seen by `createStepTimer`). */
export function withRequestSpan<T>(span: RequestSpan, fn: () => T): T {
  return current.run(span, fn);
}

/** Starts a step; the function returned ends it (once: later calls do nothing). */
export type StepTimer = (name: SpanName) => () => void;

/** Steps timed into `metrics` and, when a request span is current, into the trace. */
export function createStepTimer(metrics: Pick<Metrics, 'span'>): StepTimer {
  return (name) => {
    const started = performance.now();
    const endChild = current.getStore()?.child(name);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      metrics.span(name, (performance.now() - started) / 1000);
      endChild?.();
    };
  };
}
