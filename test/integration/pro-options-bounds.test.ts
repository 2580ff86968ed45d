/**
 * The canvases imgproxy Pro's options add are bounded before they are allocated (issue 9: no
 * option may allocate unbounded memory): duotone and blur_areas write a copy of the frame
 * (counted twice), progressive_blur holds three frames, and every chained pipeline's canvases
 * are checked like the first's. A small PIXPROXY_MAX_INTERMEDIATE_RESOLUTION makes each bound
 * reachable with a 200×150 source; the same option on a smaller result passes, so each case
 * can fail both ways.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../helpers/app.js';
import { startOrigin, type Origin } from '../helpers/origin.js';

let origin: Origin;
let app: RunningApp;

beforeAll(async () => {
  const src = await sharp({ create: { width: 200, height: 150, channels: 3, background: '#c63' } }).png().toBuffer();
  origin = await startOrigin({ '/s.png': { body: src, contentType: 'image/png' } });
  // 50 000 pixels: the 30 000-pixel source fits once, not twice.
  app = await startApp({ PIXPROXY_MAX_INTERMEDIATE_RESOLUTION: '0.05' });
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await origin?.close();
});

async function status(opts: string): Promise<number> {
  const res = await fetch(`${app.url}/unsafe/${opts}/plain/${origin.url}/s.png`);
  await res.arrayBuffer();
  return res.status;
}

describe('Pro options within PIXPROXY_MAX_INTERMEDIATE_RESOLUTION', () => {
  it('the full-size frame alone is within the bound', async () => {
    expect(await status('bl:1')).toBe(200);
  });

  it.each(['dt:1:000000:ffffff', 'ba:5:0:0:0.5:0.5', 'pbl:10:down'])('%s: refused with 422 on the full-size frame, served on a smaller one', async (opt) => {
    expect(await status(opt)).toBe(422);
    expect(await status(`w:100/${opt}`)).toBe(200);
  });

  it('a later pipeline is bounded like the first', async () => {
    expect(await status('w:100/-/rs:fill:300:300:1')).toBe(422);
    expect(await status('w:100/-/rs:fill:150:150:1')).toBe(200);
  });
});
