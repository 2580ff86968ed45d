/**
 * miss: every request is a new variant of a never-seen source URL (`/v/<n>/` at the origin),
 * so pixproxy fetches, processes and stores each one. Baselines, each fetching from the same
 * origin under its own prefix: a bare sharp server that fetches and transforms (the target's
 * yardstick), ipx, the Next.js 16 image optimizer (its widths are a fixed list: 640 px of a
 * new source each time), nginx `image_filter` behind `proxy_cache`; and, for context, the
 * sharp server on bytes already in memory (the physical limit). Sources rotate over the
 * 12 MP JPEG, the 2 MP PNG with alpha and the 1 MP JPEG.
 */
import { join } from 'node:path';
import { emptyResult, fmtRatio, ratio, type ScenarioResult } from '../report.js';
import { freePort } from '../lib/proc.js';
import { startNginxImageFilter } from '../nginx.js';
import { startBaseline, startNext, startPixproxy, type Server } from '../servers.js';
import { measure, unreliable, warmSpecs, type Ctx, type MeasureSpec } from './context.js';
import { DEFAULT_L1_MB, MIX, originBase, originStats, pixproxyCacheDir, profileDir } from './shared.js';

export const MISS_CONNECTIONS = 4;

export async function missScenario(ctx: Ctx): Promise<ScenarioResult> {
  const result = emptyResult(
    'miss',
    'miss — fetch + transform + store, every request new',
    `Each request a distinct source URL, at the same sequence of sizes for every server; ${MISS_CONNECTIONS} in flight. Baselines: sharp on bytes in memory (physical limit) and ipx (fetches from the same origin).`,
  );
  const o = originBase(ctx);
  const servers: Server[] = [];
  try {
    const pix = await startPixproxy(ctx.env, { cacheDir: pixproxyCacheDir(ctx), ...(ctx.opts.profile ? { profileDir: profileDir(ctx, 'miss') } : {}) });
    servers.push(pix);
    const sharpSrv = await startBaseline(ctx.env, 'sharp', ctx.srcDir);
    servers.push(sharpSrv);
    const sharpFetch = await startBaseline(ctx.env, 'sharp', ctx.srcDir, [o], 'bare sharp, fetching');
    servers.push(sharpFetch);
    const ipx = await startBaseline(ctx.env, 'ipx', ctx.srcDir);
    servers.push(ipx);
    const specs: MeasureSpec[] = [
      { server: pix, kind: 'pixproxy', pattern: `/insecure/rs:fit:{w}:{h}/plain/${o}/v/{n}/{src}@{ext}`, mode: 'seq', sources: MIX },
      { server: sharpFetch, kind: 'baseline', pattern: '/fetch/s/{n}/{src}?w={w}&h={h}&f={ext}', mode: 'seq', sources: MIX },
      { server: sharpSrv, kind: 'baseline', note: 'bytes in memory', pattern: '/v/{n}/{src}?w={w}&h={h}&f={ext}', mode: 'seq', sources: MIX },
      { server: ipx, kind: 'peer', pattern: `/s_{w}x{h},fit_inside,f_{ext},q_80/${o}/x/{n}/{src}`, mode: 'seq', sources: MIX },
    ];
    const next = await optional(ctx, 'Next.js 16', () => startNext(ctx.env, ctx.origin.port));
    if (next) {
      servers.push(next);
      specs.push({ server: next, kind: 'peer', note: '640 px', pattern: `/_next/image?url=${encodeURIComponent(`${o}/n/`)}{n}%2F{src}&w=640&q=80`, mode: 'seq', sources: MIX });
    }
    const nginx = ctx.tools.has('nginx-image-filter') ? await optional(ctx, 'nginx image_filter', () => startImageFilter(ctx)) : null;
    if (nginx) {
      servers.push(nginx);
      specs.push({ server: nginx, kind: 'peer', note: 'libgd', pattern: '/resize/{w}x{h}/g/{n}/{src}', mode: 'seq', sources: MIX });
    }
    await warmSpecs(specs, 3, ctx.log);
    const before = await originStats(ctx);
    const rows = await measure(ctx, specs, { connections: MISS_CONNECTIONS });
    const after = await originStats(ctx);
    result.rows.push(...rows);
    const [pixRow, fetchRow] = rows;
    const ipxRow = rows.find((r) => r.server === 'ipx');
    const nextRow = rows.find((r) => r.server === 'Next.js 16');
    const fetched = (after.prefix.v ?? 0) - (before.prefix.v ?? 0);
    if (pixRow) result.facts.push(['upstream fetches by pixproxy during its runs', `${fetched} for ${pixRow.requests} completed requests (expected about equal: wrk does not count requests cut off at the end)`]);
    result.memory = { peakRssMb: pixRow?.peakRssMb ?? null, l1BudgetMb: DEFAULT_L1_MB };
    const rs = ratio(pixRow?.reqPerSec, fetchRow?.reqPerSec);
    const ri = ratio(pixRow?.reqPerSec, ipxRow?.reqPerSec);
    const rn = ratio(pixRow?.reqPerSec, nextRow?.reqPerSec);
    const ok = !unreliable(pixRow);
    result.targets.push(
      { target: 'miss ≥ 0.9× bare sharp server fetching from the same origin', measured: fmtRatio(rs), met: ok && rs !== null && !unreliable(fetchRow) ? rs >= 0.9 : null },
      { target: 'miss > ipx', measured: fmtRatio(ri), met: ok && ri !== null && !unreliable(ipxRow) ? ri > 1 : null },
      { target: 'miss > Next.js 16', measured: fmtRatio(rn), met: ok && rn !== null && !unreliable(nextRow) ? rn > 1 : null },
    );
    return result;
  } finally {
    for (const s of servers) await s.stop();
    if (ctx.opts.profile) ctx.profiles.push({ scenario: 'miss', dir: profileDir(ctx, 'miss') });
  }
}

/** Starts a peer that may be missing or fail (its row is then left out, with a note in the log). */
export async function optional(ctx: Ctx, name: string, start: () => Promise<Server>): Promise<Server | null> {
  try {
    return await start();
  } catch (err) {
    ctx.log(`  ${name} left out: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    return null;
  }
}

/** nginx image_filter + proxy_cache (bench/nginx.ts) over the shared origin. */
export async function startImageFilter(ctx: Ctx): Promise<Server> {
  const port = await freePort();
  const backPort = await freePort();
  const proc = await startNginxImageFilter({ dir: join(ctx.workDir, 'nginx-image-filter'), port, backPort, originPort: ctx.origin.port });
  return { name: 'nginx image_filter', url: `http://127.0.0.1:${port}`, port, proc, withChildren: true, stop: () => proc.stop() };
}
