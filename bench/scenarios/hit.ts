/**
 * L1 hit and L2 hit: the same few URLs again and again. L1 is pixproxy's memory cache; for L2
 * pixproxy restarts with a 0 MB L1 on the same fs cache directory, so every request reads
 * the fs store. Baselines get the very same bytes: a bare node:http server sending them from
 * memory, and nginx serving them as static files (the hit baselines are measured once per
 * bench run and shared by both scenarios).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { emptyResult, fmtMs, fmtRatio, ratio, type Row, type ScenarioResult } from '../report.js';
import { get, promSum } from '../lib/http.js';
import { freePort, sleep } from '../lib/proc.js';
import { startNginx } from '../nginx.js';
import { startBaseline, startNext, startPixproxy, type Server } from '../servers.js';
import { optional, startImageFilter } from './miss.js';
import { measure, unreliable, warm, type Ctx, type MeasureSpec } from './context.js';
import { DEFAULT_L1_MB, MIX, originBase, pixproxyCacheDir, profileDir } from './shared.js';

export const HIT_CONNECTIONS = 16;
/** The L1 target holds at 64 connections too (pixproxy and bare node:http measured again there). */
export const HIT_CONNECTIONS_HIGH = 64;
const HIT_PATTERN = '/insecure/rs:fit:300:300/plain/{origin}/{src}@{ext}';
const BASELINE_PATTERN = '/hit-{i}.{ext}';

/** Fields node:http adds by itself (the bare server's too): left out of the comparison and the copy. */
const TRANSPORT_FIELDS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

/** An answer's header list without the transport fields, as name/value pairs in wire order. */
export function answerHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (!TRANSPORT_FIELDS.has((raw[i] ?? '').toLowerCase())) out.push(raw[i] ?? '', raw[i + 1] ?? '');
  return out;
}

/** The header names of two answers differ? Describes how; null when the same list (ids aside). */
function headerDifference(a: readonly string[], b: readonly string[]): string | null {
  const names = (h: readonly string[]) => h.filter((_, i) => i % 2 === 0).join(', ');
  const values = (h: readonly string[]) => h.map((v, i) => (h[i - 1] === 'X-Request-ID' || h[i - 1] === 'X-Cache' ? '*' : v)).join('\n');
  if (names(a) !== names(b)) return `pixproxy: ${names(a)}; bare: ${names(b)}`;
  return values(a) === values(b) ? null : 'same names, different values';
}

function hitPaths(ctx: Ctx): string[] {
  return MIX.map((s) => HIT_PATTERN.replace('{origin}', originBase(ctx)).replace('{src}', s.name).replace('{ext}', s.ext));
}

/** GETs `path` until the answer is a cache hit by `header` (the peers' own hit markers). */
async function warmPeer(server: Server, path: string, header: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const r = await get(server.url + path);
    if (r.status !== 200) throw new Error(`${server.name}: GET ${path} → ${r.status} ${r.body.toString().slice(0, 200)}`);
    if (String(r.headers[header]).toUpperCase() === 'HIT') return;
    await sleep(100);
  }
  throw new Error(`${server.name}: GET ${path} never answered ${header}: HIT`);
}

/**
 * Measures (once per bench run) bare node:http and nginx on the files in `dir`, and the peers'
 * own caches on the same three results: Next.js 16's image cache and nginx proxy_cache in
 * front of image_filter (both fetch the source once, then answer from their disk cache).
 * Returned as [bare, nginx static?, peers…].
 */
