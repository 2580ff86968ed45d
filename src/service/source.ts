/**
 * Source bytes for a computation, shared by images and /info: the origin sub-store first,
 * else a download that holds a download slot (not a worker) and is cancelled when no
 * computation waits for it any more, and tried again when the request's dialect retries
 * failed connections (retry.ts). What comes back is a whole image body within the request's
 * size limit, or an error. A video has a limit of its own (PIXPROXY_MAX_VIDEO_SRC_FILE_SIZE):
 * the download runs under the larger of the two, and the body is held to its kind's once its
 * first bytes say what it is.
 */
import type { ConditionalHeaders, ImageCache, SourceVariant } from '../cache/index.js';
import { ProxyError } from '../errors.js';
import type { Slots } from '../limiter.js';
import { isVideoFormat } from '../formats.js';
import { detectImageFormat } from '../sources/detect.js';
import type { Sources } from '../sources/index.js';
import type { SourceResponse } from '../sources/types.js';
import type { RetryPolicy } from './policy.js';
import { withRetries } from './retry.js';

/** How the request's dialect fetches: its retries (none when absent) and its download timeout. */
export interface FetchPolicy {
  readonly retry?: RetryPolicy | null;
  /** Seconds (absent: IMGPROXY_DOWNLOAD_TIMEOUT). */
  readonly timeoutSeconds?: number;
}

/**
 * `maxBytes`: 0 = unlimited. `signal`: the caller stops waiting. `policy`: the dialect's fetch
 * retries and timeout. `variant`: the client's conditional headers and cookies, when it forwards them; with
 * conditional headers the answer may be a 304 (an empty body), never otherwise.
 */
export type SourceLoader = (url: string, maxBytes: number, signal: AbortSignal, policy?: FetchPolicy, variant?: LoadVariant) => Promise<SourceResponse>;

export interface LoadVariant {
  readonly conditional?: ConditionalHeaders;
  /** The `Cookie` header sent to the source. */
  readonly cookie?: string;
  /** Skip the origin sub-store's stored bytes (`bypass_cache`). */
  readonly fresh?: boolean;
}

export interface SourceLoaderDeps {
  readonly cache: Pick<ImageCache, 'getSource'>;
  readonly sources: Pick<Sources, 'fetch' | 'admit'>;
  readonly downloads: Pick<Slots, 'run'>;
  /** Bytes a video source may have (0 = the request's limit, as for images). */
  readonly maxVideoBytes?: number;
  /** A download finished: its scheme, size and duration (PreviewProxy's buffer and fetch series). */
  readonly onFetched?: (scheme: string, bytes: number, seconds: number) => void;
}

/**
 * Bytes no magic number names are refused whatever the origin calls them; but a body labelled
 * a video or a PDF is refused as a broken one, PreviewProxy's answer for it (it hands such a
 * body to ffmpeg or PDFium on the label's word: src/modules/proxy/service.rs).
 */
function undetected(contentType: string | undefined): ProxyError {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type.startsWith('video/')) return new ProxyError('VIDEO_DECODE_ERROR', `source labelled ${type} is not a video container ffmpeg is given`);
  if (type === 'application/pdf') return new ProxyError('PDF_RENDER_ERROR', 'source labelled application/pdf is not a PDF');
  return new ProxyError('INVALID_IMAGE', 'source type could not be detected from its first bytes');
}

export function createSourceLoader(deps: SourceLoaderDeps): SourceLoader {
  const video = deps.maxVideoBytes ?? 0;
  return async (url, maxBytes, signal, policy = {}, variant = {}) => {
    const { retry, timeoutSeconds } = policy;
    const fetchLimit = video === 0 || maxBytes === 0 ? maxBytes : Math.max(maxBytes, video);
    // Before the origin sub-store is read: a stored source is not served for a URL that
    // IMGPROXY_ALLOWED_SOURCES (or a disabled scheme) no longer admits. Image requests were
    // admitted when resolved already; /info has no other check.
    deps.sources.admit(url);
    // Each attempt holds a download slot of its own, so a pause between attempts holds none.
    const attempt = (fetchSignal: AbortSignal, conditional: ConditionalHeaders): Promise<SourceResponse> =>
      deps.downloads.run(async () => {
        const started = performance.now();
        const fetched = await deps.sources.fetch(url, { maxBytes: fetchLimit, ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}), ...conditional, ...(variant.cookie !== undefined ? { cookie: variant.cookie } : {}), signal: fetchSignal });
        deps.onFetched?.(url.slice(0, Math.max(0, url.indexOf(':'))), fetched.body.length, (performance.now() - started) / 1000);
        return fetched;
      }, fetchSignal);
    const fetchSource = retry ? withRetries(attempt, retry) : attempt;
    const cacheVariant: SourceVariant = {
      ...(variant.conditional !== undefined ? { conditional: variant.conditional } : {}),
      ...(variant.cookie !== undefined ? { credentials: variant.cookie } : {}),
      ...(variant.fresh === true ? { fresh: true } : {}),
    };
    const { response, freshUntil, outcome } = await deps.cache.getSource(url, (conditional, fetchSignal) => fetchSource(fetchSignal, conditional), signal, cacheVariant);
    // imgproxy answers an origin 304 with 304 (fetcher/request.go, NotModifiedError); one that
    // comes without our asking cannot be that answer.
    if (response.status === 304 && variant.conditional !== undefined) return response;
    if (response.status !== 200) throw new ProxyError('SOURCE_UNREACHABLE', `unexpected status ${response.status} for an unconditional fetch`);
    // The bytes may come from the origin sub-store or from a fetch another request started,
    // under another `max_src_file_size`: this request's limit still holds.
    const format = detectImageFormat(response.body);
    const limit = video > 0 && format !== null && isVideoFormat(format) ? video : maxBytes;
    if (limit > 0 && response.body.length > limit) throw new ProxyError('SOURCE_TOO_BIG', `source is ${response.body.length} bytes, over ${limit}: ${url}`);
    if (format === null) throw undetected(response.contentType);
    if (outcome === 'stale') return { ...response, staleIfError: true, ...(freshUntil === undefined ? {} : { freshUntil }) };
    return freshUntil === undefined ? response : { ...response, freshUntil };
  };
}
