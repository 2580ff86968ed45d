/**
 * src/modules/proxy/sources/http.rs (https://github.com/ViGrise/previewproxy): `HttpFetcher`'s
 * `fetch` (the buffered path: a request with a transform) and `fetch_streaming` (no
 * transform), through a real server and a loopback origin.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { inspect, ported } from '../../../harness.js';
import { solidPng, tinyPng } from '../../fixtures.js';
import { enc, expectOk, expectPpError, get, ppServers, startHandlerOrigin, startOrigin, type HandlerOrigin, type Origin } from '../../pp.js';

describe('src/modules/proxy/sources/http.rs', () => {
  let o: Origin;
  let bare: HandlerOrigin;
  const servers = ppServers();
  beforeAll(async () => {
    o = await startOrigin({
      '/ok.png': { body: await tinyPng(), contentType: 'image/png' },
      '/big.png': { body: await solidPng(30, 30, { r: 7, g: 8, b: 9 }), contentType: 'image/png' },
    });
    const png = await tinyPng();
    // No Content-Type header at all.
    bare = await startHandlerOrigin((_req, res) => {
      res.writeHead(200, { 'Content-Length': png.length });
      res.end(png);
    });
  });
  afterAll(async () => {
    await o.close();
    await bare.close();
  });
  const ask = async (url: string, query = '', env: Record<string, string> = {}) => get(await servers.get(env), `/proxy?url=${enc(url)}${query}`);

  ported('test_fetch_success', async () => {
    const r = await ask(`${o.url}/ok.png`, '&w=1');
    expectOk(r);
    expect((await inspect(r.body)).format).toBe('png');
  });

  ported('test_fetch_404', async () => {
    expectPpError(await ask(`${o.url}/missing.png`, '&w=1'), 404, 'upstream_not_found');
  });

  ported('test_fetch_too_large', async () => {
    expectPpError(await ask(`${o.url}/big.png`, '&w=1', { PP_MAX_SOURCE_BYTES: '50' }), 413, 'source_too_large');
  });

  ported('test_no_content_type_header', async () => {
    const r = await ask(`${bare.url}/x`, '&w=1');
    expectOk(r);
    expect((await inspect(r.body)).width).toBe(1);
  });

  ported('test_fetch_streaming_returns_200_response', async () => {
    const r = await ask(`${o.url}/ok.png`);
    expectOk(r);
    expect(r.headers.get('content-type')).toContain('image/png');
  });

  ported('test_fetch_streaming_404_is_error', async () => {
    expectPpError(await ask(`${o.url}/missing.png`), 404, 'upstream_not_found');
  });
});
