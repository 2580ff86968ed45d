/**
 * /metrics as a Prometheus scraper sees it, against the series lists extracted from imgproxy's
 * and PreviewProxy's sources (test/fixtures/observability/*-prometheus-series.json, each with
 * the upstream commit it came from): names, types, help texts, label names and buckets, so a
 * dashboard built for either works unchanged; the namespaces prefix only their own family;
 * the values move with the requests; metrics stay off the main port unless asked.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sign } from '../../../src/dialects/imgproxy/signature.js';
import { startApp, type RunningApp } from '../../helpers/app.js';
import { scrapeFamilies, valueOf, type ScrapedFamily } from '../../helpers/exposition.js';
import { makePhoto } from '../../helpers/images.js';
import { startOrigin, type Origin } from '../../helpers/origin.js';
import { freePort } from '../../helpers/ports.js';

interface SeriesList {
  commit: string;
  series: Array<{ name: string; type: string; labels: string[]; help: string; buckets?: number[] }>;
}

const load = (file: string): SeriesList => JSON.parse(readFileSync(new URL(`../../fixtures/observability/${file}`, import.meta.url), 'utf8')) as SeriesList;
const IMGPROXY = load('imgproxy-prometheus-series.json');
const PREVIEWPROXY = load('previewproxy-prometheus-series.json');
/** imgproxy series pixproxy cannot serve: sharp does not expose libvips' allocation count. */
const NOT_SERVED = new Set(['vips_allocs']);

const KEY = Buffer.from('observability-key');
const SALT = Buffer.from('observability-salt');
const ENV = { IMGPROXY_KEY: KEY.toString('hex'), IMGPROXY_SALT: SALT.toString('hex'), IMGPROXY_WORKERS: '3' };
const signed = (path: string): string => `/${sign(path, KEY, SALT, 32)}${path}`;

let origin: Origin;

beforeAll(async () => {
  origin = await startOrigin({ '/a.jpg': { body: await makePhoto(200, 150), contentType: 'image/jpeg' } });
});
afterAll(async () => {
  await origin.close();
});

/** Starts an app with its metrics on their own listener; returns it and the metrics URL. */
async function withMetricsPort(env: Record<string, string>): Promise<{ px: RunningApp; metricsUrl: string }> {
  const port = await freePort();
  const px = await startApp({ ...ENV, IMGPROXY_PROMETHEUS_BIND: `127.0.0.1:${port}`, ...env });
  return { px, metricsUrl: `http://127.0.0.1:${port}/metrics` };
}

/** A miss, a hit, a bad URL (404 path_parsing) and a health check (not an image request). */
async function traffic(px: RunningApp): Promise<void> {
  const path = signed(`/rs:fit:50:50/plain/${origin.url}/a.jpg`);
  expect((await fetch(`${px.url}${path}`)).status).toBe(200);
  expect((await fetch(`${px.url}${path}`)).headers.get('x-cache')).toBe('HIT-L1');
  expect((await fetch(`${px.url}${signed(`/no_such_option:1/plain/${origin.url}/a.jpg`)}`)).status).toBe(404);
  expect((await fetch(`${px.url}/health`)).status).toBe(200);
  await px.app.ctx.cache.flush();
}

function expectSeries(families: Map<string, ScrapedFamily>, list: SeriesList, prefix: string, skip: ReadonlySet<string> = new Set()): void {
  for (const s of list.series) {
    if (skip.has(s.name)) continue;
    const f = families.get(prefix + s.name);
    expect(f, `${prefix}${s.name} (upstream ${list.commit.slice(0, 12)})`).toBeDefined();
    if (!f) continue;
    expect(f.type, s.name).toBe(s.type);
    expect(f.help, s.name).toBe(s.help);
    for (const sample of f.samples) {
      const names = Object.keys(sample.labels).filter((l) => l !== 'le');
      expect(names, `labels of ${sample.name}`).toEqual(s.labels);
    }
    if (s.buckets) {
      const les = [...new Set(f.samples.filter((x) => x.name.endsWith('_bucket')).map((x) => x.labels.le))];
      if (les.length > 0) expect(les, `buckets of ${s.name}`).toEqual([...s.buckets.map(String), '+Inf']);
    }
  }
}

