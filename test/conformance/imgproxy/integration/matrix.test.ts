/**
 * Port of imgproxy's integration_test/matrix_test.go (TestMatrix): every image of every
 * source-format folder converted, unprocessed, to every output format
 * (`/insecure/plain/local:///<folder>/<file>@<target>`). Like upstream, raster → SVG is
 * skipped and so is SVG as a target (libvips saves no SVG). One case per cell and file:
 * `TestMatrix/<source>/<target>/<file>`.
 *
 * It runs over our generated stand-ins (fixtures.ts), and again over imgproxy's own
 * test-images when IMGPROXY_TEST_IMAGES points at a checkout of
 * https://github.com/imgproxy/test-images (`TestMatrixRealImages`). imgproxy's result hashes
 * cannot be reused; a cell passes when the answer is 200, in the target format, of the
 * source's size (ICO: fitted into 256×256, imgproxy's limit), and looks like the source
 * (mean channel difference against its truth at 64×64).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect } from 'vitest';
import sharp from 'sharp';
import { pixelDistance } from '../../../helpers/phash.js';
import { toPng, sniff } from '../decode.js';
import { fixturesRoot } from '../fixtures.js';
import { expectStatus, get, port, serverPool } from '../harness.js';
import { servertestEnv } from '../processing/suite.js';

const SOURCES = ['gif', 'jpeg', 'heic', 'jxl', 'svg', 'tiff', 'webp', 'bmp', 'ico'] as const;
const TARGETS = ['gif', 'jpeg', 'heic', 'jxl', 'tiff', 'webp', 'bmp', 'ico'] as const;
const FOLDER: Record<string, string> = { heic: 'heif', jpeg: 'jpg' };
/** Mean absolute channel difference (0–255) at which a result no longer shows its source. */
const MAX_DISTANCE = 24;

/** The files of each source folder, as imgproxy's test-images has them. */
const FILES: Record<(typeof SOURCES)[number], string[]> = {
  gif: ['gif.gif'],
  jpeg: ['jpg.jpg'],
  heic: ['8-bpp.heif', 'heif.heif'],
  jxl: ['1-bpp.jxl', '16-bpp-grayscale.jxl', '16-bpp.jxl', '8-bpp-grayscale.jxl', '8-bpp-isobmff.jxl', '8-bpp.jxl', 'jxl.jxl'],
  svg: ['svg.svg'],
  tiff: ['16-bpp-grayscale.tiff', '16-bpp.tiff', '32-bpp-linear.tiff', '4-bpp-grayscale.tiff', '8-bpp-grayscale.tiff', '8-bpp.tiff', 'tiff.tiff'],
  webp: ['webp.webp'],
  bmp: ['1-bpp.bmp', '16-bpp.bmp', '24-bpp-no-alpha-mask.bmp', '24-bpp.bmp', '32-bpp-with-alpha-self-gen.bmp', '32-bpp-with-alpha.bmp', '4-bpp.bmp', '8-bpp-rle-move-to-x.bmp', '8-bpp-rle-single-color.bmp', '8-bpp-rle-small.bmp', '8-bpp-rle.bmp', '8-bpp.bmp'],
  ico: ['multi-bmp.ico', 'multi-png.ico', 'png-256x256.ico', 'single-bmp.ico'],
};

/** Cells we fail today, by source / target / file (an entry per source or per target applies to all its cells). */
export const MATRIX_GAPS: Record<string, string> = {
};

/** imgproxy's own files differ from our stand-ins where these say. */
const REAL_GAPS: Record<string, string> = {
};

function gapFor(table: Record<string, string>, source: string, target: string, file: string): string | undefined {
  return table[`${source}/${target}/${file}`] ?? table[`${source}/*/${file}`] ?? table[`${source}/${target}`] ?? table[`${source}/*`] ?? table[`*/${target}`];
}

/** The truth a result is compared with: the stand-in's ref, else the source decoded here. */
async function truth(root: string, folder: string, file: string, generated: boolean): Promise<Buffer | null> {
  const ref = join(root, 'ref', folder, `${file}.png`);
  if (generated && existsSync(ref)) return readFileSync(ref);
  return toPng(readFileSync(join(generated ? join(root, 'test-images') : root, folder, file)));
}

/** GIF keeps 1-bit transparency: the truth of a GIF result has its alpha cut at 50 %. */
async function binaryAlpha(png: Buffer): Promise<Buffer> {
  const { data, info } = await sharp(png).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  for (let i = 3; i < data.length; i += 4) data[i] = (data[i] ?? 0) >= 128 ? 255 : 0;
  return sharp(data, { raw: { width: info.width, height: info.height, channels: 4 } }).png().toBuffer();
}

function matrix(name: string, rootOf: () => Promise<string | null>, generated: boolean, gaps: Record<string, string>): void {
  describe(name, () => {
    let root: string | null = null;
    beforeAll(async () => {
      root = await rootOf();
    }, 300_000);
    const servers = serverPool(() => ({ ...servertestEnv(generated ? join(root ?? '', 'test-images') : (root ?? '')), IMGPROXY_MAX_ANIMATION_FRAMES: '999',
      // HEIC is written by x265 in a child process: slow on a loaded machine, and speed is the bench's business.
      IMGPROXY_TIMEOUT: '120' }));
    for (const source of SOURCES) {
      const folder = FOLDER[source] ?? source;
      for (const target of TARGETS) {
        for (const file of FILES[source]) {
          port(`TestMatrix/${source}/${target}/${file}`, gapFor(gaps, source, target, file), async (ctx) => {
            if (!root || !existsSync(join(generated ? join(root, 'test-images') : root, folder, file))) {
              ctx.skip(`no ${folder}/${file} here (generated HEIC and JPEG XL need heif-enc and ffmpeg)`);
              return;
            }
            const path = `/insecure/plain/local:///${folder}/${file}@${target}`;
            const reply = await get(await servers.get(), path);
            expectStatus(reply, 200, path);
            expect(sniff(reply.body)).toBe(target);
            const expected = await truth(root, folder, file, generated);
            const got = await toPng(reply.body);
            expect(got, 'result decodes').not.toBeNull();
            if (!expected || !got) return;
            const [src, res] = await Promise.all([sharp(expected).metadata(), sharp(got).metadata()]);
            const fit = target === 'ico' ? Math.min(1, 256 / Math.max(src.width ?? 0, src.height ?? 0)) : 1;
            expect(Math.abs((res.width ?? 0) - Math.round((src.width ?? 0) * fit))).toBeLessThanOrEqual(1);
            expect(Math.abs((res.height ?? 0) - Math.round((src.height ?? 0) * fit))).toBeLessThanOrEqual(1);
            expect(await pixelDistance(got, target === 'gif' ? await binaryAlpha(expected) : expected)).toBeLessThan(MAX_DISTANCE);
          }, 60_000);
        }
      }
    }
  });
}

const REAL = process.env.IMGPROXY_TEST_IMAGES;

describe('TestMatrix', () => {
  matrix('TestMatrix', fixturesRoot, true, MATRIX_GAPS);
  if (REAL && existsSync(REAL) && readdirSync(REAL).length > 0) matrix('TestMatrixRealImages', async () => REAL, false, REAL_GAPS);
});
