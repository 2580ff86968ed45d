/**
 * Small things the scenarios share: the source mix, the origin's base URL, cache paths.
 */
import { join } from 'node:path';
import type { Source } from '../lib/pattern.js';
import { getJson } from '../lib/http.js';
import type { Ctx } from './context.js';

/** The workload mix: 12 MP JPEG, 2 MP PNG with alpha, 1 MP JPEG, in turn; output keeps the format. */
export const MIX: readonly Source[] = [
  { name: 'big.jpg', ext: 'jpg' },
  { name: 'alpha.png', ext: 'png' },
  { name: 'photo.jpg', ext: 'jpg' },
];

/** pixproxy's default L1 budget (PP_CACHE_MEMORY_MAX_MB), used when a scenario does not set one. */
export const DEFAULT_L1_MB = 256;

export function originBase(ctx: Ctx): string {
  return `http://127.0.0.1:${ctx.origin.port}`;
}

/** The cache directory shared by miss, origin-hit, L1-hit, L2-hit and stampede. */
export function pixproxyCacheDir(ctx: Ctx): string {
  return join(ctx.workDir, 'pixproxy-cache');
}

export interface OriginStats {
  total: number;
  path: number;
  prefix: Record<string, number>;
}

/** GET counts at the origin (see bench/baselines/origin-server.ts). */
export function originStats(ctx: Ctx, path = ''): Promise<OriginStats> {
  return getJson<OriginStats>(`${ctx.origin.url}/__stats?path=${encodeURIComponent(path)}`);
}

/** Where pixproxy writes its CPU profiles for one scenario of this run. */
export function profileDir(ctx: Ctx, scenario: string): string {
  return join(ctx.resultsDir, 'prof', `${ctx.runId}-${scenario}`);
}
