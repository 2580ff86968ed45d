/**
 * Measures what each class of hostile origin costs a real pixproxy process: starts the server
 * as a child (`node --import tsx src/main.ts`, MALLOC_ARENA_MAX=2 as `npm start` runs it) and
 * the hostile origin of test/helpers/hostile-origin.ts, fires a few concurrent requests per
 * class, and prints per class the statuses, the slowest answer, the RSS before, the peak
 * during (VmHWM, reset per class) and the RSS a moment after.
 *
 *   npx tsx scripts/hostile-origins-rss.ts [--concurrency 4] [--ceiling BYTES] [--bomb BYTES] [--settle MS]
 *
 * `--ceiling` sets PIXPROXY_MAX_SRC_BYTES_CEILING (0 shows the process without it);
 * IMGPROXY_MAX_SRC_FILE_SIZE stays 0 (its default) throughout.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { startHostileOrigin, type HostileKind } from '../test/helpers/hostile-origin.js';
import { processMemory, resetPeak, spawnServer } from '../test/helpers/process.js';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '4' },
    ceiling: { type: 'string' },
    bomb: { type: 'string', default: String(1024 ** 3) },
    settle: { type: 'string', default: '2000' },
  },
});
const concurrency = Number(values.concurrency);
const bomb = Number(values.bomb);
const settleMs = Number(values.settle);

const CLASSES: { kind: HostileKind; params?: { size?: number; interval?: number; to?: string } }[] = [
  { kind: 'image' },
  { kind: 'gzip', params: { size: bomb } },
  { kind: 'gzip-gzip', params: { size: bomb } },
  { kind: 'deflate', params: { size: bomb } },
  { kind: 'br', params: { size: bomb } },
  { kind: 'longer' },
  { kind: 'shorter' },
  { kind: 'chunked-cut' },
  { kind: 'chunked-stall' },
  { kind: 'redirect' },
  { kind: 'huge-length' },
  { kind: 'endless' },
  { kind: 'drip', params: { interval: 1000 } },
  { kind: 'silent' },
];

const MB = 1024 * 1024;
const mb = (n: number): string => (n / MB).toFixed(0).padStart(5);

const BOMBS = ['gzip', 'gzip-gzip', 'deflate', 'br'] as const;

const dir = await mkdtemp(join(tmpdir(), 'pixproxy-rss-'));
const origin = await startHostileOrigin();
for (const kind of BOMBS) await origin.prepare(kind, bomb);
const server = await spawnServer({
  MALLOC_ARENA_MAX: '2',
  IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true',
  IMGPROXY_DOWNLOAD_TIMEOUT: '3',
  IMGPROXY_MAX_SRC_FILE_SIZE: '0',
  PP_CACHE_DIR: dir,
  PP_CACHE_CLEANUP_INTERVAL_SECS: '0',
  ...(values.ceiling !== undefined ? { PIXPROXY_MAX_SRC_BYTES_CEILING: values.ceiling } : {}),
});
try {
  console.log(`pixproxy pid ${server.pid}, ${concurrency} concurrent requests per class, bombs of ${mb(bomb).trim()} MiB decoded, ceiling ${values.ceiling ?? 'default'}`);
  console.log('class           statuses          slowest   RSS before  peak  after (MiB)');
  for (const c of CLASSES) {
    // Each request its own source URL, so neither the cache nor single-flight folds them.
    const urls = Array.from({ length: concurrency }, (_, i) => {
      const src = `${origin.at(c.kind, c.params)}${c.params ? '&' : '?'}n=${i}-${Date.now()}`;
      return `${server.url}/insecure/rs:fit:64:64/plain/${encodeURIComponent(src)}`;
    });
    await resetPeak(server.pid);
    const before = await processMemory(server.pid);
    const started = Date.now();
    const answers = await Promise.all(urls.map(async (u) => {
      const t = Date.now();
      // A connection per request: a kept-alive one may be closed by the server just as it is reused.
      try {
        const res = await request(u, { reset: true });
        await res.body.dump();
        return { status: String(res.statusCode), ms: Date.now() - t };
      } catch (err) {
        // No answer at all: a crash, or the connection dropped; say so rather than stop.
        return { status: (err as { code?: string }).code ?? 'error', ms: Date.now() - t };
      }
    }));
    await new Promise((r) => setTimeout(r, 100));
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      const why = server.logs.join('\n').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('{')).slice(0, 8).join('\n');
      console.log(`${c.kind.padEnd(15)} ${answers.map((a) => a.status).join(',')}: pixproxy exited (${server.child.exitCode ?? server.child.signalCode}):\n${why}`);
      break;
    }
    const during = await processMemory(server.pid);
    await new Promise((r) => setTimeout(r, settleMs));
    const after = await processMemory(server.pid);
    const statuses = [...new Set(answers.map((a) => a.status))].join(',');
    const slowest = Math.max(...answers.map((a) => a.ms));
    console.log(`${c.kind.padEnd(15)} ${statuses.padEnd(16)} ${String(slowest).padStart(6)} ms   ${mb(before.rss)}  ${mb(during.peak)}  ${mb(after.rss)}   (${Date.now() - started} ms)`);
  }
} finally {
  if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGTERM');
  await server.exited;
  await origin.close();
  await rm(dir, { recursive: true, force: true });
}
