/**
 * Port of imgproxy's handlers/health/handler_test.go (TestHealthHandler): `/health` answers
 * 200 text/plain, not cached, with imgproxy's body.
 * https://github.com/imgproxy/imgproxy/blob/master/handlers/health/handler_test.go
 */
import { describe, expect } from 'vitest';
import { get, port, serverPool } from '../harness.js';

const servers = serverPool(() => ({}));

describe('TestHealthHandler', () => {
  port('TestHealthHandler', undefined, async () => {
    const r = await get(await servers.get(), '/health');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/plain');
    expect(r.headers.get('cache-control')).toBe('no-cache');
    expect(r.body.toString()).toBe('imgproxy is running');
  });
});
