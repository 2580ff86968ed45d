/**
 * The shape every computation has, for images and /info alike: one computation per key
 * (single-flight) that lives while a request waits for it, admitted to the queue (429 when
 * full), its source loaded without a worker, then one step in a worker slot. Each request
 * waits at most IMGPROXY_TIMEOUT (503) and stops waiting when its client goes away; when the
 * last one stops, the computation is aborted wherever it is (queue, download, processing).
 * A failed download becomes the fallback image when the request's dialect says so. A request
 * with its own watermark images (`watermark_url`, one per chained pipeline; PreviewProxy `wm`)
 * loads them beside the source, the same way: origin sub-store, download slot, size limit, retries.
 *
 * With the cross-instance lease (../cache/lease.ts) the computation first claims its key:
 * another instance's result ends it there, before any download, admission or worker. A
 * request that forwards its conditional headers may get the origin's 304 as its input: the
 * caller's `early` turns that into the answer before any worker is taken.
 */
import type { Claim } from '../cache/lease.js';
import type { SingleFlight, Work } from '../cache/singleflight.js';
import type { Limiter } from '../limiter.js';
import type { StepTimer } from '../observability/tracing.js';
import { ProxyError, toProxyError } from '../errors.js';
import type { SourceResponse } from '../sources/types.js';
import type { FallbackPolicy, RetryPolicy } from './policy.js';
import type { LoadVariant, SourceLoader } from './source.js';
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
  /** The dialect's download timeout in seconds (absent: IMGPROXY_DOWNLOAD_TIMEOUT). */
  readonly timeoutSeconds?: number;
  /**
   * Whether a failed download is answered with the fallback image instead of the error: the
   * step then runs with `failure` set and the fallback's bytes as the source.
   */
  readonly fallback?: FallbackPolicy | null;
  /**
   * The request's own fallback image (imgproxy Pro's `fallback_image_url`), used instead of the
   * policy's image; fetched like a source (allowed sources, the origin sub-store), and when
   * that fails too the download's own error is the answer, as imgproxy does.
   */
  readonly fallbackUrl?: string;
  /** The client's conditional headers and cookies, when the request forwards them; `fresh` for `bypass_cache`. */
  readonly variant?: LoadVariant;
  /** The request's own watermark images, loaded like the source (their URLs are already admitted). */
  readonly watermarks?: readonly string[];
}

/** The source a step works on; `failure` is set when it is the fallback image. */
export interface FlowInput {
  readonly source: SourceResponse;
  readonly failure?: ProxyError;
  /** The bytes of `FlowSource.watermarks`, by URL. */
  readonly marks?: ReadonlyMap<string, Buffer>;
}

/** Failures that are the request's, not the watermark's: passed on as they are. */
const NOT_THE_WATERMARK = new Set(['CANCELLED', 'TIMEOUT', 'TOO_MANY_REQUESTS', 'INVALID_IMAGE', 'HOST_NOT_ALLOWED']);

async function loadWatermark(loadSource: SourceLoader, source: FlowSource, url: string, signal: AbortSignal): Promise<Buffer> {
  try {
    return (await loadSource(url, source.maxBytes, signal, source)).body;
  } catch (err) {
    const e = toProxyError(err);
    if (NOT_THE_WATERMARK.has(e.code)) throw e;
    // PreviewProxy answers any failed watermark fetch with 502 `watermark_fetch_failed`;
    // imgproxy's status is the fetch failure's own.
    throw new ProxyError('WATERMARK_UNREACHABLE', `watermark ${url}: ${e.message}`, { status: e.status, cause: e });
  }
}

/** Claims a computation across instances before it starts (the lease of ../cache/lease.ts). */
export type Coordinate<T> = (signal: AbortSignal) => Promise<Claim<T>>;

/** What a caller adds to the computation. */
export interface FlowHooks<T> {
  /** Claims the key across instances before anything starts (the lease). */
  readonly coordinate?: Coordinate<T>;
  /** An answer straight from the loaded input, without a worker (an origin 304). */
  readonly early?: (input: FlowInput) => T | undefined;
}

export interface Flow {
  /**
   * Runs (or joins) the computation for `key`: `step` gets the source bytes and runs in a
   * worker slot. `signal` is the client's: its abort ends this request's wait. `shared`: the
   * value is another instance's result, found through `coordinate`.
   */
  run<T>(key: string, source: FlowSource, step: (input: FlowInput, work: Work) => Promise<T>, signal?: AbortSignal, hooks?: FlowHooks<T>): Promise<{ value: T; joined: boolean; shared: boolean }>;
}

async function loadMain(loadSource: SourceLoader, source: FlowSource, signal: AbortSignal): Promise<FlowInput> {
  try {
    return { source: await loadSource(source.url, source.maxBytes, signal, source, source.variant) };
  } catch (err) {
    const failure = toProxyError(err);
    const fallback = source.fallback;
    if (!fallback || signal.aborted || !fallback.applies(failure)) throw failure;
    let image = fallback.image;
    if (source.fallbackUrl !== undefined) {
      try {
        image = (await loadSource(source.fallbackUrl, source.maxBytes, signal, source.timeoutSeconds !== undefined ? { timeoutSeconds: source.timeoutSeconds } : {})).body;
      } catch {
        image = null;
      }
    }
    if (image === null) throw failure;
    return { source: { status: 200, body: image, headers: {} }, failure };
  }
}

async function load(loadSource: SourceLoader, source: FlowSource, signal: AbortSignal): Promise<FlowInput> {
  const urls = source.watermarks ?? [];
  if (urls.length === 0) return loadMain(loadSource, source, signal);
  // All at once; a failed source is reported before a failed watermark.
  const [main, marks] = await Promise.allSettled([loadMain(loadSource, source, signal), Promise.all(urls.map((url) => loadWatermark(loadSource, source, url, signal)))]);
  if (main.status === 'rejected') throw main.reason;
  if (marks.status === 'rejected') throw marks.reason;
  return { ...main.value, marks: new Map(urls.map((url, i) => [url, marks.value[i] as Buffer])) };
}

export function createFlow(deps: FlowDeps): Flow {
  const { flight, limiter, loadSource } = deps;
  const noStep = (): (() => void) => () => undefined;
  const timeStep = deps.steps ?? noStep;
  return {
    async run(key, source, step, signal, hooks = {}) {
      const { coordinate, early } = hooks;
      const compute = (work: Work) =>
        limiter.admit(async () => {
          const downloaded = timeStep('download');
          let input: FlowInput;
          try {
            input = await load(loadSource, source, work.signal);
          } finally {
            downloaded();
          }
          // An answer that needs no processing (an origin 304) takes no worker.
          const done = early?.(input);
          if (done !== undefined) return done;
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
        });
      const wait = waitFor(deps.timeoutMs, signal);
      try {
        const { value, joined } = await flight.run(
          key,
          async (work) => {
            const claim = coordinate ? await coordinate(work.signal) : null;
            if (claim?.kind === 'result') return { value: claim.value, shared: true };
            try {
              return { value: await compute(work), shared: false };
            } finally {
              if (claim?.kind === 'lead') claim.release();
            }
          },
          { signal: wait.signal, deadline: wait.deadline },
        );
        return { value: value.value, joined, shared: value.shared };
      } finally {
        wait.done();
      }
    },
  };
}
