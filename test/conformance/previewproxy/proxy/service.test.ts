/**
 * src/modules/proxy/service.rs (https://github.com/ViGrise/previewproxy): the request flow —
 * allowlist scope, video and PDF sources, the streaming pass-through and what it caches, the
 * input disallow list — through a real server and loopback origins instead of upstream's
 * `ProxyService` with mock fetchers; and `resolve_url` (decryption, PP_DEFAULT_SOURCE_URL)
 * against the dialect. An upstream `Err(variant)` is PreviewProxy's answer for it: status and
 * JSON code (`src/common/errors/mod.rs`).
 */
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { loadConfig } from '../../../../src/config/index.js';
import { createPreviewProxyDialect } from '../../../../src/dialects/previewproxy/index.js';
import { ppUrl } from '../../../../src/dialects/previewproxy/source.js';
import { ProxyError } from '../../../../src/errors.js';
import { ported } from '../../harness.js';
import { fakeMp4, keepsMark, markedPng, solidPng } from '../fixtures.js';
import { enc, eventually, expectOk, expectPpError, get, hex, KEY_32, ppEncrypt, ppServers, startHandlerOrigin, startOrigin, type HandlerOrigin, type Origin } from '../pp.js';

describe('src/modules/proxy/service.rs', () => {
  let o: Origin;
  let dropping: HandlerOrigin;
  const servers = ppServers();
  const allowlist = { PP_ALLOWED_HOSTS: 'example.com' };

  beforeAll(async () => {
    o = await startOrigin({
      '/m.png': { body: await markedPng(), contentType: 'image/png' },
      '/big.png': { body: await solidPng(40, 40, { r: 9, g: 99, b: 199 }), contentType: 'image/png' },
      '/page.html': { body: Buffer.from('<html>'), contentType: 'text/html' },
      '/v.mp4': { body: fakeMp4(), contentType: 'video/mp4' },
      '/doc.pdf': { body: Buffer.from('%PDF-1.4 fake'), contentType: 'application/pdf' },
    });
    // First request: headers and half the body, then the connection dies; later ones: all of it.
    const png = await solidPng(64, 64, { r: 1, g: 2, b: 3 });
    let calls = 0;
    dropping = await startHandlerOrigin((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': png.length });
      if (calls++ > 0) return void res.end(png);
      res.write(png.subarray(0, png.length >> 1));
      setTimeout(() => res.socket?.destroy(), 300);
    });
  });
  afterAll(async () => {
    await o.close();
    await dropping.close();
  });

  ported('test_s3_image_url_skips_allowlist', async () => {
    const r = await get(await servers.get(allowlist), '/proxy?url=s3:/some/key.jpg');
    expect(r.status).not.toBe(403);
  });

  ported('test_local_watermark_url_skips_allowlist', async () => {
    const r = await get(await servers.get(allowlist), `/proxy?url=s3:/images/photo.jpg&wm=${enc('local:/watermarks/logo.png')}`);
    expect(r.status).not.toBe(403);
  });

  ported('test_video_content_type_triggers_video_decode_error', async () => {
    expectPpError(await get(await servers.get(), `/proxy?url=${enc(`${o.url}/v.mp4`)}`), 422, 'video_decode_error');
  });

  ported('test_video_disallowed_returns_transform_disabled', async () => {
    expectPpError(await get(await servers.get({ PP_INPUT_DISALLOW_LIST: 'video' }), `/proxy?url=${enc(`${o.url}/v.mp4`)}`), 400, 'transform_disabled', 'video');
  });

  ported('test_streaming_passthrough_no_transforms', async () => {
    const r = await get(await servers.get(), `/proxy?url=${enc(`${o.url}/m.png`)}`);
    expectOk(r);
    expect(r.headers.get('x-cache')).toBe('MISS');
    expect(keepsMark(r.body)).toBe(true);
  });

  ported('test_streaming_falls_back_for_non_image', async () => {
    expectPpError(await get(await servers.get(), `/proxy?url=${enc(`${o.url}/page.html`)}`), 422, 'not_an_image');
  });

  ported('test_streaming_falls_back_for_video', async () => {
    expectPpError(await get(await servers.get(), `/proxy?url=${enc(`${o.url}/v.mp4`)}&nocache=1`), 422, 'video_decode_error');
  });

  ported('test_streaming_falls_back_for_pdf', async () => {
    expectPpError(await get(await servers.get(), `/proxy?url=${enc(`${o.url}/doc.pdf`)}`), 422, 'pdf_render_error');
  });

  // Upstream drops the body stream before its end; here the client aborts while the source
  // is still arriving, and the source dies: nothing truncated may be cached.
  ported('test_cache_not_written_when_client_drops_stream_early', async () => {
    const px = await servers.get();
    const url = `${px.url}/proxy?url=${enc(`${dropping.url}/d.png`)}`;
    const ac = new AbortController();
    const first = fetch(url, { signal: ac.signal }).then((r) => r.arrayBuffer()).catch(() => undefined);
    while (dropping.requests.length === 0) await new Promise((r) => setTimeout(r, 10));
    ac.abort();
    await first;
    await new Promise((r) => setTimeout(r, 500));
    const again = await get(px, `/proxy?url=${enc(`${dropping.url}/d.png`)}`);
    expectOk(again);
    expect(again.headers.get('x-cache')).toBe('MISS');
  });

  ported('test_streaming_falls_back_for_s3', async () => {
    // No S3 configured, as upstream's service has none: an error, never a 200 stream.
    const r = await get(await servers.get(), '/proxy?url=s3:/some/key.jpg');
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
  });

  ported('test_cache_written_after_clean_stream', async () => {
    const px = await servers.get();
    const path = `/proxy?url=${enc(`${o.url}/big.png`)}`;
    expectOk(await get(px, path));
    expect(await eventually(async () => (await get(px, path)).headers.get('x-cache')?.startsWith('HIT') === true)).toBe(true);
  });

  ported('test_streaming_input_disallowed_returns_transform_disabled', async () => {
    expectPpError(await get(await servers.get({ PP_INPUT_DISALLOW_LIST: 'png' }), `/proxy?url=${enc(`${o.url}/big.png`)}`), 400, 'transform_disabled', 'png');
  });

  ported('test_cache_not_written_when_max_bytes_exceeded', async () => {
    const px = await servers.get({ PP_MAX_SOURCE_BYTES: '50' });
    const path = `/proxy?url=${enc(`${o.url}/big.png`)}&limit=50`;
    const first = await get(px, path);
    expect(first.status).toBeLessThan(500);
    await new Promise((r) => setTimeout(r, 200));
    expect((await get(px, path)).headers.get('x-cache') ?? '').not.toMatch(/^HIT/);
  });
});

