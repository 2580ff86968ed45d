/**
 * Work stops when nobody waits: a transform that outlives IMGPROXY_TIMEOUT gets its 503, and
 * libvips is stopped at the deadline (sharp's timeout on every pass) instead of running on.
 * Measured as the CPU time of the server, a child process, after the answer: it must stop
 * growing within a few seconds (before, it kept a core busy for 10–22 s).
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuSeconds } from '../../bench/lib/rss.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { spawnTestServer, type TestServer } from '../helpers/process.js';

let origin: Origin;
let server: TestServer;

beforeAll(async () => {
  const small = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#c63', noise: { type: 'gaussian', mean: 128, sigma: 30 } } }).jpeg().toBuffer();
  origin = await startOrigin({ '/small.jpg': { body: small, contentType: 'image/jpeg' } });
  server = await spawnTestServer({ IMGPROXY_TIMEOUT: '2' });
}, 120_000);

afterAll(async () => {
  // undefined when it never started
  await (server as TestServer | undefined)?.stop();
  await origin.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the deadline stops the work', () => {
  it('a blur far too slow for IMGPROXY_TIMEOUT=2 answers 503, and the CPU goes quiet after it', async () => {
    // Valid under the default bounds (a 49 MP result), but a sigma-300 blur over it takes minutes.
    const started = Date.now();
    const res = await fetch(`${server.url}/insecure/rs:fill:7000:7000:1/bl:300/f:png/plain/${origin.url}/small.jpg`);
    await res.arrayBuffer();
    expect(res.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(8_000);
    // The flow answers at the deadline; libvips checks its timeout between the regions it
    // computes, and one region of this blur can take a few seconds on a slow machine. So: the
    // server must go quiet (under 0.15 s of CPU in a 1 s window) within 8 s of the answer —
    // before the deadline reached libvips it stayed busy for 10–22 s.
    const answered = Date.now();
    let quietAfterMs: number | null = null;
    while (Date.now() - answered < 8_000) {
      const before = cpuSeconds(server.pid);
      await sleep(1_000);
      if (cpuSeconds(server.pid) - before < 0.15) {
        quietAfterMs = Date.now() - answered;
        break;
      }
    }
    expect(quietAfterMs, 'the server was still computing 8 s after its 503').not.toBeNull();
    // And it stays quiet.
    const settled = cpuSeconds(server.pid);
    await sleep(1_500);
    expect(cpuSeconds(server.pid) - settled).toBeLessThan(0.3);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  }, 60_000);
});
