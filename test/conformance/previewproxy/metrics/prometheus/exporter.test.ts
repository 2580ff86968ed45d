/**
 * src/modules/metrics/prometheus/exporter.rs (https://github.com/ViGrise/previewproxy): the
 * Prometheus exposition — text/plain, `requests_total` counting proxied requests, names under
 * PP_PROMETHEUS_NAMESPACE — through a real server. PreviewProxy serves it on the listener of
 * PP_PROMETHEUS_BIND; with that unset pixproxy serves `/metrics` on the main listener, which
 * is where these cases read it (the exposition, not the listener, is what upstream tests).
 */
import { describe, expect } from 'vitest';
import { differs, ported } from '../../../harness.js';
import { tinyPng } from '../../fixtures.js';
import { enc, expectOk, get, ppServers, useOrigin } from '../../pp.js';

describe('src/modules/metrics/prometheus/exporter.rs', () => {
  const o = useOrigin(async () => ({ '/a.png': { body: await tinyPng(), contentType: 'image/png' } }));
  const servers = ppServers();

  // PreviewProxy serves /metrics on its only port; pixproxy only where the operator opts in
  // (imgproxy's rule: IMGPROXY_PROMETHEUS_BIND, else PIXPROXY_METRICS_ON_MAIN_PORT).
  const ON_MAIN = { PIXPROXY_METRICS_ON_MAIN_PORT: 'true' };

  differs('pixproxy serves /metrics on the main port only when PIXPROXY_METRICS_ON_MAIN_PORT=true (imgproxy: only on IMGPROXY_PROMETHEUS_BIND); PreviewProxy always', 'test_metrics_endpoint_returns_200_with_text_plain', async () => {
    expect((await get(await servers.get(), '/metrics')).status).not.toBe(200);
    const r = await get(await servers.get(ON_MAIN), '/metrics');
    expectOk(r);
    expect(r.headers.get('content-type')).toContain('text/plain');
  });

  ported('test_metrics_endpoint_contains_requests_total', async () => {
    const px = await servers.get({ PP_CACHE_MEMORY_TTL_SECS: '3598', ...ON_MAIN });
    for (const w of [1, 2]) expectOk(await get(px, `/proxy?url=${enc(`${o.url}/a.png`)}&w=${w}`));
    expect((await get(px, '/metrics')).body.toString()).toMatch(/^requests_total 2$/m);
  });

  ported('test_metrics_namespace_prefix', async () => {
    const px = await servers.get({ PP_PROMETHEUS_NAMESPACE: 'myapp', ...ON_MAIN });
    expectOk(await get(px, `/proxy?url=${enc(`${o.url}/a.png`)}`));
    expect((await get(px, '/metrics')).body.toString()).toContain('myapp_requests_total');
  });
});
