/**
 * miss: every request is a new variant of a never-seen source URL (`/v/<n>/` at the origin),
 * so pixproxy fetches, processes and stores each one. Baselines: the same transforms in a
 * bare sharp server holding the bytes (the physical limit), and ipx fetching from the same
 * origin. Sources rotate over the 12 MP JPEG, the 2 MP PNG with alpha and the 1 MP JPEG.
 */
import { emptyResult, fmtRatio, ratio, type ScenarioResult } from '../report.js';
import { startBaseline, startPixproxy, type Server } from '../servers.js';
import { measure, unreliable, warmSpecs, type Ctx, type MeasureSpec } from './context.js';
import { DEFAULT_L1_MB, MIX, originBase, originStats, pixproxyCacheDir, profileDir } from './shared.js';

export const MISS_CONNECTIONS = 4;

export async function missScenario(ctx: Ctx): Promise<ScenarioResult> {
  const result = emptyResult(
    'miss',
    'miss — fetch + transform + store, every request new',
    `Each request a distinct variant (unique width/height) of a distinct source URL; ${MISS_CONNECTIONS} in flight. Baselines: sharp on bytes in memory (physical limit) and ipx (fetches from the same origin).`,
  );
  const o = originBase(ctx);
  const servers: Server[] = [];
  try {
    const pix = await startPixproxy(ctx.env, { cacheDir: pixproxyCacheDir(ctx), ...(ctx.opts.profile ? { profileDir: profileDir(ctx, 'miss') } : {}) });
    servers.push(pix);
    const sharpSrv = await startBaseline(ctx.env, 'sharp', ctx.srcDir);
    servers.push(sharpSrv);
    const ipx = await startBaseline(ctx.env, 'ipx', ctx.srcDir);
    servers.push(ipx);
    const specs: MeasureSpec[] = [
      { server: pix, kind: 'pixproxy', pattern: `/insecure/rs:fit:{w}:{h}/plain/${o}/v/{n}/{src}@{ext}`, mode: 'seq', sources: MIX },
      { server: sharpSrv, kind: 'baseline', pattern: '/v/{n}/{src}?w={w}&h={h}&f={ext}', mode: 'seq', sources: MIX },
      { server: ipx, kind: 'baseline', pattern: `/s_{w}x{h},fit_inside,f_{ext},q_80/${o}/x/{n}/{src}`, mode: 'seq', sources: MIX },
    ];
    await warmSpecs(specs, 3);
    const before = await originStats(ctx);
    const rows = await measure(ctx, specs, { connections: MISS_CONNECTIONS });
    const after = await originStats(ctx);
    result.rows.push(...rows);
    const [pixRow, sharpRow, ipxRow] = rows;
    const fetched = (after.prefix.v ?? 0) - (before.prefix.v ?? 0);
    if (pixRow) result.facts.push(['upstream fetches by pixproxy during its runs', `${fetched} for ${pixRow.requests} completed requests (expected about equal: wrk does not count requests cut off at the end)`]);
    result.memory = { peakRssMb: pixRow?.peakRssMb ?? null, l1BudgetMb: DEFAULT_L1_MB };
    const rs = ratio(pixRow?.reqPerSec, sharpRow?.reqPerSec);
    const ri = ratio(pixRow?.reqPerSec, ipxRow?.reqPerSec);
    const ok = !unreliable(pixRow);
    result.targets.push(
      { target: 'miss ≥ 0.9× sharp loop', measured: fmtRatio(rs), met: ok && rs !== null && !unreliable(sharpRow) ? rs >= 0.9 : null },
      { target: 'miss > ipx', measured: fmtRatio(ri), met: ok && ri !== null && !unreliable(ipxRow) ? ri > 1 : null },
    );
    return result;
  } finally {
    for (const s of servers) await s.stop();
    if (ctx.opts.profile) ctx.profiles.push({ scenario: 'miss', dir: profileDir(ctx, 'miss') });
  }
}
