/**
 * Peak RSS per class of expensive request, each against a fresh pixproxy child process run as
 * `npm start` runs it (MALLOC_ARENA_MAX=2, no result cache, defaults otherwise): the rise of VmHWM over the idle
 * baseline from the requests until --idle seconds after the answers, the status codes, the RSS
 * once idle again and the CPU time spent after the answers. The figures of docs/limits.md come
 * from here.
 *
 *   npx tsx scripts/peak-rss.ts                       # every class, this tree
 *   npx tsx scripts/peak-rss.ts --root /other/tree    # another checkout (before/after)
 *   npx tsx scripts/peak-rss.ts --class pd16000,fill30000 --env PIXPROXY_MALLOC=jemalloc
 *
 * The peak is reset between phases by writing 5 to /proc/<pid>/clear_refs (Linux ≥ 4.0).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { freePort, sleep, spawnProc, waitForHttp, type Proc } from '../bench/lib/proc.js';
import { cpuSeconds, peakRssMb, resetPeakRss, rssMb } from '../bench/lib/rss.js';
import { startOrigin } from '../test/helpers/origin.js';

interface Class {
  name: string;
  /** Paths (after the origin is substituted for ORIGIN) requested at once. */
  paths: string[];
}

const CLASSES: Class[] = [
  { name: 'pd16000', paths: ['/insecure/pd:16000/plain/ORIGIN/s.jpg'] },
  { name: 'pd16500', paths: ['/insecure/pd:16500/plain/ORIGIN/s.jpg'] },
  { name: 'fill30000', paths: ['/insecure/rs:fill:30000:30000:1/f:png/plain/ORIGIN/s.jpg'] },
  { name: 'dpr8', paths: ['/insecure/dpr:8/rs:fill:4000:4000:1/plain/ORIGIN/s.jpg'] },
  {
    name: 'three',
    paths: [
      '/insecure/rs:fill:30000:30000:1/f:png/plain/ORIGIN/s.jpg?a',
      '/insecure/dpr:8/rs:fill:4000:4000:1/plain/ORIGIN/s.jpg?b',
      '/insecure/pd:16000/plain/ORIGIN/s.jpg?c',
    ],
  },
  // Near the largest results and canvases the defaults allow, so the figures bound what a
  // valid request costs: lazy paths, then the steps that must hold raw pixels.
  { name: 'fill7000-png', paths: ['/insecure/rs:fill:7000:7000:1/f:png/plain/ORIGIN/s.jpg'] },
  { name: 'pad-jpeg', paths: ['/insecure/rs:fill:3000:3000:1/pd:2000/plain/ORIGIN/s.jpg'] },
  { name: 'blur-49mp', paths: ['/insecure/rs:fill:7000:7000:1/bl:2/plain/ORIGIN/s.jpg'] },
  { name: 'smart-crop', paths: ['/insecure/rs:fill:7000:7000:1/g:sm/plain/ORIGIN/wide.jpg'] },
  { name: 'pixelate', paths: ['/insecure/rs:fill:7000:7000:1/pix:4000/plain/ORIGIN/s.jpg'] },
  { name: 'rotate-50mp', paths: ['/insecure/rot:90/plain/ORIGIN/big.jpg'] },
  { name: 'trim-50mp', paths: ['/insecure/t:10/plain/ORIGIN/big.jpg'] },
  { name: 'png16-hdr', paths: ['/insecure/rs:fill:7000:7000:1/ph:1/f:png/plain/ORIGIN/s16.png'] },
  // 16-bit RGBA (8 bytes a pixel) through the steps that hold raw pixels, near both bounds.
  { name: 'hdr-smart-crop', paths: ['/insecure/rs:fill:7000:7000:1/g:sm/ph:1/f:png/plain/ORIGIN/wide16.png'] },
  { name: 'hdr-blur', paths: ['/insecure/rs:fill:7000:7000:1/bl:2/ph:1/f:png/plain/ORIGIN/sq16.png'] },
  { name: 'hdr-blur-pad', paths: ['/insecure/rs:fill:6900:6900:1/bl:2/pd:50/ph:1/f:png/plain/ORIGIN/sq16.png'] },
  {
    name: 'three-valid',
    paths: [
      '/insecure/rs:fill:7000:7000:1/bl:2/plain/ORIGIN/s.jpg?a',
      '/insecure/rot:90/plain/ORIGIN/big.jpg?b',
      '/insecure/rs:fill:7000:7000:1/g:sm/plain/ORIGIN/wide.jpg?c',
    ],
  },
];

