/**
 * A `raw` answer under IMGPROXY_WRITE_RESPONSE_TIMEOUT: the response's 'close' listeners (the
 * request line and metrics, the client signal, the write deadline, plus what stream/promises
 * pipeline adds) stay under EventEmitter's limit, so Node prints no MaxListenersExceededWarning
 * per response, and the body still arrives whole.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../helpers/app.js';
import { startOrigin, type Origin } from '../helpers/origin.js';

let origin: Origin;
let px: RunningApp;
// A PNG signature, then enough bytes that the body goes through several writes.
const body = Buffer.concat([Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex'), Buffer.alloc(4 * 1024 * 1024, 7)]);

beforeAll(async () => {
  origin = await startOrigin({ '/big.png': { body, contentType: 'image/png' } });
  px = await startApp({ IMGPROXY_WRITE_RESPONSE_TIMEOUT: '10', IMGPROXY_MAX_SRC_FILE_SIZE: String(64 * 1024 * 1024), PIXPROXY_MAX_SRC_BYTES_CEILING: '0' });
});
afterAll(async () => {
  await px.stop();
  await origin.close();
});

describe('raw responses with a write deadline', () => {
  it('add no MaxListenersExceededWarning, and stream the whole body', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      if (w.name === 'MaxListenersExceededWarning') warnings.push(w.message);
    };
    process.on('warning', onWarning);
    try {
      for (let i = 0; i < 3; i++) {
        const res = await fetch(`${px.url}/insecure/raw:1/plain/${origin.url}/big.png`);
        expect(res.status).toBe(200);
        expect(Buffer.from(await res.arrayBuffer()).equals(body)).toBe(true);
      }
      // Warnings are emitted on the next tick.
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).toEqual([]);
  });
});
