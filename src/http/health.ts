/**
 * Health checks and the metrics route.
 *
 * - imgproxy's `/health` (and IMGPROXY_HEALTH_CHECK_PATH): 200 `text/plain` "imgproxy is
 *   running" with `Cache-Control: no-cache`
 *   (https://github.com/imgproxy/imgproxy/blob/master/handlers/health/handler.go). imgproxy
 *   answers 500 when libvips fails its check; sharp has no such call, and a process whose
 *   libvips is broken does not start.
 * - PreviewProxy's `/health` (in its path dialect): JSON with the cache figures,
 *   `{"status":"ok","cache_memory_items":N,"cache_disk_bytes":N,"cache_disk_bytes_as_of":<unix s>}`
 *   (https://github.com/ViGrise/previewproxy/blob/main/src/modules/health/). pixproxy's fs
 *   budget keeps its byte count current, so "as of" is now; 0 and 0 when the L2 is not on disk.
 * - pixproxy's readiness (PIXPROXY_READINESS_PATH, `/ready`): 200 while the instance takes
 *   traffic, 503 from the moment it is asked to stop (SIGTERM), while it still serves for
 *   PIXPROXY_DRAIN_SECS, so a balancer or Kubernetes that polls it sends nothing new before the
 *   listener closes (https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination).
 *   It says nothing about the L2: an instance whose object store is down still answers every
 *   image (computed), and making every instance unready at once would stop the whole service.
 * - `/metrics`: the whole scrape (any path on IMGPROXY_PROMETHEUS_BIND, as imgproxy serves it).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Metrics } from '../observability/metrics.js';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void;

export function imgproxyHealth(message: string): RouteHandler {
  const body = Buffer.from(message === '' ? ' ' : message);
  return (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache', 'Content-Length': body.length });
    res.end(body);
  };
}

/** Whether the instance takes new traffic (false once it is stopping). */
export interface Readiness {
  readonly ready: boolean;
}

export function readinessRoute(state: Readiness): RouteHandler {
  const ready = Buffer.from('ready\n');
  const draining = Buffer.from('draining\n');
  return (_req, res) => {
    const body = state.ready ? ready : draining;
    res.writeHead(state.ready ? 200 : 503, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache', 'Content-Length': body.length });
    res.end(body);
  };
}

export function previewProxyHealth(metrics: Pick<Metrics, 'cacheFigures'>): RouteHandler {
  return (_req, res) => {
    metrics.cacheFigures().then((f) => {
      const body = JSON.stringify({
        status: 'ok',
        cache_memory_items: f.memoryItems,
        cache_disk_bytes: f.diskBytes,
        cache_disk_bytes_as_of: f.diskKnown ? Math.floor(Date.now() / 1000) : 0,
      });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    }, () => {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end('Error');
    });
  };
}

export function metricsRoute(metrics: Pick<Metrics, 'text' | 'contentType'>): RouteHandler {
  return (_req, res) => {
    metrics.text().then((text) => {
      res.writeHead(200, { 'Content-Type': metrics.contentType, 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
    }, () => {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end('Error');
    });
  };
}
