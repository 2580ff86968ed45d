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
import { freePort } from '../lib/proc.js';
import { startNginx } from '../nginx.js';
import { startBaseline, startPixproxy, type Server } from '../servers.js';
import { measure, unreliable, warm, type Ctx, type MeasureSpec } from './context.js';
import { DEFAULT_L1_MB, MIX, originBase, pixproxyCacheDir, profileDir } from './shared.js';

export const HIT_CONNECTIONS = 16;
const HIT_PATTERN = '/insecure/rs:fit:300:300/plain/{origin}/{src}@{ext}';
const BASELINE_PATTERN = '/hit-{i}.{ext}';

function hitPaths(ctx: Ctx): string[] {
  return MIX.map((s) => HIT_PATTERN.replace('{origin}', originBase(ctx)).replace('{src}', s.name).replace('{ext}', s.ext));
}

/** Measures (once per bench run) bare node:http and nginx on the files in `dir`. */
async function hitBaselines(ctx: Ctx, dir: string): Promise<Row[]> {
  const memoKeys = ['hit:bare', 'hit:nginx'];
  const memoized = memoKeys.map((k) => ctx.memo.get(k)).filter((r): r is Row => r !== undefined);
  if (memoized.length > 0) return memoized;
  const servers: Server[] = [];
  try {
    servers.push(await startBaseline(ctx.env, 'bare', dir));
    if (ctx.tools.has('nginx')) {
      const port = await freePort();
      const proc = await startNginx({ dir: join(ctx.workDir, 'nginx'), port, filesFrom: dir });
      servers.push({ name: 'nginx static', url: `http://127.0.0.1:${port}`, port, proc, withChildren: true, stop: () => proc.stop() });
    } else ctx.log('  nginx is not available: skipping the nginx baseline');
    const specs: MeasureSpec[] = servers.map((server) => ({ server, kind: 'baseline', pattern: BASELINE_PATTERN, mode: 'cycle', k: MIX.length, sources: MIX }));
    for (const s of specs) for (let i = 0; i < MIX.length; i++) await warm(s.server, `/hit-${i}.${MIX[i]?.ext ?? 'jpg'}`);
    const rows = await measure(ctx, specs, { connections: HIT_CONNECTIONS });
    rows.forEach((r, i) => ctx.memo.set(i === 0 ? 'hit:bare' : 'hit:nginx', r));
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
    for (const [i, path] of paths.entries()) {
      await warm(pix, path);
      const r = await warm(pix, path, expect);
      sizes.push(r.body.length);
      writeFileSync(join(hitDir, `hit-${i}.${MIX[i]?.ext ?? 'jpg'}`), r.body);
    }
    result.facts.push(['body sizes', sizes.map((s) => `${(s / 1024).toFixed(1)} KB`).join(', ')]);
    const metricsBefore = (await get(`${pix.url}/metrics`)).body.toString();
    const [pixRow] = await measure(ctx, [{ server: pix, kind: 'pixproxy', pattern: HIT_PATTERN.replace('{origin}', originBase(ctx)), mode: 'cycle', k: MIX.length, sources: MIX }], { connections: HIT_CONNECTIONS });
    const metricsAfter = (await get(`${pix.url}/metrics`)).body.toString();
    const transforms = promSum(metricsAfter, 'transforms_total') - promSum(metricsBefore, 'transforms_total');
    result.facts.push(['transforms during the pixproxy runs', `${transforms} (expected 0)`]);
    await pix.stop();
    pix = undefined;
    const [bare, nginx] = await hitBaselines(ctx, hitDir);
    if (pixRow) result.rows.push(pixRow);
    if (bare) result.rows.push(bare);
    if (nginx) result.rows.push(nginx);
    result.memory = { peakRssMb: pixRow?.peakRssMb ?? null, l1BudgetMb: layer === 'L1' ? DEFAULT_L1_MB : 0 };
    const rb = ratio(pixRow?.reqPerSec, bare?.reqPerSec);
    const rn = ratio(pixRow?.reqPerSec, nginx?.reqPerSec);
    const ok = !unreliable(pixRow);
    if (layer === 'L1') {
      result.targets.push(
        { target: 'L1-hit ≥ 0.9× bare node:http', measured: fmtRatio(rb), met: ok && rb !== null && !unreliable(bare) ? rb >= 0.9 : null },
        { target: 'L1-hit vs nginx (reported)', measured: fmtRatio(rn), met: null },
        { target: `L1-hit p99 ≤ 5 ms at ${HIT_CONNECTIONS} connections`, measured: pixRow ? `${fmtMs(pixRow.p99Ms)} ms` : '–', met: ok && pixRow ? pixRow.p99Ms <= 5 : null },
      );
    } else {
      result.targets.push(
        { target: 'L2 (fs) hit ≥ 0.6× bare node:http', measured: fmtRatio(rb), met: ok && rb !== null && !unreliable(bare) ? rb >= 0.6 : null },
        { target: 'L2-hit vs nginx (reported)', measured: fmtRatio(rn), met: null },
      );
    }
    return result;
  } finally {
    await pix?.stop();
    if (ctx.opts.profile) ctx.profiles.push({ scenario: id, dir: profileDir(ctx, id) });
  }
}
