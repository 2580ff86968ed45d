/**
 * Port of imgproxy's integration_test/svg_test.go (TestSvgSuite): every SVG of a corpus
 * served with sanitising on answers 200 and renders like the original. Upstream it runs
 * only with TEST_SVG_PATH (the svgo test suite, downloaded by hand); here over
 * `$IMGPROXY_TEST_IMAGES/svg-test-suite` (imgproxy's test-images carries the W3C part), or
 * TEST_SVG_PATH, and is skipped without either. Pixels are compared after rendering, since
 * the sanitised text legitimately differs from the source.
 * https://github.com/imgproxy/imgproxy/blob/master/integration_test/svg_test.go
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { startApp } from '../../../helpers/app.js';
import { pixelDistance } from '../../../helpers/phash.js';

const DIR = process.env.TEST_SVG_PATH ?? (process.env.IMGPROXY_TEST_IMAGES ? join(process.env.IMGPROXY_TEST_IMAGES, 'svg-test-suite') : '');
// imgproxy's own ignore list (corrupt files), by base name.
const IGNORE = new Set(['struct-frag-01-t.svg', 'struct-frag-04-t.svg', 'kalarm.svg']);
/**
 * Files of the W3C corpus we fail today, with why. A file that starts passing
 * fails the test until it is taken off this list, like a conformance gap.
 */
const GAPS: Record<string, string> = {};

describe('TestSvgSuite', () => {
  it.skipIf(!DIR || !existsSync(DIR))('TestSvgSuite', async () => {
    const app = await startApp({ IMGPROXY_LOCAL_FILESYSTEM_ROOT: DIR, IMGPROXY_SANITIZE_SVG: 'true', IMGPROXY_MAX_SRC_FILE_SIZE: String(100 * 1024 * 1024) });
    try {
      const failures: string[] = [];
      for (const f of readdirSync(DIR).filter((n) => n.endsWith('.svg') && !IGNORE.has(n))) {
        const res = await fetch(`${app.url}/insecure/plain/local:///${f}`);
        const body = Buffer.from(await res.arrayBuffer());
        if (res.status !== 200) {
          failures.push(`${f}: ${res.status}`);
          continue;
        }
        const a = await sharp(readFileSync(join(DIR, f))).png().toBuffer().catch(() => null);
        const b = await sharp(body).png().toBuffer().catch(() => null);
        if (a && b && (await pixelDistance(a, b)) > 2) failures.push(`${f}: renders differently`);
      }
      expect(failures.map((f) => f.slice(0, f.indexOf(':'))).sort()).toEqual(Object.keys(GAPS).filter((f) => existsSync(join(DIR, f))).sort());
    } finally {
      await app.stop();
    }
  }, 300_000);
});