describe('imgproxy series (monitoring/prometheus/prometheus.go)', () => {
  it('every series, with its type, help, labels and buckets, under IMGPROXY_PROMETHEUS_NAMESPACE; pixproxy\'s and PreviewProxy\'s are not prefixed by it', async () => {
    const { px, metricsUrl } = await withMetricsPort({ IMGPROXY_PROMETHEUS_NAMESPACE: 'imgproxy' });
    try {
      await traffic(px);
      const m = await scrapeFamilies(metricsUrl);
      expectSeries(m, IMGPROXY, 'imgproxy_', NOT_SERVED);
      expect(m.has('imgproxy_vips_allocs')).toBe(false);
      // Labelled series have samples with their label, so a dashboard's queries find them.
      for (const name of ['imgproxy_status_codes_total', 'imgproxy_errors_total', 'imgproxy_request_span_duration_seconds']) {
        expect(m.get(name)?.samples.length, name).toBeGreaterThan(0);
      }
      expect(m.has('cache_lookups_total')).toBe(true);
      expect(m.has('imgproxy_cache_lookups_total')).toBe(false);
      expect(m.has('buffer_size_bytes')).toBe(true);
    } finally {
      await px.stop();
    }
  });

  it('values move with the requests: image requests only, statuses, error types, spans, workers', async () => {
    const { px, metricsUrl } = await withMetricsPort({});
    try {
      await traffic(px);
      const m = await scrapeFamilies(metricsUrl);
      expect(valueOf(m, 'requests_total')).toBe(3);
      expect(valueOf(m, 'status_codes_total', { status: '200' })).toBe(2);
      expect(valueOf(m, 'status_codes_total', { status: '404' })).toBe(1);
      expect(valueOf(m, 'errors_total', { type: 'path_parsing' })).toBe(1);
      expect(valueOf(m, 'request_duration_seconds_count')).toBe(3);
      for (const span of ['queue', 'downloading_source_image', 'processing_image']) {
        expect(valueOf(m, 'request_span_duration_seconds_count', { span }), span).toBe(1);
      }
      expect(valueOf(m, 'workers')).toBe(3);
      expect(valueOf(m, 'requests_in_progress')).toBe(0);
      expect(valueOf(m, 'images_in_progress')).toBe(0);
      expect(valueOf(m, 'request_outcome_duration_seconds_count', { outcome: 'HIT-L1' })).toBe(1);
      expect(valueOf(m, 'request_outcome_duration_seconds_count', { outcome: 'MISS' })).toBe(1);
    } finally {
      await px.stop();
    }
  });

  it('a raw request is timed as imgproxy\'s streaming_image span', async () => {
    const { px, metricsUrl } = await withMetricsPort({});
    try {
      const res = await fetch(`${px.url}${signed(`/raw:1/plain/${origin.url}/a.jpg`)}`);
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      const m = await scrapeFamilies(metricsUrl);
      expect(valueOf(m, 'request_span_duration_seconds_count', { span: 'streaming_image' })).toBe(1);
      expect(valueOf(m, 'request_outcome_duration_seconds_count', { outcome: 'RAW' })).toBe(1);
    } finally {
      await px.stop();
    }
  });

  it('/metrics is not on the main port unless PIXPROXY_METRICS_ON_MAIN_PORT is on', async () => {
    const { px, metricsUrl } = await withMetricsPort({});
    const open = await startApp({ ...ENV, PIXPROXY_METRICS_ON_MAIN_PORT: 'true' });
    try {
      const main = await fetch(`${px.url}/metrics`);
      expect(main.status).not.toBe(200);
      expect(await main.text()).not.toContain('requests_total');
      // imgproxy serves the metrics on any path of its metrics listener.
      expect((await fetch(metricsUrl.replace('/metrics', '/anything'))).status).toBe(200);
      const res = await fetch(`${open.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(await res.text()).toContain('# TYPE requests_total counter');
    } finally {
      await px.stop();
      await open.stop();
    }
  });
});

describe('PreviewProxy series (src/modules/metrics/mod.rs)', () => {
  it('every series under PP_PROMETHEUS_NAMESPACE, with PreviewProxy\'s labels, help and buckets, and its label values', async () => {
    const { px, metricsUrl } = await withMetricsPort({ PP_PROMETHEUS_NAMESPACE: 'pp' });
    try {
      await traffic(px);
      const m = await scrapeFamilies(metricsUrl);
      expectSeries(m, PREVIEWPROXY, 'pp_');
      expect(valueOf(m, 'pp_requests_total')).toBe(3);
      expect(valueOf(m, 'pp_request_span_duration_seconds_count', { span: 'downloading' })).toBe(1);
      expect(valueOf(m, 'pp_request_span_duration_seconds_count', { span: 'processing' })).toBe(1);
      expect(valueOf(m, 'pp_cache_hits_total', { layer: 'memory' })).toBe(1);
      expect(valueOf(m, 'pp_cache_misses_total', { layer: 'memory' })).toBe(1);
      expect(valueOf(m, 'pp_cache_misses_total', { layer: 'disk' })).toBe(1);
      expect(valueOf(m, 'pp_source_fetch_duration_seconds_count', { source: 'http' })).toBe(1);
      expect(valueOf(m, 'pp_buffer_size_bytes_count')).toBe(1);
      expect(valueOf(m, 'pp_cache_entries', { layer: 'memory' })).toBe(1);
      expect(valueOf(m, 'pp_cache_memory_size_bytes')).toBeGreaterThan(0);
      // imgproxy's family keeps its own names and label values beside it.
      expect(valueOf(m, 'request_span_duration_seconds_count', { span: 'downloading_source_image' })).toBe(1);
    } finally {
      await px.stop();
    }
  });

  it('one namespace for both: every name once, PreviewProxy\'s own series beside imgproxy\'s', async () => {
    const { px, metricsUrl } = await withMetricsPort({});
    try {
      await traffic(px);
      // parseExposition throws on a name typed twice.
      const m = await scrapeFamilies(metricsUrl);
      for (const s of PREVIEWPROXY.series) expect(m.has(s.name), s.name).toBe(true);
      expect(valueOf(m, 'cache_entries', { layer: 'memory' })).toBe(1);
    } finally {
      await px.stop();
    }
  });
});
