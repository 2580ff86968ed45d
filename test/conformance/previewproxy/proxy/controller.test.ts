/**
 * src/modules/proxy/controller.rs (https://github.com/ViGrise/previewproxy): the two entry
 * points, the concurrency permit (503 + Retry-After), `enc/` sources, the fallback image and
 * relative sources under PP_DEFAULT_SOURCE_URL, through a real server. Upstream builds an
 * `AppState` per case; here each configuration is a server of the pool. Wiremock's bodies of
 * ten 0x01 bytes labelled image/png become a real 1×1 PNG: these cases are about routing, and
 * what happens to non-image bytes is `service.rs`'s `test_streaming_falls_back_for_non_image`.
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { ported } from '../../harness.js';
import { tinyPng } from '../fixtures.js';
import { enc, expectOk, get, hex, KEY_32, ppEncrypt, ppServers, startHandlerOrigin, startOrigin, type HandlerOrigin, type Origin } from '../pp.js';

/** The 1×1 red PNG upstream's fallback cases load from PP_FALLBACK_IMAGE_DATA. */
const FALLBACK_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwADhQGAWjR9awAAAABJRU5ErkJggg==';

describe('src/modules/proxy/controller.rs', () => {
  let o: Origin;
  let slow: HandlerOrigin;
  const servers = ppServers();
  const key = { PP_SOURCE_URL_ENCRYPTION_KEY: hex(KEY_32) };
  const fallback = { PP_FALLBACK_IMAGE_DATA: FALLBACK_B64 };

  beforeAll(async () => {
    const png = await tinyPng();
    o = await startOrigin({
      '/img.png': { body: png, contentType: 'image/png' },
      '/build/logo.BnUd846k_Z10Q0xM.webp': { body: png, contentType: 'image/png' },
      '/gone.png': { body: Buffer.from('not found'), status: 404, contentType: 'text/plain' },
    });
    // Answers after 1.5 s, so a second request arrives while the first holds its permit.
    slow = await startHandlerOrigin((_req, res) => {
      setTimeout(() => {
        res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': png.length });
        res.end(png);
      }, 1500);
    });
  });
  afterAll(async () => {
    await o.close();
    await slow.close();
  });

  ported('test_appstate_has_fallback_none_by_default', async () => {
    const r = await get(await servers.get(), `/proxy?url=${enc(`${o.url}/gone.png`)}`);
    expect(r.status).toBe(404);
    expect(r.headers.get('x-fallback')).toBeNull();
  });

  ported('test_path_encrypted_url_decrypts_and_proxies', async () => {
    const blob = ppEncrypt(KEY_32, `${o.url}/img.png`);
    expectOk(await get(await servers.get(key), `/enc/${blob}`));
  });

  ported('test_query_encrypted_url_decrypts_and_proxies', async () => {
    const blob = ppEncrypt(KEY_32, `${o.url}/img.png`);
    expectOk(await get(await servers.get(key), `/proxy?url=${enc(blob)}&enc=1`));
  });

  ported('test_encrypted_url_no_key_returns_400', async () => {
    expect((await get(await servers.get(), '/enc/someblob')).status).toBe(400);
  });

  ported('test_encrypted_url_bad_blob_returns_400', async () => {
    expect((await get(await servers.get(key), '/enc/!!!notvalidbase64!!!')).status).toBe(400);
  });

  ported('test_query_enc_flag_no_key_returns_400', async () => {
    expect((await get(await servers.get(), '/proxy?url=someblob&enc=1')).status).toBe(400);
  });

  // Upstream hands the router a semaphore of 0 permits; PreviewProxy refuses
  // PP_MAX_CONCURRENT_REQUESTS=0 at startup, so one permit is held by a slow request instead.
  ported('test_503_when_semaphore_exhausted', async () => {
    const px = await servers.get({ PP_MAX_CONCURRENT_REQUESTS: '1' });
    const first = get(px, `/proxy?url=${enc(`${slow.url}/a.png`)}`);
    while (slow.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
    try {
      const second = await get(px, `/proxy?url=${enc(`${o.url}/img.png`)}`);
      expect(second.status).toBe(503);
      expect(second.headers.get('retry-after')).toBe('1');
    } finally {
      await first;
    }
  });

  ported('test_permit_restored_after_buffered_request', async () => {
    const px = await servers.get({ PP_MAX_CONCURRENT_REQUESTS: '1' });
    const failed = await get(px, `/proxy?url=${enc('https://0.0.0.0/img.jpg')}`);
    expect(failed.status).toBeGreaterThanOrEqual(400);
    // The permit is back: the next request is served, not refused with 503.
    expectOk(await get(px, `/proxy?url=${enc(`${o.url}/img.png`)}`));
  });

  ported('test_permit_held_during_stream_released_after_exhaustion', async () => {
    const px = await servers.get({ PP_MAX_CONCURRENT_REQUESTS: '1' });
    expectOk(await get(px, `/proxy?url=${enc(`${o.url}/img.png`)}`));
    expectOk(await get(px, `/proxy?url=${enc(`${o.url}/img.png`)}&w=2`));
  });

  // Upstream compares the bytes (its "1x1 red PNG" has a broken IDAT checksum libpng refuses).
  ported('test_fallback_served_on_upstream_404', async () => {
    const r = await get(await servers.get(fallback), `/proxy?url=${enc(`${o.url}/gone.png`)}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('x-fallback')).toBe('true');
    expect(r.body.equals(Buffer.from(FALLBACK_B64, 'base64'))).toBe(true);
  });

  ported('test_no_fallback_on_invalid_signature', async () => {
    const r = await get(await servers.get({ ...fallback, PP_HMAC_KEY: 'secret' }), `/proxy?url=${enc('https://example.com/img.jpg')}`);
    expect(r.status).toBe(403);
    expect(r.headers.get('x-fallback')).toBeNull();
  });

  ported('test_fallback_http_code_zero_uses_original_error_code', async () => {
    const r = await get(await servers.get({ ...fallback, PP_FALLBACK_IMAGE_HTTP_CODE: '0' }), `/proxy?url=${enc(`${o.url}/gone.png`)}`);
    expect(r.status).toBe(404);
    expect(r.headers.get('x-fallback')).toBe('true');
  });

  ported('test_streaming_x_cache_miss_header', async () => {
    // An unknown query key (ignored by PreviewProxy and by us) keeps this request from being a
    // cache hit of an earlier case's.
    const r = await get(await servers.get(), `/proxy?url=${enc(`${o.url}/img.png`)}&ck=${Date.now()}`);
    expect(r.headers.get('x-cache')).toBe('MISS');
  });

  ported('test_fallback_ttl_uses_fallback_image_ttl_when_set', async () => {
    const r = await get(await servers.get({ ...fallback, PP_FALLBACK_IMAGE_TTL: '300', PP_TTL: '86400' }), `/proxy?url=${enc(`${o.url}/gone.png`)}`);
    expect(r.headers.get('cache-control')).toBe('public, max-age=300');
  });

  ported('test_query_enc_flag_passed_as_encrypted_true', async () => {
    expect((await get(await servers.get(), '/proxy?url=anyblob&enc=1')).status).toBe(400);
  });

  ported('test_path_enc_prefix_passed_as_encrypted_true', async () => {
    expect((await get(await servers.get(), '/enc/someblob')).status).toBe(400);
  });

  ported('test_relative_url_resolved_via_default_source_url', async () => {
    expectOk(await get(await servers.get({ PP_DEFAULT_SOURCE_URL: o.url }), '/proxy?url=%2Fimg.png'));
  });

  ported('test_relative_url_without_default_source_url_returns_400', async () => {
    expect((await get(await servers.get(), '/proxy?url=%2Fimg.png')).status).toBe(400);
  });

  ported('test_fallback_ttl_falls_back_to_pp_ttl', async () => {
    const r = await get(await servers.get({ ...fallback, PP_TTL: '1234' }), `/proxy?url=${enc(`${o.url}/gone.png`)}`);
    expect(r.headers.get('cache-control')).toBe('public, max-age=1234');
  });

  ported('test_path_style_relative_url_resolved_via_default_source_url', async () => {
    expectOk(await get(await servers.get({ PP_DEFAULT_SOURCE_URL: o.url }), '/build/logo.BnUd846k_Z10Q0xM.webp'));
  });

  ported('test_path_style_relative_url_without_default_source_url_returns_400', async () => {
    expect((await get(await servers.get(), '/build/logo.webp')).status).toBe(400);
  });
});
