/**
 * IMGPROXY_CACHE_REPORT_ERRORS: a cache that cannot be written is counted and logged (error level
 * or debug), and the request still succeeds.
 * Each test name quotes the statement of the documentation it checks (or its key phrase), through
 * a real server; where that is impossible the test goes through the module and says why.
 *   [imgproxy] imgproxy's internal cache: https://docs.imgproxy.net/cache/internal
 *   [pp]       PreviewProxy's caching overview: https://platform.vigrise.com/docs/open-source-software/previewproxy/caching/caching-overview
 */
import { describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApp } from '../../helpers/app.js';
import { ENV, signed, get, size, captureLogger, useCacheOrigin } from '../../helpers/cache.js';
import { counterTotal } from '../../helpers/metrics.js';

const fixture = useCacheOrigin();

describe('[imgproxy] Configuration', () => {
  for (const report of [true, false]) {
    it(`IMGPROXY_CACHE_REPORT_ERRORS=${report}: "${report ? 'report cache errors instead of silently falling back' : 'silently falling back to processing without cache'}" (${report ? 'error-level log with detail' : 'counted, no error log'}), the request still succeeds`, async () => {
      const dir = await mkdtemp(join(tmpdir(), 'pixproxy-seed-report-'));
      const notADir = join(dir, 'file');
      await writeFile(notADir, 'x');
      const cap = captureLogger('debug');
      const px = await startApp({ ...ENV, PP_CACHE_DIR: notADir, IMGPROXY_CACHE_REPORT_ERRORS: String(report) }, { logger: cap.logger });
      try {
        const r = await get(px, signed(`/w:107/plain/${fixture.origin.url}/a.jpg`));
        expect(r.status).toBe(200);
        expect(await size(r.body)).toEqual([107, 80]);
        await px.app.ctx.cache.flush();
        const errs = await counterTotal(px.app.ctx.metrics.cacheErrors);
        expect(errs).toBeGreaterThan(0);
        const cacheErrorLines = cap.lines.filter((l) => l.level >= 50 && /^cache .* failed$/.test(l.msg ?? ''));
        if (report) {
          expect(cacheErrorLines.length).toBeGreaterThan(0);
          expect(cacheErrorLines[0]).toMatchObject({ layer: expect.any(String) as unknown, op: expect.any(String) as unknown, err: { code: expect.any(String) as unknown } });
        } else {
          expect(cacheErrorLines).toEqual([]);
          expect(cap.lines.some((l) => l.level === 20 && /^cache .* failed$/.test(l.msg ?? ''))).toBe(true);
        }
      } finally {
        await px.stop({ keepCache: true });
        await rm(dir, { recursive: true, force: true });
      }
    });
  }
});
