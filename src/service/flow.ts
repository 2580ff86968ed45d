/**
 * The shape every computation has, for images and /info alike: one computation per key
 * (single-flight) that lives while a request waits for it, admitted to the queue (429 when
 * full), its source loaded without a worker, then one step in a worker slot. Each request
 * waits at most IMGPROXY_TIMEOUT (503) and stops waiting when its client goes away; when the
 * last one stops, the computation is aborted wherever it is (queue, download, processing).
 * A failed download becomes the fallback image when the request's dialect says so.
 */
import type { SingleFlight, Work } from '../cache/singleflight.js';
import type { Limiter } from '../limiter.js';
import type { StepTimer } from '../observability/tracing.js';
import { toProxyError, type ProxyError } from '../errors.js';
import type { SourceResponse } from '../sources/types.js';
import type { FallbackPolicy, RetryPolicy } from './policy.js';
import type { SourceLoader } from './source.js';
import { waitFor } from './wait.js';

export interface FlowDeps {
  readonly flight: Pick<SingleFlight, 'run'>;
  readonly limiter: Pick<Limiter, 'admit' | 'workers'>;
  readonly loadSource: SourceLoader;
  /** IMGPROXY_TIMEOUT in ms. */
  readonly timeoutMs: number;
  /** Times the steps as imgproxy's spans (download, queue for a worker, processing). */
  readonly steps?: StepTimer;
}

export interface FlowSource {
  readonly url: string;
  /** 0 = unlimited. */
  readonly maxBytes: number;
  /** The dialect's fetch retries (none when absent). */
  readonly retry?: RetryPolicy | null;
  /**
   * Whether a failed download is answered with the fallback image instead of the error: the
   * step then runs with `failure` set and the fallback's bytes as the source.
   */
  readonly fallback?: FallbackPolicy | null;
  /** Skip the origin sub-store's stored bytes (`bypass_cache`). */
  readonly fresh?: boolean;
}

/** The source a step works on; `failure` is set when it is the fallback image. */
export interface FlowInput {
  readonly source: SourceResponse;
  readonly failure?: ProxyError;
}

export interface Flow {
  /**
   * Runs (or joins) the computation for `key`: `step` gets the source bytes and runs in a
   * worker slot. `signal` is the client's: its abort ends this request's wait.
   */
  run<T>(key: string, source: FlowSource, step: (input: FlowInput, work: Work) => Promise<T>, signal?: AbortSignal): Promise<{ value: T; joined: boolean }>;
}

async function load(loadSource: SourceLoader, source: FlowSource, signal: AbortSignal): Promise<FlowInput> {
  try {
    return { source: await loadSource(source.url, source.maxBytes, signal, source.retry, source.fresh) };
  } catch (err) {
    const failure = toProxyError(err);
    const fallback = source.fallback;
    if (!fallback || signal.aborted || !fallback.applies(failure)) throw failure;
    return { source: { status: 200, body: fallback.image, headers: {} }, failure };
  }
}

export function createFlow(deps: FlowDeps): Flow {
  const { flight, limiter, loadSource } = deps;
  const noStep = (): (() => void) => () => undefined;
  const timeStep = deps.steps ?? noStep;
  return {
    async run(key, source, step, signal) {
      const wait = waitFor(deps.timeoutMs, signal);
      try {
        return await flight.run(
          key,
          (work) =>
            limiter.admit(async () => {
              const downloaded = timeStep('download');
              let input: FlowInput;
              try {
                input = await load(loadSource, source, work.signal);
              } finally {
                downloaded();
              }
              const queued = timeStep('queue');
              try {
                return await limiter.workers.run(async () => {
                  queued();
                  const processed = timeStep('processing');
                  try {
                    return await step(input, work);
                  } finally {
                    processed();
                  }
                }, work.signal);
              } finally {
                queued();
              }
            }),
          { signal: wait.signal, deadline: wait.deadline },
        );
      } finally {
        wait.done();
      }
    },
  };
}
