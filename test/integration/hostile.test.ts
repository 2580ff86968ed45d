/**
 * The hostile-image corpus (test/fixtures/hostile/make.ts) and the canvas bombs of options
 * (`pd:16500`, `rs:fill:30000:30000:1`, `dpr:8`) against the real server as a child process
 * under its defaults, so that a native abort fails this test instead of the runner: each gets
 * its 4xx (or, where the damage is tolerable, a valid image) quickly, the server stays alive,
 * no SVG reference leaves the process, and RSS returns near its baseline afterwards.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peakRssMb, resetPeakRss, rssMb } from '../../bench/lib/rss.js';
import { hostileCorpus, type HostileFile } from '../fixtures/hostile/make.js';
import { startHandlerOrigin, type HandlerOrigin } from '../helpers/origin.js';
import { spawnTestServer, type TestServer } from '../helpers/process.js';

/** Generous for a loaded 2-core machine; a bomb that allocated would take far longer or die. */
const QUICK_MS = 8_000;
/** What the whole corpus may add to the peak resident set. */
const PEAK_RISE_MB = 1024;
/** How far above its baseline RSS may stay once idle. */
const IDLE_SLACK_MB = 120;

let origin: HandlerOrigin;
let server: TestServer;
let corpus: HostileFile[];
const files = new Map<string, Buffer>();
const asked: string[] = [];

beforeAll(async () => {
  origin = await startHandlerOrigin((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    asked.push(path);
    const body = files.get(path.slice(1));
    if (!body) {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
    res.end(body);
  });
  corpus = await hostileCorpus(origin.url);
  for (const f of corpus) files.set(f.name, f.body);
  files.set('small.jpg', await sharp({ create: { width: 64, height: 48, channels: 3, background: '#c63' } }).jpeg().toBuffer());
  server = await spawnTestServer({
    // As `npm start` runs it.
    MALLOC_ARENA_MAX: '2',
    // The video bombs must reach ffmpeg's side of the flow, not stop at imgproxy's switch.
    IMGPROXY_ENABLE_VIDEO_THUMBNAILS: 'true',
  });
}, 120_000);

afterAll(async () => {
  // undefined when it never started
  await (server as TestServer | undefined)?.stop();
  await origin.close();
});

function alive(): boolean {
  return server.child.exitCode === null && server.child.signalCode === null;
}

async function get(path: string): Promise<{ status: number; type: string | null; body: Buffer; ms: number }> {
  const started = Date.now();
  const res = await fetch(`${server.url}/insecure/${path}`, { signal: AbortSignal.timeout(60_000) });
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, type: res.headers.get('content-type'), body, ms: Date.now() - started };
}

/** A 200 must carry an image: SVG text with its root element, or pixels sharp can read. */
async function isImage(r: { body: Buffer; type: string | null }): Promise<boolean> {
  if (r.type === 'image/svg+xml') return /<svg[\s>]/.test(r.body.toString('utf8'));
  return sharp(r.body).metadata().then((m) => m.width > 0, () => false);
}

async function waitForRss(limitMb: number, timeoutMs: number): Promise<number> {
  const until = Date.now() + timeoutMs;
  let now = rssMb(server.pid) ?? Infinity;
  // V8 frees the buffers sharp handed out at its next collection, which an idle process
  // gets from its memory reducer within seconds.
  while (now > limitMb && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 500));
    now = rssMb(server.pid) ?? Infinity;
  }
  return now;
}

describe('hostile inputs against the real server (child process, defaults)', () => {
  let baseline = 0;

  it('warms up', async () => {
    expect((await get(`rs:fit:32:32/plain/${origin.url}/small.jpg`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    baseline = rssMb(server.pid) ?? 0;
    expect(baseline).toBeGreaterThan(0);
    resetPeakRss(server.pid);
  });

  it('every corpus member gets its 4xx (or a valid image) quickly, and the server lives', async () => {
    const failures: string[] = [];
    for (const f of corpus) {
      const r = await get(`${f.options ? `${f.options}/` : ''}plain/${origin.url}/${f.name}`);
      if (!alive()) throw new Error(`server died on ${f.name}: ${server.logs.slice(-5).join('\n')}`);
      const refused = r.status >= 400 && r.status < 500;
      let ok = f.expect === 'refuse' ? refused : refused || r.status === 200;
      if (ok && r.status === 200) ok = await isImage(r);
      if (!ok) failures.push(`${f.name}: ${r.status}`);
      if (r.ms > QUICK_MS) failures.push(`${f.name}: ${r.ms} ms`);
    }
    expect(failures).toEqual([]);
  }, 300_000);

  it.each([
    ['pd:16500 (a 33064×33048 canvas)', 'pd:16500'],
    ['pd:16000', 'pd:16000'],
    ['rs:fill:30000:30000:1/f:png', 'rs:fill:30000:30000:1/f:png'],
    ['dpr:8/rs:fill:4000:4000:1', 'dpr:8/rs:fill:4000:4000:1'],
    ['extend to 40000×40000', 'rs:fit:40000:40000/ex:1'],
    ['pixelate grid', 'rs:fill:7000:7000:1/pix:6999'],
  ])('%s is a quick 422, not an allocation', async (_name, options) => {
    const r = await get(`${options}/plain/${origin.url}/small.jpg`);
    expect(r.status).toBe(422);
    expect(r.ms).toBeLessThan(QUICK_MS);
    expect(alive()).toBe(true);
  });

  it('three canvas bombs at once', async () => {
    const rs = await Promise.all(['pd:16500', 'rs:fill:30000:30000:1/f:png', 'dpr:8/rs:fill:4000:4000:1'].map((o) => get(`${o}/plain/${origin.url}/small.jpg?${o}`)));
    expect(rs.map((r) => r.status)).toEqual([422, 422, 422]);
    expect(alive()).toBe(true);
  });

  it('no SVG reference was fetched', () => {
    const external = asked.filter((p) => !files.has(p.slice(1)));
    expect(external).toEqual([]);
  });

  it('the peak stayed bounded and RSS returns near its baseline', async () => {
    const peak = peakRssMb(server.pid) ?? Infinity;
    expect(peak - baseline).toBeLessThan(PEAK_RISE_MB);
    const idle = await waitForRss(baseline + IDLE_SLACK_MB, 45_000);
    expect(idle).toBeLessThanOrEqual(baseline + IDLE_SLACK_MB);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  }, 60_000);
});
