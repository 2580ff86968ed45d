/**
 * The /info flow: the same computation as an image miss (single-flight, queue, source
 * without a worker, IMGPROXY_TIMEOUT, stop when nobody waits), whose step reads the facts
 * instead of transforming. Results are not cached; the source bytes go through the origin
 * sub-store like any other fetch.
 */
import { createSingleFlight } from '../cache/singleflight.js';
import type { Metrics } from '../observability/metrics.js';
import { imageInfo, type InfoOptions, type InfoRun } from '../processing/info.js';
import { createFlow, type FlowDeps } from './flow.js';

export interface InfoQuery {
  readonly source: string;
  readonly options: InfoOptions;
  /** The client's cookies forwarded to the source (IMGPROXY_COOKIE_PASSTHROUGH). */
  readonly cookie?: string;
}

export interface InfoService {
  /** `signal`: the client's, as for ImageService.getImage. */
  getInfo(query: InfoQuery, signal?: AbortSignal): Promise<Record<string, unknown>>;
}

export interface InfoServiceDeps extends Omit<FlowDeps, 'flight'> {
  readonly metrics?: Pick<Metrics, 'singleflightJoins'>;
  /** How PDF and video sources are read (the decoders' settings, videos on or off). */
  readonly previews?: Omit<InfoRun, 'deadline' | 'signal'>;
}

export function createInfoService(deps: InfoServiceDeps): InfoService {
  const flight = createSingleFlight({ onJoin: () => deps.metrics?.singleflightJoins.inc({ kind: 'info' }) });
  const flow = createFlow({ ...deps, flight });
  return {
    async getInfo(query, signal) {
      // Options are built in one fixed order from the defaults, so equal queries serialise alike.
      const key = JSON.stringify([query.source, query.options, query.cookie ?? null]);
      const { value } = await flow.run(
        key,
        { url: query.source, maxBytes: query.options.maxSrcFileSize, ...(query.cookie !== undefined ? { variant: { cookie: query.cookie } } : {}) },
        ({ source }, work) => imageInfo(source.body, source.body.length, query.options, { ...deps.previews, signal: work.signal, deadline: work.deadline() }),
        signal,
      );
      return value;
    },
  };
}
