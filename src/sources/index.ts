/**
 * The source dispatcher: one `fetch(url)` over every scheme. http/https and local:// live
 * here; the storage schemes (s3, gs, abs, swift) come in through `extra`.
 *
 * IMGPROXY_ALLOWED_SOURCES is checked here for every scheme before any I/O (and again by the
 * http source on each redirect hop), and PIXPROXY_MAX_SRC_BYTES_CEILING is applied here to
 * every fetch's size limit, so no scheme reads an unbounded body even when the asked limit
 * is 0 (IMGPROXY_MAX_SRC_FILE_SIZE's default, imgproxy's "no limit"). A scheme that is unknown or not enabled answers 404
 * "Source is unreachable" as imgproxy does, and the log names the variable that enables it.
 */
import type { Config } from '../config/index.js';
import { ProxyError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import { isSourceAllowed } from '../security/allowed-sources.js';
import { createHttpSource, type HttpSourceOptions } from './http.js';
import { createLocalSource } from './local.js';
import { responseAsStream } from './stream.js';
import type { FetchOptions, Source, SourceResponse, SourceStream } from './types.js';

export type { FetchOptions, Source, SourceResponse, SourceStream } from './types.js';
export { detectImageFormat } from './detect.js';

export interface Sources {
  fetch(url: string, opts: FetchOptions): Promise<SourceResponse>;
  /**
   * The body as a stream (raw pass-through), from the source's own `stream()` when it has
   * one (http, local), else from a buffered `fetch()` as a one-chunk stream (s3, gs, abs, swift).
   */
  stream(url: string, opts: FetchOptions): Promise<SourceStream>;
  /**
   * Throws unless the URL's scheme is enabled and IMGPROXY_ALLOWED_SOURCES admits it. The
   * image flow calls it before the cache lookup, so an entry cached under an older
   * configuration is never served for a source that is no longer allowed.
   */
  admit(url: string): Source;
  /** Lower-case scheme of a source URL without `:`, or null when it has none. */
  schemeOf(url: string): string | null;
  /** Closes pooled connections (http keep-alive). */
  close(): Promise<void>;
}

/** The variable that turns each optional scheme on, for the log line of a disabled one. */
const ENABLED_BY: Readonly<Record<string, string>> = {
  local: 'IMGPROXY_LOCAL_FILESYSTEM_ROOT',
  s3: 'IMGPROXY_USE_S3',
  gs: 'IMGPROXY_USE_GCS',
  abs: 'IMGPROXY_USE_ABS',
  swift: 'IMGPROXY_USE_SWIFT',
};

export function schemeOf(url: string): string | null {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url);
  return m?.[1] ? m[1].toLowerCase() : null;
}

/**
 * The byte limit a fetch runs with: the asked one (IMGPROXY_MAX_SRC_FILE_SIZE or the
 * `max_src_file_size` option; 0 = none) under the ceiling (0 = none).
 */
export function sourceByteLimit(asked: number, ceiling: number): number {
  if (ceiling === 0) return asked;
  return asked === 0 ? ceiling : Math.min(asked, ceiling);
}

export interface CreateSourcesOptions {
  metrics?: Metrics;
  /** Passed to the http source (tests inject a resolver). */
  http?: HttpSourceOptions;
}

export function createSources(config: Config, extra: Source[] = [], logger?: Logger, opts: CreateSourcesOptions = {}): Sources {
  const log = logger?.child({ module: 'sources' });
  const http = createHttpSource(config, opts.http);
  const bySchemes = new Map<string, Source>();
  for (const s of http.schemes) bySchemes.set(s, http);
  if (config.download.localFilesystemRoot !== '') bySchemes.set('local', createLocalSource(config));
  for (const source of extra) for (const s of source.schemes) bySchemes.set(s.toLowerCase(), source);

  const ceiling = config.security.maxSrcBytesCeiling;
  if (ceiling > 0 && config.security.maxSrcFileSize > ceiling) {
    log?.warn(
      { maxSrcFileSize: config.security.maxSrcFileSize, ceiling },
      `IMGPROXY_MAX_SRC_FILE_SIZE is over PIXPROXY_MAX_SRC_BYTES_CEILING: sources are limited to ${ceiling} bytes; raise the ceiling to allow more`,
    );
  }
  const limited = (fo: FetchOptions): FetchOptions => ({ ...fo, maxBytes: sourceByteLimit(fo.maxBytes, ceiling) });

  function admit(url: string): Source {
    const scheme = schemeOf(url);
    const source = scheme === null ? undefined : bySchemes.get(scheme);
    if (!source) {
      const enabler = scheme === null ? undefined : ENABLED_BY[scheme];
      const why = scheme === null ? 'source URL has no scheme' : enabler ? `${scheme}:// needs ${enabler}` : `unknown source scheme ${scheme}://`;
      log?.warn({ url, scheme }, why);
      throw new ProxyError('SOURCE_SCHEME_DISABLED', `${why}: ${url}`);
    }
    if (!isSourceAllowed(url, config)) throw new ProxyError('INVALID_SOURCE_URL', `source not allowed by IMGPROXY_ALLOWED_SOURCES: ${url}`);
    return source;
  }

  /** Every scheme's fetches are counted here, once: upstream_fetches_total{scheme,outcome}. */
  async function counted<T extends { status: number }>(url: string, run: () => Promise<T>): Promise<T> {
    const scheme = schemeOf(url) ?? '';
    try {
      const res = await run();
      opts.metrics?.upstreamFetches.inc({ scheme, outcome: res.status === 304 ? 'not_modified' : 'ok' });
      return res;
    } catch (err) {
      opts.metrics?.upstreamFetches.inc({ scheme, outcome: err instanceof ProxyError ? err.code.toLowerCase() : 'error' });
      throw err;
    }
  }

  async function fetch(url: string, fo: FetchOptions): Promise<SourceResponse> {
    const source = admit(url);
    return counted(url, () => source.fetch(url, limited(fo)));
  }

  async function stream(url: string, fo: FetchOptions): Promise<SourceStream> {
    const source = admit(url);
    const lfo = limited(fo);
    return counted(url, async () => (source.stream ? source.stream(url, lfo) : responseAsStream(await source.fetch(url, lfo))));
  }


  return { fetch, stream, admit, schemeOf, close: () => http.close() };
}
