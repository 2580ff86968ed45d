/**
 * Source bytes for a computation, shared by images and /info: the origin sub-store first,
 * else a download that holds a download slot (not a worker) and is cancelled when no
 * computation waits for it any more, and tried again when the request's dialect retries
 * failed connections (retry.ts). What comes back is a whole image body within the request's
 * size limit, or an error.
 */
import type { ConditionalHeaders, ImageCache, SourceVariant } from '../cache/index.js';
import { ProxyError } from '../errors.js';
import type { Slots } from '../limiter.js';
import { detectImageFormat } from '../sources/detect.js';
import type { Sources } from '../sources/index.js';
import type { SourceResponse } from '../sources/types.js';
import type { RetryPolicy } from './policy.js';
import { withRetries } from './retry.js';

/**
 * `maxBytes`: 0 = unlimited. `signal`: the caller stops waiting. `retry`: the dialect's fetch
 * retries. `variant`: the client's conditional headers and cookies, when it forwards them; with
 * conditional headers the answer may be a 304 (an empty body), never otherwise.
 */
export type SourceLoader = (url: string, maxBytes: number, signal: AbortSignal, retry?: RetryPolicy | null, variant?: LoadVariant) => Promise<SourceResponse>;

export interface LoadVariant {
  readonly conditional?: ConditionalHeaders;
  /** The `Cookie` header sent to the source. */
  readonly cookie?: string;
}

export interface SourceLoaderDeps {
  readonly cache: Pick<ImageCache, 'getSource'>;
  readonly sources: Pick<Sources, 'fetch' | 'admit'>;
  readonly downloads: Pick<Slots, 'run'>;
  /** A download finished: its scheme, size and duration (PreviewProxy's buffer and fetch series). */
  readonly onFetched?: (scheme: string, bytes: number, seconds: number) => void;
}

export function createSourceLoader(deps: SourceLoaderDeps): SourceLoader {
  return async (url, maxBytes, signal, retry, variant = {}) => {
    // Before the origin sub-store is read: a stored source is not served for a URL that
    // IMGPROXY_ALLOWED_SOURCES (or a disabled scheme) no longer admits. Image requests were
    // admitted when resolved already; /info has no other check.
    deps.sources.admit(url);
    // Each attempt holds a download slot of its own, so a pause between attempts holds none.
    const attempt = (fetchSignal: AbortSignal, conditional: ConditionalHeaders): Promise<SourceResponse> =>
      deps.downloads.run(async () => {
        const started = performance.now();
        const fetched = await deps.sources.fetch(url, { maxBytes, ...conditional, ...(variant.cookie !== undefined ? { cookie: variant.cookie } : {}), signal: fetchSignal });
        deps.onFetched?.(url.slice(0, Math.max(0, url.indexOf(':'))), fetched.body.length, (performance.now() - started) / 1000);
        return fetched;
      }, fetchSignal);
    const fetchSource = retry ? withRetries(attempt, retry) : attempt;
    const cacheVariant: SourceVariant = {
      ...(variant.conditional !== undefined ? { conditional: variant.conditional } : {}),
      ...(variant.cookie !== undefined ? { credentials: variant.cookie } : {}),
    };
    const { response } = await deps.cache.getSource(url, (conditional, fetchSignal) => fetchSource(fetchSignal, conditional), signal, cacheVariant);
    // imgproxy answers an origin 304 with 304 (fetcher/request.go, NotModifiedError); one that
    // comes without our asking cannot be that answer.
    if (response.status === 304 && variant.conditional !== undefined) return response;
    if (response.status !== 200) throw new ProxyError('SOURCE_UNREACHABLE', `unexpected status ${response.status} for an unconditional fetch`);
    // The bytes may come from the origin sub-store or from a fetch another request started,
    // under another `max_src_file_size`: this request's limit still holds.
    if (maxBytes > 0 && response.body.length > maxBytes) throw new ProxyError('SOURCE_TOO_BIG', `source is ${response.body.length} bytes, over ${maxBytes}: ${url}`);
    if (detectImageFormat(response.body) === null) throw new ProxyError('INVALID_IMAGE', 'source type could not be detected from its first bytes');
    return response;
  };
}
