/**
 * The readiness state a balancer drains by: `/ready` answers 200 while the instance takes
 * traffic and 503 from SIGTERM on, while images and `/health` are still served for
 * PIXPROXY_DRAIN_SECS; then the listener closes and the process exits 0. A real child process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makePhoto } from '../helpers/images.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { spawnTestServer, type TestServer } from '../helpers/process.js';

let origin: Origin;
beforeAll(async () => {
  origin = await startOrigin({ '/p.jpg': { body: await makePhoto(200, 150), contentType: 'image/jpeg' } });
});
afterAll(async () => {
  await origin.close();
});

async function status(url: string): Promise<{ status: number; body: string; connection: string | null }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.text(), connection: res.headers.get('connection') };
}

describe('readiness', () => {
  let server: TestServer | undefined;
  afterAll(async () => {
    await server?.stop();
  });

  it('turns 503 at SIGTERM while the instance still serves for PIXPROXY_DRAIN_SECS, then exits 0', async () => {
    server = await spawnTestServer({ PIXPROXY_DRAIN_SECS: '2', PIXPROXY_READINESS_PATH: '/readyz' });
    const s = server;
    expect(await status(`${s.url}/readyz`)).toMatchObject({ status: 200, body: 'ready\n' });
    const stopped = Date.now();
    s.child.kill('SIGTERM');
    // The signal is handled asynchronously: poll until it shows.
    let ready = await status(`${s.url}/readyz`);
    for (let i = 0; i < 50 && ready.status === 200; i++) {
      await new Promise((r) => setTimeout(r, 20));
      ready = await status(`${s.url}/readyz`);
    }
    expect(ready).toMatchObject({ status: 503, body: 'draining\n', connection: 'close' });
    expect((await status(`${s.url}/health`)).status).toBe(200);
    const image = await fetch(`${s.url}/insecure/w:50/plain/${origin.url}/p.jpg@png`);
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    expect(await s.exited).toBe(0);
    expect(Date.now() - stopped).toBeGreaterThanOrEqual(1900);
  });

  it('without a drain delay the listener closes at once (imgproxy\'s behaviour)', async () => {
    const s = await spawnTestServer();
    try {
      expect((await status(`${s.url}/ready`)).status).toBe(200);
      const stopped = Date.now();
      s.child.kill('SIGTERM');
      expect(await s.exited).toBe(0);
      expect(Date.now() - stopped).toBeLessThan(5000);
    } finally {
      await s.stop();
    }
  });
});
