/**
 * Prometheus metrics (prom-client). One registry per app instance so tests can run several
 * apps in one process. Modules register their own metrics through `metrics.registry`.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  readonly requests: Counter<'status'>;
  readonly errors: Counter<'type'>;
  readonly requestDuration: Histogram<'outcome'>;
  /** Cache lookups per layer (memory, disk/L2, origin) and outcome (hit, miss). */
  readonly cacheLookups: Counter<'layer' | 'outcome'>;
  readonly cacheBytes: Gauge<'layer'>;
  readonly cacheEntries: Gauge<'layer'>;
  readonly cacheEvictions: Counter<'layer'>;
  readonly cacheErrors: Counter<'layer' | 'op'>;
  readonly singleflightJoins: Counter<'kind'>;
  readonly upstreamFetches: Counter<'scheme' | 'outcome'>;
  readonly transforms: Counter<'format'>;
  readonly imagesInProgress: Gauge;
  readonly queueLength: Gauge;
  /** Registers `fn` to run at each scrape, before the cache gauges are read (values kept lazily). */
  onCollect(fn: () => void): void;
}

export function createMetrics(namespace = '', collectDefaults = true): Metrics {
  const registry = new Registry();
  const p = namespace ? `${namespace}_` : '';
  if (collectDefaults) collectDefaultMetrics({ register: registry, prefix: p });
  const r = [registry];
  const collectors: Array<() => void> = [];
  const collect = (): void => {
    for (const fn of collectors) fn();
  };
  return {
    registry,
    requests: new Counter({ name: `${p}requests_total`, help: 'HTTP requests by status', labelNames: ['status'], registers: r }),
    errors: new Counter({ name: `${p}errors_total`, help: 'Errors by type', labelNames: ['type'], registers: r }),
    requestDuration: new Histogram({
      name: `${p}request_duration_seconds`,
      help: 'Request duration by outcome (HIT-L1, HIT-L2, MISS, error)',
      labelNames: ['outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: r,
    }),
    cacheLookups: new Counter({ name: `${p}cache_lookups_total`, help: 'Cache lookups by layer and outcome', labelNames: ['layer', 'outcome'], registers: r }),
    cacheBytes: new Gauge({ name: `${p}cache_bytes`, help: 'Bytes held per cache layer', labelNames: ['layer'], registers: r, collect }),
    cacheEntries: new Gauge({ name: `${p}cache_entries`, help: 'Entries held per cache layer', labelNames: ['layer'], registers: r, collect }),
    cacheEvictions: new Counter({ name: `${p}cache_evictions_total`, help: 'Entries evicted per layer', labelNames: ['layer'], registers: r }),
    cacheErrors: new Counter({ name: `${p}cache_errors_total`, help: 'Cache errors per layer and operation', labelNames: ['layer', 'op'], registers: r }),
    singleflightJoins: new Counter({ name: `${p}singleflight_joins_total`, help: 'Requests that joined an in-flight computation', labelNames: ['kind'], registers: r }),
    upstreamFetches: new Counter({ name: `${p}upstream_fetches_total`, help: 'Source fetches by scheme and outcome', labelNames: ['scheme', 'outcome'], registers: r }),
    transforms: new Counter({ name: `${p}transforms_total`, help: 'Images processed by output format', labelNames: ['format'], registers: r }),
    imagesInProgress: new Gauge({ name: `${p}images_in_progress`, help: 'Images being fetched or processed', registers: r }),
    queueLength: new Gauge({ name: `${p}requests_in_queue`, help: 'Requests waiting for a worker', registers: r }),
    onCollect(fn) {
      collectors.push(fn);
    },
  };
}
