/**
 * The metrics of one app instance (one per instance, so tests can run several in a process),
 * in three families:
 *
 * - imgproxy's series, with its names, types, labels, help texts and buckets
 *   (https://github.com/imgproxy/imgproxy/blob/master/monitoring/prometheus/prometheus.go and
 *   monitoring/defs/defs.go), prefixed by IMGPROXY_PROMETHEUS_NAMESPACE only, so an imgproxy
 *   Grafana dashboard works unchanged. Node's process metrics stay unprefixed, as Go's
 *   collectors do in imgproxy's default registry.
 * - PreviewProxy's own series (https://github.com/ViGrise/previewproxy/blob/main/src/modules/metrics/mod.rs)
 *   prefixed by PP_PROMETHEUS_NAMESPACE; the series it shares with imgproxy are served a
 *   second time, with PreviewProxy's label values, when its namespace differs from imgproxy's.
 * - pixproxy's cache figures (lookups, bytes and entries per layer, evictions, joins…) under
 *   their own names, in prom-client.
 *
 * The series updated per request use ./exposition.ts (no allocation per update); the
 * rest use prom-client. `text()` is the whole scrape.
 */
import sharp from 'sharp';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { ErrorCode } from '../errors.js';
import type { ErrorCategory } from './error-category.js';
import { counter, counterVec, gauge, histogram, histogramVec, renderFamilies, type CounterChild, type Family, type HistogramChild } from './exposition.js';

/** The steps of a miss that imgproxy times as spans (its StartSpan calls). */
export type SpanName = 'queue' | 'download' | 'processing' | 'streaming';

/** imgproxy's span label: the span's name lower-cased with `_` for spaces (monitoring/format/format.go). */
export const IMGPROXY_SPAN_LABEL: Readonly<Record<SpanName, string>> = {
  queue: 'queue',
  download: 'downloading_source_image',
  processing: 'processing_image',
  streaming: 'streaming_image',
};

const PP_SPAN_LABEL: Readonly<Record<SpanName, string | null>> = { queue: 'queue', download: 'downloading', processing: 'processing', streaming: null };
const PP_ERROR_TYPE: Readonly<Partial<Record<ErrorCategory, string>>> = { timeout: 'timeout', download: 'downloading', processing: 'processing' };

/** What one observation tells every sink (the Prometheus families here, OpenTelemetry metrics). */
export interface MetricsListener {
  requestStarted?(): void;
  requestFinished?(status: number, seconds: number): void;
  error?(category: ErrorCategory): void;
  span?(name: SpanName, seconds: number): void;
}

export interface CacheFigures {
  memoryItems: number;
  memoryBytes: number;
  /** Bytes of the fs L2 (results and origin sub-store); 0 when unknown (object stores). */
  diskBytes: number;
  /** Whether `diskBytes` is known (an fs L2 with its budget). */
  diskKnown: boolean;
}

/** Hits and misses of one cache layer (Metrics.lookups). */
export interface LookupCounter {
  count(hit: boolean): void;
}

export interface Metrics {
  /** prom-client's registry: pixproxy's cache series and the process metrics. */
  readonly registry: Registry;
  /** Content-Type of `text()`. */
  readonly contentType: string;
  /** The whole scrape: imgproxy's, PreviewProxy's and pixproxy's series. */
  text(): Promise<string>;