async function hitBaselines(ctx: Ctx, dir: string, pixHeaders: readonly string[]): Promise<Row[]> {
  if (ctx.hitBaselines) return ctx.hitBaselines.rows;
  const servers: Server[] = [];
  try {
    const bare = await startBaseline(ctx.env, 'bare', dir);
    servers.push(bare);
    const specs: MeasureSpec[] = [{ server: bare, kind: 'baseline', pattern: BASELINE_PATTERN, mode: 'cycle', k: MIX.length, sources: MIX }];
    for (let i = 0; i < MIX.length; i++) await warm(bare, `/hit-${i}.${MIX[i]?.ext ?? 'jpg'}`);
    const sent = answerHeaders((await get(`${bare.url}/hit-0.${MIX[0]?.ext ?? 'jpg'}`)).rawHeaders);
    const diff = headerDifference(pixHeaders, sent);
    if (ctx.tools.has('nginx')) {
      const port = await freePort();
      const proc = await startNginx({ dir: join(ctx.workDir, 'nginx'), port, filesFrom: dir });
      const nginx: Server = { name: 'nginx static', url: `http://127.0.0.1:${port}`, port, proc, withChildren: true, stop: () => proc.stop() };
      servers.push(nginx);
      specs.push({ server: nginx, kind: 'baseline', pattern: BASELINE_PATTERN, mode: 'cycle', k: MIX.length, sources: MIX });
      for (let i = 0; i < MIX.length; i++) await warm(nginx, `/hit-${i}.${MIX[i]?.ext ?? 'jpg'}`);
      const pattern = '/resize/300x300/{src}';
      const filter = !ctx.tools.has('nginx-image-filter') ? null : await optional(ctx, 'nginx image_filter', async () => {
        const srv = await startImageFilter(ctx);
        servers.push(srv);
        for (const s of MIX) await warmPeer(srv, pattern.replace('{src}', s.name), 'x-cache');
        return srv;
      });
      if (filter) specs.push({ server: filter, kind: 'peer', note: 'proxy_cache hit', pattern, mode: 'cycle', k: MIX.length, sources: MIX });
    } else ctx.log('  nginx is not available: skipping the nginx baselines');
    const nextPattern = `/_next/image?url=${encodeURIComponent(`${originBase(ctx)}/`)}{src}&w=300&q=80`;
    const next = await optional(ctx, 'Next.js 16', async () => {
      const srv = await startNext(ctx.env, ctx.origin.port);
      servers.push(srv);
      for (const s of MIX) await warmPeer(srv, nextPattern.replace('{src}', s.name), 'x-nextjs-cache');
      return srv;
    });
    if (next) specs.push({ server: next, kind: 'peer', note: 'image cache hit', pattern: nextPattern, mode: 'cycle', k: MIX.length, sources: MIX });
    const rows = await measure(ctx, specs, { connections: HIT_CONNECTIONS });
    const high = await measure(ctx, [specs[0] as MeasureSpec], { connections: HIT_CONNECTIONS_HIGH });
    ctx.hitBaselines = { rows, high: high[0], headerDifference: diff };
    return rows;
  } finally {
    for (const s of servers) await s.stop();
  }
}

