/**
 * origin hit: new variants (a new `cb:{n}` each, at the sizes every server gets) of sources
 * pixproxy has already fetched, so the source comes from the origin sub-store instead of the
 * network; only the transform remains. Baseline: the same transforms in the bare sharp server.
 */
import { emptyResult, fmtRatio, ratio, type ScenarioResult } from '../report.js';
import { startBaseline, startPixproxy, type Server } from '../servers.js';
import { measure, unreliable, warm, warmSpecs, type Ctx, type MeasureSpec } from './context.js';
import { DEFAULT_L1_MB, MIX, originBase, originStats, pixproxyCacheDir, profileDir } from './shared.js';
import { MISS_CONNECTIONS } from './miss.js';

export async function originHitScenario(ctx: Ctx): Promise<ScenarioResult> {
  const result = emptyResult(
    'origin-hit',
    'origin hit — transform only, source from the origin sub-store',
    `Each request a new variant of an already-fetched source; ${MISS_CONNECTIONS} in flight. Baseline: sharp on bytes in memory.`,
  );
  const o = originBase(ctx);
  const servers: Server[] = [];
  try {
    const pix = await startPixproxy(ctx.env, { cacheDir: pixproxyCacheDir(ctx), ...(ctx.opts.profile ? { profileDir: profileDir(ctx, 'origin-hit') } : {}) });
    servers.push(pix);
    const sharpSrv = await startBaseline(ctx.env, 'sharp', ctx.srcDir);
    servers.push(sharpSrv);
    // Fetch every source once so that the measured requests find it in the origin sub-store.
    for (const s of MIX) await warm(pix, `/insecure/rs:fit:64:64/plain/${o}/${s.name}@${s.ext}`);
    const specs: MeasureSpec[] = [
      { server: pix, kind: 'pixproxy', pattern: `/insecure/rs:fit:{w}:{h}/cb:{n}/plain/${o}/{src}@{ext}`, mode: 'seq', sources: MIX },
      { server: sharpSrv, kind: 'baseline', pattern: '/{src}?w={w}&h={h}&f={ext}', mode: 'seq', sources: MIX },
    ];
    await warmSpecs(specs, 3);
    const before = await originStats(ctx);
    const rows = await measure(ctx, specs, { connections: MISS_CONNECTIONS });
    const after = await originStats(ctx);
    result.rows.push(...rows);
    const [pixRow, sharpRow] = rows;
    const fetches = after.total - before.total;
    result.facts.push(['upstream fetches during the pixproxy runs', `${fetches} (expected 0)`]);
    if (fetches > 0) result.notes.push('The origin was contacted during an origin-hit run: the origin sub-store did not serve (or revalidated) the source.');
    result.memory = { peakRssMb: pixRow?.peakRssMb ?? null, l1BudgetMb: DEFAULT_L1_MB };
    const r = ratio(pixRow?.reqPerSec, sharpRow?.reqPerSec);
    result.targets.push({ target: 'origin-hit ≥ 0.95× sharp loop', measured: fmtRatio(r), met: !unreliable(pixRow) && !unreliable(sharpRow) && r !== null ? r >= 0.95 : null });
    return result;
  } finally {
    for (const s of servers) await s.stop();
    if (ctx.opts.profile) ctx.profiles.push({ scenario: 'origin-hit', dir: profileDir(ctx, 'origin-hit') });
  }
}
