/**
 * The classes of canvas bombs (padding, enlarge, DPR, extend, extend_aspect_ratio, pixelate,
 * formats, watermarks: scale, size, rotation, shadow, text) generated over many members with fast-check, against the real server as a child
 * process with small bounds (2 MP results, 4 MP intermediates) so that every accepted member is
 * cheap: each answer is a 200 within the bounds or a 422, the server never dies, and its peak
 * memory stays small. The defaults themselves are pinned in hostile.test.ts and limits.test.ts.
 */
import fc from 'fast-check';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peakRssMb, resetPeakRss, rssMb } from '../../bench/lib/rss.js';
import { startOrigin, type Origin } from '../helpers/origin.js';
import { spawnTestServer, type TestServer } from '../helpers/process.js';

const RESULT_MP = 2;
const INTERMEDIATE_MP = 4;

let origin: Origin;
let server: TestServer;

beforeAll(async () => {
  origin = await startOrigin({
    '/s.jpg': { body: await sharp({ create: { width: 64, height: 48, channels: 3, background: '#c63' } }).jpeg().toBuffer(), contentType: 'image/jpeg' },
    '/a.png': { body: await sharp({ create: { width: 30, height: 90, channels: 4, background: { r: 0, g: 90, b: 200, alpha: 0.5 } } }).png().toBuffer(), contentType: 'image/png' },
    '/big.png': { body: await sharp({ create: { width: 1800, height: 1000, channels: 3, background: '#eee' } }).png().toBuffer(), contentType: 'image/png' },
  });
  server = await spawnTestServer({
    PIXPROXY_MAX_RESULT_RESOLUTION: String(RESULT_MP),
    PIXPROXY_MAX_INTERMEDIATE_RESOLUTION: String(INTERMEDIATE_MP),
    IMGPROXY_TIMEOUT: '30',
  });
}, 120_000);

afterAll(async () => {
  // undefined when it never started
  await (server as TestServer | undefined)?.stop();
  await origin.close();
});

const side = fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 3000, max: 40000 }));
const request = fc.record({
  source: fc.constantFrom('s.jpg', 'a.png'),
  rt: fc.constantFrom('fit', 'fill', 'fill-down', 'force', 'auto'),
  w: side,
  h: side,
  enlarge: fc.boolean(),
  dpr: fc.constantFrom(1, 2, 3.5, 8),
  pd: fc.option(fc.tuple(side, side, side, side), { nil: null }),
  ex: fc.boolean(),
  exar: fc.boolean(),
  pix: fc.constantFrom(0, 0, 7, 500, 5000),
  format: fc.constantFrom('png', 'jpg', 'webp'),
});

type Request = typeof request extends fc.Arbitrary<infer T> ? T : never;

function path(r: Request): string {
  const parts = [`rs:${r.rt}:${r.w}:${r.h}:${r.enlarge ? 1 : 0}:${r.ex ? 1 : 0}`, `dpr:${r.dpr}`];
  if (r.pd) parts.push(`pd:${r.pd.join(':')}`);
  if (r.exar) parts.push('exar:1');
  if (r.pix) parts.push(`pix:${r.pix}`);
  parts.push(`f:${r.format}`);
  return `/insecure/${parts.join('/')}/plain/${origin.url}/${r.source}`;
}

const markRequest = fc.record({
  mark: fc.constantFrom('a.png', 'big.png', 'text'),
  text: fc.constantFrom('XXXX', `<span size="${1000 * 1024}">X</span>`, '<big><big><big>XXXXXXXXXXXXXXXXXXXX</big></big></big>', 'é\u0301\u0301\u0301\u0301'),
  textSize: fc.constantFrom(16, 200, 2000),
  w: fc.integer({ min: 1, max: 2000 }),
  position: fc.constantFrom('ce', 'noea', 'sowe', 're'),
  x: fc.integer({ min: -3000, max: 3000 }),
  scale: fc.constantFrom(0, 0.1, 1, 2),
  wms: fc.option(fc.tuple(side, side), { nil: null }),
  rotate: fc.constantFrom(0, 0, 90, 33),
  shadow: fc.constantFrom(0, 0, 2, 100),
});

type MarkRequest = typeof markRequest extends fc.Arbitrary<infer T> ? T : never;

function markPath(r: MarkRequest): string {
  const parts = [`rs:fit:${r.w}:${r.w}:1`, `wm:1:${r.position}:${r.x}:0:${r.scale || ''}`];
  parts.push(r.mark === 'text' ? `wmt:${Buffer.from(`<span size="${r.textSize}px">${r.text}</span>`).toString('base64url')}` : `wmu:${Buffer.from(`${origin.url}/${r.mark}`).toString('base64url')}`);
  if (r.wms) parts.push(`wms:${r.wms.join(':')}`);
  if (r.rotate) parts.push(`wmr:${r.rotate}`);
  if (r.shadow) parts.push(`wmsh:${r.shadow}`);
  return `/insecure/${parts.join('/')}/f:png/plain/${origin.url}/s.jpg`;
}

describe('generated watermark bombs against the real server', () => {
  it('answer 200 within the bounds or 422, and never bring the server down', async () => {
    const baseline = rssMb(server.pid) ?? 0;
    resetPeakRss(server.pid);
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(markRequest, async (r) => {
        const res = await fetch(server.url + markPath(r));
        const body = Buffer.from(await res.arrayBuffer());
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(server.child.exitCode).toBeNull();
        // Text whose sizes are over the markup bounds is refused while parsing (404).
        expect(r.mark === 'text' ? [200, 404, 422] : [200, 422], `${markPath(r)}: ${body.subarray(0, 200).toString()}`).toContain(res.status);
        if (res.status === 200) {
          const m = await sharp(body).metadata();
          expect(m.width * m.height).toBeLessThanOrEqual(RESULT_MP * 1e6);
        }
      }),
      { seed: 20261201, numRuns: 150 },
    );
    expect(statuses.get(200) ?? 0).toBeGreaterThan(10);
    expect(statuses.get(422) ?? 0).toBeGreaterThan(5);
    expect((peakRssMb(server.pid) ?? Infinity) - baseline).toBeLessThan(400);
  }, 240_000);
});

describe('generated canvas bombs against the real server', () => {
  it('answer 200 within the bounds or 422, and never bring the server down', async () => {
    const baseline = rssMb(server.pid) ?? 0;
    resetPeakRss(server.pid);
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const res = await fetch(server.url + path(r));
        const body = Buffer.from(await res.arrayBuffer());
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        expect(server.child.exitCode).toBeNull();
        expect([200, 422]).toContain(res.status);
        if (res.status === 200) {
          const m = await sharp(body).metadata();
          expect(m.width * m.height).toBeLessThanOrEqual(RESULT_MP * 1e6);
        }
      }),
      { seed: 20260806, numRuns: 300 },
    );
    // Both outcomes occur, or the generator is not testing the bounds.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(10);
    expect(statuses.get(422) ?? 0).toBeGreaterThan(10);
    expect((peakRssMb(server.pid) ?? Infinity) - baseline).toBeLessThan(400);
  }, 240_000);
});
