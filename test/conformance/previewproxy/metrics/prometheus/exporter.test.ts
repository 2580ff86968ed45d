/**
 * src/modules/metrics/prometheus/exporter.rs (https://github.com/ViGrise/previewproxy): the
 * Prometheus exposition — text/plain, `requests_total` counting proxied requests, names under
 * PP_PROMETHEUS_NAMESPACE — through a real server. PreviewProxy serves it on the listener of
 * PP_PROMETHEUS_BIND; with that unset pixproxy serves `/metrics` on the main listener, which
 * is where these cases read it (the exposition, not the listener, is what upstream tests).
 */
import { describe, expect } from 'vitest';
import { gap, ported } from '../../../harness.js';
import { tinyPng } from '../../fixtures.js';
import { enc, expectOk, get, ppServers, useOrigin } from '../../pp.js';

describe('src/modules/metrics/prometheus/exporter.rs', () => {
  const o = useOrigin(async () => ({ '/a.png': { body: await tinyPng(), contentType: 'image/png' } }));
  const servers = ppServers();

  ported('test_metrics_endpoint_returns_200_with_text_plain', async () => {
    const r = await get(await servers.get(), '/metrics');
    expectOk(r);
    expect(r.headers.get('content-type')).toContain('text/plain');
  });

  gap('issue 12 §8: requests_total is labelled by status (requests_total{status="200"}), PreviewProxy exposes an unlabelled requests_total of proxied requests ("requests_total 2")', 'test_metrics_endpoint_contains_requests_total', async () => {
    const px = await servers.get({ PP_CACHE_MEMORY_TTL_SECS: '3598' });
    for (const w of [1, 2]) expectOk(await get(px, `/proxy?url=${enc(`${o.url}/a.png`)}&w=${w}`));
    expect((await get(px, '/metrics')).body.toString()).toMatch(/^requests_total 2$/m);
  });

  ported('test_metrics_namespace_prefix', async () => {
    const px = await servers.get({ PP_PROMETHEUS_NAMESPACE: 'myapp' });
    expectOk(await get(px, `/proxy?url=${enc(`${o.url}/a.png`)}`));
    expect((await get(px, '/metrics')).body.toString()).toContain('myapp_requests_total');
  });
});