async function get(url: string): Promise<string> {
  const started = Date.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
    await res.arrayBuffer();
    return `${res.status} ${((Date.now() - started) / 1000).toFixed(1)}s`;
  } catch (err) {
    return `error (${(err as Error).message.slice(0, 40)}) ${((Date.now() - started) / 1000).toFixed(1)}s`;
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      root: { type: 'string', default: process.cwd() },
      class: { type: 'string' },
      env: { type: 'string', multiple: true, default: [] },
      idle: { type: 'string', default: '10' },
    },
  });
  const root = resolve(values.root);
  const only = values.class ? new Set(values.class.split(',')) : null;
  const extraEnv = Object.fromEntries(values.env.map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const small = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 90, b: 30 } } }).jpeg().toBuffer();
  const wide = await sharp({ create: { width: 96, height: 48, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).jpeg().toBuffer();
  const wide16 = await sharp({ create: { width: 128, height: 64, channels: 4, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).toColourspace('rgb16').png().toBuffer();
  const sq16 = await sharp({ create: { width: 64, height: 64, channels: 4, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 60 } } }).toColourspace('rgb16').png().toBuffer();
  const small16 = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 90, b: 30 } } }).toColourspace('rgb16').png().toBuffer();
  // 7000×7000 (49 MP, just under IMGPROXY_MAX_SRC_RESOLUTION's 50): a white frame around noise.
  const noise = await sharp({ create: { width: 6000, height: 6000, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 50 } } }).png({ compressionLevel: 1 }).toBuffer();
  const big = await sharp(noise).extend({ top: 500, bottom: 500, left: 500, right: 500, background: '#ffffff' }).jpeg({ quality: 70 }).toBuffer();
  const origin = await startOrigin({
    '/s.jpg': { body: small, contentType: 'image/jpeg' },
    '/wide.jpg': { body: wide, contentType: 'image/jpeg' },
    '/s16.png': { body: small16, contentType: 'image/png' },
    '/wide16.png': { body: wide16, contentType: 'image/png' },
    '/sq16.png': { body: sq16, contentType: 'image/png' },
    '/big.jpg': { body: big, contentType: 'image/jpeg' },
  });
  const cacheDir = await mkdtemp(join(tmpdir(), 'pixproxy-rss-'));
  const rows: string[] = ['| class | statuses | baseline MB | peak rise MB | idle after MB | CPU s after the answers |', '|---|---|---|---|---|---|'];
  try {
    for (const c of CLASSES) {
      if (only && !only.has(c.name)) continue;
      const port = await freePort();
      const proc: Proc = spawnProc('pixproxy', process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: root,
        env: {
          IMGPROXY_BIND: `127.0.0.1:${port}`,
          IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true',
          IMGPROXY_LOG_LEVEL: 'error',
          MALLOC_ARENA_MAX: '2',
          // Every request processed: no result cache.
          IMGPROXY_CACHE_USE: 'none',
          PP_CACHE_MEMORY_MAX_MB: '0',
          PP_CACHE_DIR: cacheDir,
          ...extraEnv,
        },
      });
      try {
        const base = `http://127.0.0.1:${port}`;
        await waitForHttp(proc, `${base}/health`);
        // Warm up: sharp loaded, one small image processed.
        await get(`${base}/insecure/rs:fit:32:32/plain/${origin.url}/s.jpg?warm`);
        await sleep(1000);
        const baseline = rssMb(proc.pid) ?? 0;
        resetPeakRss(proc.pid);
        const statuses = await Promise.all(c.paths.map((p) => get(base + p.replace('ORIGIN', origin.url))));
        const cpuAtAnswer = proc.child.exitCode === null ? cpuSeconds(proc.pid) : 0;
        await sleep(Number(values.idle) * 1000);
        const alive = proc.child.exitCode === null && proc.child.signalCode === null;
        // Read after the idle wait: work that goes on after a 503 counts too.
        const peak = alive ? peakRssMb(proc.pid) : null;
        const idle = alive ? rssMb(proc.pid) : null;
        const cpuAfter = alive ? (cpuSeconds(proc.pid) - cpuAtAnswer).toFixed(2) : '-';
        rows.push(`| ${c.name} | ${alive ? statuses.join(', ') : `server died (${statuses.join(', ')})`} | ${baseline} | ${peak === null ? '-' : peak - baseline} | ${idle ?? '-'} | ${cpuAfter} |`);
        process.stderr.write(`${rows[rows.length - 1]}\n`);
      } finally {
        await proc.stop();
      }
    }
  } finally {
    await origin.close();
    await rm(cacheDir, { recursive: true, force: true });
  }
  process.stdout.write(`${rows.join('\n')}\n`);
}

await main();