  /** An image request (imgproxy's processing route, or PreviewProxy's) has started. */
  requestStarted(): void;
  /** …and ended with `status` after `seconds`; `outcome` is the cache outcome when known. */
  requestFinished(status: number, seconds: number, outcome: string | undefined): void;
  /** A failed request: imgproxy's category (null: not counted by imgproxy) and our code. */
  error(category: ErrorCategory | null, code: ErrorCode): void;
  /** A step of a miss took `seconds`. */
  span(name: SpanName, seconds: number): void;
  /** A source was downloaded (PreviewProxy's buffer and fetch-duration series). */
  sourceFetched(scheme: string, bytes: number, seconds: number): void;
  /** An image was processed in `seconds` (PreviewProxy's transform_duration_seconds). */
  transformed(seconds: number): void;
  /** Fetch retries (PreviewProxy's fetch_retries_total). */
  readonly fetchRetries: CounterChild;
  /** imgproxy's images_in_progress: images holding a worker. */
  readonly imagesInProgress: { inc(): void; dec(): void; readonly value: number };
  /** imgproxy's requests_in_progress. */
  readonly requestsInProgress: number;
  /** imgproxy's workers_utilization: requests in progress per worker, in percent. */
  readonly workersUtilization: number;
  readonly workers: number;
  /** L1 and fs L2 figures, as /metrics shows them (for PreviewProxy's /health). */
  cacheFigures(): Promise<CacheFigures>;
  /** Another sink of the per-request observations (OpenTelemetry metrics). */
  addListener(listener: MetricsListener): void;

  /**
   * Cache lookups per layer (memory, disk/L2, origin) and outcome (hit, miss), for reading:
   * its values are those counted through lookups() (set at each read; an inc() here is lost).
   */
  readonly cacheLookups: Counter<'layer' | 'outcome'>;
  /** The lookup counter of one layer label, made once by its user: counting costs no allocation (no label object, no hash). */
  lookups(layer: string): LookupCounter;
  readonly cacheBytes: Gauge<'layer'>;
  readonly cacheEntries: Gauge<'layer'>;
  readonly cacheEvictions: Counter<'layer'>;
  readonly cacheErrors: Counter<'layer' | 'op'>;
  readonly singleflightJoins: Counter<'kind'>;
  readonly upstreamFetches: Counter<'scheme' | 'outcome'>;
  readonly transforms: Counter<'format'>;
  /** Cross-instance lease claims by outcome (src/cache/lease.ts). */
  readonly leaseClaims: Counter<'outcome'>;
  readonly queueLength: Gauge;
  /** Registers `fn` to run at each scrape, before the cache gauges are read (values kept lazily). */
  onCollect(fn: () => void): void;
  /** A pool of L2 read buffers (src/buffer-pool.ts) whose counts `cache_read_buffers_total` shows. */
  readBuffers(stats: () => { allocated: number; reused: number }): void;
}

export interface MetricsOptions {
  /** PP_PROMETHEUS_NAMESPACE. */
  ppNamespace?: string;
  /** Worker slots (imgproxy's `workers` gauge). */
  workers?: number;
  /** The source size limit, PreviewProxy's buffer_default/max_size_bytes (0 = none). */
  maxSourceBytes?: number;
}

const prefix = (ns: string): string => (ns ? `${ns}_` : '');
/** libvips' tracked memory; sharp reports it in whole MB (sharp.cache(), src/utilities.cc). */
const vipsBytes = (which: 'current' | 'high'): number => sharp.cache().memory[which] * 1024 * 1024;