describe('src/modules/proxy/service.rs (url_resolution_tests)', () => {
  const pp = (env: Record<string, string>) => loadConfig(env).previewproxy;
  const BASE = { PP_DEFAULT_SOURCE_URL: 'https://cdn.example.com' };
  /** `resolve_url(raw, encrypted)` as the dialect does it: decrypt, then PP_DEFAULT_SOURCE_URL. */
  const resolveEncrypted = (blob: string, env: Record<string, string>) =>
    createPreviewProxyDialect(loadConfig(env)).parseQuery(new URLSearchParams({ url: blob, enc: '1' }), {}).source;

  ported('test_resolve_url_absolute_http_unchanged', () => expect(ppUrl('https://cdn.example.com/img.jpg', pp({}))).toBe('https://cdn.example.com/img.jpg'));
  ported('test_resolve_url_s3_unchanged', () => expect(ppUrl('s3:/bucket/key.jpg', pp({}))).toBe('s3:/bucket/key.jpg'));
  ported('test_resolve_url_local_unchanged', () => expect(ppUrl('local:/images/img.jpg', pp({}))).toBe('local:/images/img.jpg'));
  ported('test_resolve_url_alias_unchanged', () => expect(ppUrl('mycdn:/img.jpg', pp({}))).toBe('mycdn:/img.jpg'));
  ported('test_resolve_url_relative_prepends_base', () => expect(ppUrl('/photo.jpg', pp(BASE))).toBe('https://cdn.example.com/photo.jpg'));
  ported('test_resolve_url_relative_base_trailing_slash', () => expect(ppUrl('/photo.jpg', pp({ PP_DEFAULT_SOURCE_URL: 'https://cdn.example.com/' }))).toBe('https://cdn.example.com/photo.jpg'));
  ported('test_resolve_url_relative_no_leading_slash', () => expect(ppUrl('photo.jpg', pp(BASE))).toBe('https://cdn.example.com/photo.jpg'));

  ported('test_resolve_url_relative_no_default_errors', () => {
    let err: unknown;
    try {
      ppUrl('/photo.jpg', pp({}));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProxyError);
    expect((err as ProxyError).status).toBe(400);
    expect((err as ProxyError).message).toContain('Invalid source URL');
  });

  ported('test_resolve_url_encrypted_decrypts', () => {
    const blob = ppEncrypt(KEY_32, 'https://cdn.example.com/img.jpg');
    expect(resolveEncrypted(blob, { PP_SOURCE_URL_ENCRYPTION_KEY: hex(KEY_32) })).toBe('https://cdn.example.com/img.jpg');
  });

  ported('test_resolve_url_encrypted_no_key_errors', () => {
    let err: unknown;
    try {
      resolveEncrypted('someblob', {});
    } catch (e) {
      err = e;
    }
    expect((err as ProxyError).status).toBe(400);
    expect((err as ProxyError).message).toContain('encryption key not configured');
  });

  ported('test_resolve_url_encrypted_then_relative_prepends_base', () => {
    const blob = ppEncrypt(KEY_32, '/photo.jpg');
    expect(resolveEncrypted(blob, { ...BASE, PP_SOURCE_URL_ENCRYPTION_KEY: hex(KEY_32) })).toBe('https://cdn.example.com/photo.jpg');
  });
});