export async function hitScenario(ctx: Ctx, layer: 'L1' | 'L2'): Promise<ScenarioResult> {
  const id = layer === 'L1' ? 'l1-hit' : 'l2-hit';
  const result = emptyResult(
    id,
    layer === 'L1' ? 'L1 hit — memory cache' : 'L2 hit — fs cache (L1 = 0 MB)',
    `The same ${MIX.length} results (300 px fits of the three sources, ${MIX.length} different sizes of body) requested in turn by ${HIT_CONNECTIONS} connections. Baselines send the same bytes: bare node:http from memory, nginx from files.`,
  );
  const expect = layer === 'L1' ? 'HIT-L1' : 'HIT-L2';
  let pix: Server | undefined;
  try {
    const profile = ctx.opts.profile ? { profileDir: profileDir(ctx, id) } : {};
    pix = await startPixproxy(ctx.env, { cacheDir: pixproxyCacheDir(ctx), ...(layer === 'L2' ? { memoryMb: 0 } : {}), ...profile });
    const hitDir = join(ctx.workDir, 'hits');
    mkdirSync(hitDir, { recursive: true });
    const paths = hitPaths(ctx);
    const sizes: number[] = [];
    let pixHeaders: string[] = [];
    for (const [i, path] of paths.entries()) {
      await warm(pix, path);
      const r = await warm(pix, path, expect);
      sizes.push(r.body.length);
      const file = join(hitDir, `hit-${i}.${MIX[i]?.ext ?? 'jpg'}`);
      writeFileSync(file, r.body);
      // The bare baseline sends pixproxy's very headers (bench/baselines/bare-server.ts).
      const sent = answerHeaders(r.rawHeaders);
      if (i === 0) pixHeaders = sent;
      writeFileSync(`${file}.headers.json`, JSON.stringify(sent));
    }
    result.facts.push(['body sizes', sizes.map((s) => `${(s / 1024).toFixed(1)} KB`).join(', ')]);
    const metricsBefore = (await get(`${pix.url}/metrics`)).body.toString();
    const pixSpec: MeasureSpec = { server: pix, kind: 'pixproxy', pattern: HIT_PATTERN.replace('{origin}', originBase(ctx)), mode: 'cycle', k: MIX.length, sources: MIX };
    const [pixRow] = await measure(ctx, [pixSpec], { connections: HIT_CONNECTIONS });
    const [pixHigh] = await measure(ctx, [pixSpec], { connections: HIT_CONNECTIONS_HIGH });
    const metricsAfter = (await get(`${pix.url}/metrics`)).body.toString();
    const transforms = promSum(metricsAfter, 'transforms_total') - promSum(metricsBefore, 'transforms_total');
    result.facts.push(['transforms during the pixproxy runs', `${transforms} (expected 0)`]);
    await pix.stop();
    pix = undefined;
    const baselines = await hitBaselines(ctx, hitDir, pixHeaders);
    const bare = baselines[0];
    const nginx = baselines.find((r) => r.server === 'nginx static');
    const diff = ctx.hitBaselines?.headerDifference;
    result.facts.push(['bare node:http sends pixproxy\'s headers', diff === null ? 'yes: the same names, order and values (the request id aside)' : `NO — ${diff ?? 'not checked'}`]);
    if (pixRow) result.rows.push(pixRow);
    result.rows.push(...baselines);
    const bareHigh = ctx.hitBaselines?.high;
    if (pixHigh) result.rows.push(pixHigh);
    if (bareHigh) result.rows.push(bareHigh);
    const rh = ratio(pixHigh?.reqPerSec, bareHigh?.reqPerSec);
    for (const peer of baselines.filter((r) => r.kind === 'peer')) {
      const rp = ratio(pixRow?.reqPerSec, peer.reqPerSec);
      result.targets.push({ target: `${id} ahead of ${peer.server} (${peer.note ?? ''})`, measured: fmtRatio(rp), met: !unreliable(pixRow) && !unreliable(peer) && rp !== null ? rp > 1 : null });
    }
    result.memory = { peakRssMb: pixRow?.peakRssMb ?? null, l1BudgetMb: layer === 'L1' ? DEFAULT_L1_MB : 0 };
    const rb = ratio(pixRow?.reqPerSec, bare?.reqPerSec);
    const rn = ratio(pixRow?.reqPerSec, nginx?.reqPerSec);
    const ok = !unreliable(pixRow);
    if (layer === 'L1') {
      result.targets.push(
        { target: `L1-hit ≥ 0.9× bare node:http (same headers), ${HIT_CONNECTIONS} connections`, measured: fmtRatio(rb), met: ok && rb !== null && !unreliable(bare) ? rb >= 0.9 : null },
        { target: `L1-hit ≥ 0.9× bare node:http (same headers), ${HIT_CONNECTIONS_HIGH} connections`, measured: fmtRatio(rh), met: !unreliable(pixHigh) && rh !== null && !unreliable(bareHigh) ? rh >= 0.9 : null },
        { target: 'L1-hit vs nginx (reported)', measured: fmtRatio(rn), met: null },
        { target: `L1-hit p99 ≤ 5 ms at ${HIT_CONNECTIONS} connections`, measured: pixRow ? `${fmtMs(pixRow.p99Ms)} ms` : '–', met: ok && pixRow ? pixRow.p99Ms <= 5 : null },
      );
    } else {
      result.targets.push(
        { target: 'L2 (fs) hit ≥ 0.6× bare node:http (same headers)', measured: fmtRatio(rb), met: ok && rb !== null && !unreliable(bare) ? rb >= 0.6 : null },
        { target: 'L2-hit vs nginx (reported)', measured: fmtRatio(rn), met: null },
      );
    }
    return result;
  } finally {
    await pix?.stop();
    if (ctx.opts.profile) ctx.profiles.push({ scenario: id, dir: profileDir(ctx, id) });
  }
}
