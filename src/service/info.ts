/**
 * The /info flow: the same computation as an image miss (single-flight, queue, source
 * without a worker, IMGPROXY_TIMEOUT, stop when nobody waits), whose step reads the facts
 * instead of transforming. Answers are cached like results (imgproxy Pro's docs list "No
 * cache for info requests" among its cache's limitations, https://docs.imgproxy.net/cache/internal):
 * L1 and L2 under keys of their own, PIXPROXY_CACHE_INFO_TTL_SECS, purged with their source
 * or their `cache_tags`; `bypass_cache` recomputes and replaces. The source bytes go through
 * the origin sub-store like any other fetch; with the client's cookies (IMGPROXY_COOKIE_PASSTHROUGH)
 * they do not, and the answer is cached for that cookie set only.
 */
import type { CacheLayerHit, InfoCache } from '../cache/index.js';
import { withCookies } from '../cache/key.js';
import { createSingleFlight } from '../cache/singleflight.js';
import type { Metrics } from '../observability/metrics.js';
import { imageInfo, type InfoOptions, type InfoRun } from '../processing/info.js';
import type { Sources } from '../sources/index.js';
import { createFlow, type FlowDeps } from './flow.js';

export interface InfoQuery {
  readonly source: string;
  readonly options: InfoOptions;
  /** The client's cookies forwarded to the source (IMGPROXY_COOKIE_PASSTHROUGH). */
  readonly cookie?: string;
}

export interface InfoAnswer {
  /** The JSON answer, as sent. */
  body: Buffer;
  outcome: CacheLayerHit | 'MISS' | 'BYPASS';
}

export interface InfoService {
  /** `signal`: the client's, as for ImageService.getImage. */
  getInfo(query: InfoQuery, signal?: AbortSignal): Promise<InfoAnswer>;
}

export interface InfoServiceDeps extends Omit<FlowDeps, 'flight'> {
  readonly metrics?: Pick<Metrics, 'singleflightJoins'>;
  /** The /info part of the cache (none: never cached). */
  readonly cache?: InfoCache;
  /** Checked before a cached answer is served, as a fetch would be (IMGPROXY_ALLOWED_SOURCES). */
  readonly sources?: Pick<Sources, 'admit'>;
  /** How PDF and video sources are read (the decoders' settings, videos on or off). */
  readonly previews?: Omit<InfoRun, 'deadline' | 'signal'>;
}

export function createInfoService(deps: InfoServiceDeps): InfoService {
  const flight = createSingleFlight({ onJoin: () => deps.metrics?.singleflightJoins.inc({ kind: 'info' }) });
  const flow = createFlow({ ...deps, flight });
  const cache = deps.cache?.enabled ? deps.cache : undefined;
  return {
    async getInfo(query, signal) {
      const { source, options, cookie } = query;
      // Options are built in one fixed order from the defaults, so equal queries serialise alike;
      // an answer fetched with the client's cookies is that cookie set's (cache/key.ts withCookies).
      const shared = cache ? cache.key(source, options as unknown as Record<string, unknown>) : JSON.stringify([source, options]);
      const key = cookie === undefined ? shared : withCookies(shared, cookie);
      if (cache && !options.bypassCache) {
        deps.sources?.admit(source);
        const hit = await cache.lookup(key);
        if (hit) return { body: hit.info.data, outcome: hit.layer };
      }
      const bornAt = Date.now();
      const variant = { ...(cookie !== undefined ? { cookie } : {}), ...(options.bypassCache ? { fresh: true } : {}) };
      const { value } = await flow.run(
        options.bypassCache ? `bypass\0${key}` : key,
        { url: source, maxBytes: options.maxSrcFileSize, variant },
        async ({ source: bytes }, work) => {
          const body = Buffer.from(JSON.stringify(await imageInfo(bytes.body, bytes.body.length, options, { ...deps.previews, signal: work.signal, deadline: work.deadline() })));
          cache?.store(key, { data: body, createdAt: Date.now(), bornAt, ...(options.cacheTags.length > 0 ? { tags: options.cacheTags } : {}) });
          return body;
        },
        signal,
      );
      return { body: value, outcome: options.bypassCache ? 'BYPASS' : 'MISS' };
    },
  };
}
