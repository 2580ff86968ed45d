/**
 * Port of imgproxy's server/server_test.go, server/router_test.go and server/timer_test.go,
 * where observable over HTTP: a bad bind stops startup, SIGTERM shuts down, CORS headers,
 * IMGPROXY_SECRET, request ids (kept when well formed, else made, or taken from AWS
 * Lambda's request context), the Server header, HEAD and OPTIONS, the path prefix, errors
 * as text/plain. Router internals (middleware order, route order, panics, the timer
 * context) have no HTTP counterpart: see this folder's README.
 * https://github.com/imgproxy/imgproxy/blob/master/server/server_test.go
 */
import { describe, expect } from 'vitest';
import { spawnServer } from '../../../helpers/process.js';
import { get, port, serverPool } from '../harness.js';

const servers = serverPool(() => ({}));

describe('TestServerTestSuite', () => {
  port('TestStartServerWithInvalidBind', undefined, async () => {
    await expect(spawnServer({ IMGPROXY_BIND: '-1.-1.-1.-1' })).rejects.toThrow(/exited with [1-9]/);
  }, 60_000);

  port('TestShutdown', undefined, async () => {
    const s = await spawnServer({});
    s.child.kill('SIGTERM');
    // Stops by itself (no hang, no crash code): 0, or the signal re-raised after draining.
    expect([0, null]).toContain(await s.exited);
  }, 60_000);

  describe('TestWithCORS', () => {
    port('TestWithCORS/WithCORSOrigin', undefined, async () => {
      const r = await get(await servers.get({ IMGPROXY_ALLOW_ORIGIN: 'https://example.com' }), '/health');
      expect(r.headers.get('access-control-allow-origin')).toBe('https://example.com');
      expect(r.headers.get('access-control-allow-methods')).toBe('GET, OPTIONS');
    });
    port('TestWithCORS/NoCORSOrigin', undefined, async () => {
      const r = await get(await servers.get(), '/health');
      expect(r.headers.get('access-control-allow-origin')).toBeNull();
      expect(r.headers.get('access-control-allow-methods')).toBeNull();
    });
  });

  describe('TestWithSecret', () => {
    const path = '/unsafe/plain/local:///nothing.png';
    port('TestWithSecret/ValidSecret', undefined, async () => {
      expect((await get(await servers.get({ IMGPROXY_SECRET: 'test-secret' }), path, { Authorization: 'Bearer test-secret' })).status).not.toBe(403);
    });
    port('TestWithSecret/InvalidSecret', undefined, async () => {
      expect((await get(await servers.get({ IMGPROXY_SECRET: 'foo-secret' }), path, { Authorization: 'Bearer wrong-secret' })).status).toBe(403);
    });
    port('TestWithSecret/NoSecretConfigured', undefined, async () => {
      expect((await get(await servers.get(), path)).status).not.toBe(403);
    });
  });

  port('TestIntoWithError', undefined, async () => {
    const r = await get(await servers.get(), '/unsafe/plain/local:///nothing.png');
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
  });
});

describe('TestRouterSuite', () => {
  describe('TestHTTPMethods', () => {
    const api = () => servers.get({ IMGPROXY_PATH_PREFIX: '/api' });
    port('TestHTTPMethods/GET', undefined, async () => expect((await get(await api(), '/api/health')).status).toBe(200));
    port('TestHTTPMethods/OPTIONS', undefined, async () => expect((await get(await api(), '/api/unsafe/plain/local:///x.png', {}, 'OPTIONS')).status).toBe(200));
    port('TestHTTPMethods/OPTIONSPrefixed', undefined, async () => expect((await get(await api(), '/api/unsafe/rs:fit:1:1/plain/local:///x.png', {}, 'OPTIONS')).status).toBe(200));
    port('TestHTTPMethods/HEAD', undefined, async () => {
      const r = await get(await api(), '/api/health', {}, 'HEAD');
      expect(r.status).toBe(200);
      expect(r.body.length).toBe(0);
    });
  });

  port('TestServeHTTP', undefined, async () => {
    const r = await get(await servers.get(), '/health');
    expect(r.headers.get('server')).toBe('imgproxy');
    expect(r.headers.get('x-request-id')).toBeTruthy();
  });

  port('TestRequestID', undefined, async () => {
    const app = await servers.get();
    expect((await get(app, '/health', { 'X-Request-ID': 'valid-id-123' })).headers.get('x-request-id')).toBe('valid-id-123');
    const made = (await get(app, '/health', { 'X-Request-ID': 'invalid id with spaces!' })).headers.get('x-request-id');
    expect(made).not.toBe('invalid id with spaces!');
    expect(made).toMatch(/^[A-Za-z0-9_-]+$/);
    expect((await get(app, '/health')).headers.get('x-request-id')).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  port('TestLambdaRequestIDExtraction', undefined, async () => {
    const r = await get(await servers.get(), '/health', { 'X-Amzn-Request-Context': '{"requestId":"lambda-req-123"}' });
    expect(r.headers.get('x-request-id')).toBe('lambda-req-123');
  });
});