export function createMetrics(namespace = '', collectDefaults = true, opts: MetricsOptions = {}): Metrics {
  const registry = new Registry();
  if (collectDefaults) collectDefaultMetrics({ register: registry });
  const r = [registry];
  const collectors: Array<() => void> = [];
  const collect = (): void => {
    for (const fn of collectors) fn();
  };
  const workers = opts.workers ?? 0;
  let requestsInProgress = 0;
  let imagesInProgress = 0;
  const utilization = (): number => (workers === 0 ? 0 : (requestsInProgress / workers) * 100);
  const listeners: MetricsListener[] = [];

  // imgproxy (monitoring/defs/defs.go). vips_allocs is not served: sharp does not expose
  // libvips' allocation count.
  const ip = prefix(namespace);
  const requestsTotal = counter(`${ip}requests_total`, 'A counter of the total number of HTTP requests imgproxy processed.');
  const statusCodes = counterVec(`${ip}status_codes_total`, 'A counter of the response status codes.', 'status');
  const errorsTotal = counterVec(`${ip}errors_total`, 'A counter of the occurred errors separated by type.', 'type');
  const requestDuration = histogram(`${ip}request_duration_seconds`, 'A histogram of the response latency.');
  const spanDuration = histogramVec(`${ip}request_span_duration_seconds`, 'A histogram of the request spans duration separated by span name.', 'span');
  const imgproxyFamilies: Family[] = [
    requestsTotal,
    statusCodes,
    errorsTotal,
    requestDuration,
    spanDuration,
    gauge(`${ip}workers`, 'A gauge of the number of running workers.', () => workers),
    gauge(`${ip}requests_in_progress`, 'A gauge of the number of requests currently being in progress.', () => requestsInProgress),
    gauge(`${ip}images_in_progress`, 'A gauge of the number of images currently being in progress.', () => imagesInProgress),
    gauge(`${ip}workers_utilization`, 'A gauge of the workers utilization in percents.', utilization),
    gauge(`${ip}vips_memory_bytes`, 'A gauge of the vips tracked memory usage in bytes.', () => vipsBytes('current')),
    gauge(`${ip}vips_max_memory_bytes`, 'A gauge of the max vips tracked memory usage in bytes.', () => vipsBytes('high')),
  ];

  // pixproxy's own per-request series.
  const outcomeDuration = histogramVec('request_outcome_duration_seconds', 'Image request latency by cache outcome (HIT-L1, HIT-L2, MISS, RAW, INFO).', 'outcome', [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
  const errorCodes = counterVec('error_codes_total', 'Failed requests by pixproxy error code.', 'code');

  // PreviewProxy's series (src/modules/metrics/mod.rs).
  const ppNs = opts.ppNamespace ?? '';
  const pp = prefix(ppNs);
  const ppBuckets = [1_024, 10_240, 102_400, 1_048_576, 5_242_880, 10_485_760, 20_971_520];
  const bufferSize = histogram(`${pp}buffer_size_bytes`, 'Download buffer sizes in bytes', ppBuckets);
  const fetchRetries = counter(`${pp}fetch_retries_total`, 'Total fetch retry attempts due to connection errors');
  const sourceFetch = histogramVec(`${pp}source_fetch_duration_seconds`, 'Upstream fetch latency by source type (http, s3, local, alias)', 'source');
  const transform = histogramVec(`${pp}transform_duration_seconds`, 'Transform pipeline latency by workflow (passthrough, resize, best, video, pdf)', 'transform');
  const resize = transform.child('resize');
  let figures: CacheFigures = { memoryItems: 0, memoryBytes: 0, diskBytes: 0, diskKnown: false };
  const ppHits = counterVec(`${pp}cache_hits_total`, 'Cache hits by layer', 'layer');
  const ppMisses = counterVec(`${pp}cache_misses_total`, 'Cache misses by layer', 'layer');
  const ppFamilies: Family[] = [
    bufferSize,
    gauge(`${pp}buffer_default_size_bytes`, 'Calibrated default buffer size in bytes', () => opts.maxSourceBytes ?? 0),
    gauge(`${pp}buffer_max_size_bytes`, 'Calibrated maximum buffer size in bytes', () => opts.maxSourceBytes ?? 0),
    fetchRetries,
    sourceFetch,
    transform,
    ppHits,
    ppMisses,
    gauge(`${pp}cache_memory_size_bytes`, 'Current memory cache size in bytes', () => figures.memoryBytes),
    gauge(`${pp}cache_disk_size_bytes`, 'Current disk cache size in bytes', () => figures.diskBytes),
  ];
  // Unprefixed, pixproxy's cache_entries{layer} (memory, l2, origin) is PreviewProxy's
  // cache_entries{layer="memory"} already.
  if (pp !== '') ppFamilies.push(gauge(`${pp}cache_entries`, 'Current cache entry count by layer', () => figures.memoryItems, { layer: 'memory' }));
  // The series PreviewProxy shares with imgproxy, with its label values, when both cannot
  // have the same name.
  let ppShared: { requests: CounterChild; status: ReturnType<typeof counterVec>; errors: ReturnType<typeof counterVec>; duration: HistogramChild; span: ReturnType<typeof histogramVec> } | null = null;
  if (ppNs !== namespace) {
    const s = {
      requests: counter(`${pp}requests_total`, 'Total number of HTTP requests processed'),
      status: counterVec(`${pp}status_codes_total`, 'Response status codes', 'status'),
      errors: counterVec(`${pp}errors_total`, 'Errors by type', 'type'),
      duration: histogram(`${pp}request_duration_seconds`, 'Full request latency in seconds'),
      span: histogramVec(`${pp}request_span_duration_seconds`, 'Request latency by span in seconds', 'span'),
    };
    ppShared = s;
    ppFamilies.push(s.requests, s.status, s.errors, s.duration, s.span,
      gauge(`${pp}workers`, 'Configured number of workers (max_concurrent_requests)', () => workers),
      gauge(`${pp}requests_in_progress`, 'Number of requests currently in progress', () => requestsInProgress),
      gauge(`${pp}images_in_progress`, 'Number of images currently being processed', () => imagesInProgress),
      gauge(`${pp}workers_utilization`, 'Percentage of workers utilization (requests_in_progress / workers * 100)', utilization));
  }

  // Children looked up once per label value and kept: no Map or string work per request
  // once a status has been seen.
  const statusChildren = new Map<number, CounterChild[]>();
  const outcomeChildren = new Map<string, HistogramChild>();
  const families = [...imgproxyFamilies, outcomeDuration, errorCodes, ...ppFamilies];

  // Counted in plain numbers per layer on the hot path (an L1 hit's inc() with a label object
  // hashed its labels and allocated on every request), handed to the Counter when it is read.
  const lookupCounts = new Map<string, { hit: number; miss: number }>();
  const cacheLookups = new Counter({
    name: 'cache_lookups_total',
    help: 'Cache lookups by layer and outcome',
    labelNames: ['layer', 'outcome'],
    registers: r,
    collect() {
      this.reset();
      for (const [layer, n] of lookupCounts) {
        if (n.hit > 0) this.inc({ layer, outcome: 'hit' }, n.hit);
        if (n.miss > 0) this.inc({ layer, outcome: 'miss' }, n.miss);
      }
    },
  });
  function lookups(layer: string): LookupCounter {
    const cell = lookupCounts.get(layer) ?? { hit: 0, miss: 0 };
    lookupCounts.set(layer, cell);
    return {
      count(hit) {
        if (hit) cell.hit++;
        else cell.miss++;
      },
    };
  }
  const readBufferSources: Array<() => { allocated: number; reused: number }> = [];
  // Read at scrape time from the pools' own plain counts.
  new Counter({
    name: 'cache_read_buffers_total',
    help: 'L2 reads into a pooled buffer (L1 off), by whether the buffer was allocated or reused',
    labelNames: ['outcome'],
    registers: r,
    collect() {
      this.reset();
      let allocated = 0;
      let reused = 0;
      for (const stats of readBufferSources) {
        const n = stats();
        allocated += n.allocated;
        reused += n.reused;
      }
      this.inc({ outcome: 'allocated' }, allocated);
      this.inc({ outcome: 'reused' }, reused);
    },
  });
  const cacheBytes = new Gauge({ name: 'cache_bytes', help: 'Bytes held per cache layer', labelNames: ['layer'], registers: r, collect });
  const cacheEntries = new Gauge({ name: 'cache_entries', help: 'Entries held per cache layer', labelNames: ['layer'], registers: r, collect });

  async function cacheFigures(): Promise<CacheFigures> {
    const [bytes, entries, lookups] = await Promise.all([cacheBytes.get(), cacheEntries.get(), cacheLookups.get()]);
    const of = (values: typeof bytes.values, layer: string): number | undefined => values.find((v) => v.labels.layer === layer)?.value;
    const l2 = of(bytes.values, 'l2');
    figures = {
      memoryItems: of(entries.values, 'memory') ?? 0,
      memoryBytes: of(bytes.values, 'memory') ?? 0,
      diskBytes: (l2 ?? 0) + (of(bytes.values, 'origin') ?? 0),
      diskKnown: l2 !== undefined,
    };
    // PreviewProxy counts hits per layer and a miss at both memory and disk for every miss.
    const layerName: Readonly<Record<string, string>> = { memory: 'memory', l2: 'disk', origin: 'origin' };
    for (const v of lookups.values) {
      const layer = layerName[String(v.labels.layer)];
      if (layer === undefined) continue;
      const target = v.labels.outcome === 'hit' ? ppHits : layer === 'origin' ? null : ppMisses;
      if (!target) continue;
      const c = target.child(layer);
      c.inc(v.value - c.value);
    }
    return figures;
  }

  return {
    registry,
    contentType: registry.contentType,
    async text() {
      const own = await registry.metrics();
      await cacheFigures();
      return renderFamilies(families) + '\n' + own;
    },
    requestStarted() {
      requestsInProgress++;
      requestsTotal.inc();
      ppShared?.requests.inc();
      for (const l of listeners) l.requestStarted?.();
    },
    requestFinished(status, seconds, outcome) {
      requestsInProgress--;
      let children = statusChildren.get(status);
      if (!children) {
        const key = String(status);
        children = [statusCodes.child(key), ...(ppShared ? [ppShared.status.child(key)] : [])];
        statusChildren.set(status, children);
      }
      for (const c of children) c.inc();
      requestDuration.observe(seconds);
      ppShared?.duration.observe(seconds);
      if (outcome !== undefined) {
        let h = outcomeChildren.get(outcome);
        if (!h) outcomeChildren.set(outcome, (h = outcomeDuration.child(outcome)));
        h.observe(seconds);
      }
      for (const l of listeners) l.requestFinished?.(status, seconds);
    },
    error(category, code) {
      errorCodes.child(code.toLowerCase()).inc();
      if (category === null) return;
      errorsTotal.child(category).inc();
      const ppType = PP_ERROR_TYPE[category];
      if (ppShared && ppType) ppShared.errors.child(ppType).inc();
      for (const l of listeners) l.error?.(category);
    },
    span(name, seconds) {
      spanDuration.child(IMGPROXY_SPAN_LABEL[name]).observe(seconds);
      const ppLabel = PP_SPAN_LABEL[name];
      if (ppShared && ppLabel) ppShared.span.child(ppLabel).observe(seconds);
      for (const l of listeners) l.span?.(name, seconds);
    },
    sourceFetched(scheme, bytes, seconds) {
      bufferSize.observe(bytes);
      sourceFetch.child(scheme === 'https' ? 'http' : scheme).observe(seconds);
    },
    transformed(seconds) {
      resize.observe(seconds);
    },
    fetchRetries,
    imagesInProgress: {
      inc: () => void imagesInProgress++,
      dec: () => void imagesInProgress--,
      get value() {
        return imagesInProgress;
      },
    },
    get requestsInProgress() {
      return requestsInProgress;
    },
    get workersUtilization() {
      return utilization();
    },
    workers,
    cacheFigures,
    addListener(listener) {
      listeners.push(listener);
    },
    cacheLookups,
    lookups,
    cacheBytes,
    cacheEntries,
    cacheEvictions: new Counter({ name: 'cache_evictions_total', help: 'Entries evicted per layer', labelNames: ['layer'], registers: r }),
    cacheErrors: new Counter({ name: 'cache_errors_total', help: 'Cache errors per layer and operation', labelNames: ['layer', 'op'], registers: r }),
    singleflightJoins: new Counter({ name: 'singleflight_joins_total', help: 'Requests that joined an in-flight computation', labelNames: ['kind'], registers: r }),
    upstreamFetches: new Counter({ name: 'upstream_fetches_total', help: 'Source fetches by scheme and outcome', labelNames: ['scheme', 'outcome'], registers: r }),
    transforms: new Counter({ name: 'transforms_total', help: 'Images processed by output format', labelNames: ['format'], registers: r }),
    leaseClaims: new Counter({ name: 'cache_lease_claims_total', help: 'Cross-instance lease claims by outcome (lead, takeover, result, timeout, error, unsupported)', labelNames: ['outcome'], registers: r }),
    queueLength: new Gauge({ name: 'requests_in_queue', help: 'Requests waiting for a worker', registers: r }),
    onCollect(fn) {
      collectors.push(fn);
    },
    readBuffers(stats) {
      readBufferSources.push(stats);
    },
  };
}
