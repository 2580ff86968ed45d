/**
 * Port of imgproxy's processing/rotate_and_flip_test.go (TestRotateAndFlip) on
 * orientation-0…7.png (the same pixels, EXIF orientation none, 3, 2, 3, 4, 5, 6, 7 as
 * libvips reads imgproxy's files): with auto_rotate off every file gives the same result;
 * with it on each differs from the previous; every rotate × flip step changes the result.
 * imgproxy compares SHA-256 hashes of decoded pixels, and so do we.
 * https://github.com/imgproxy/imgproxy/blob/master/processing/rotate_and_flip_test.go
 */
import { createHash } from 'node:crypto';
import { describe, expect } from 'vitest';
import sharp from 'sharp';
import { options, ported } from '../harness.js';
import { processingSuite } from './suite.js';

const suite = processingSuite();
const IMAGES = Array.from({ length: 8 }, (_, i) => `orientation-${i}.png`);

interface Case {
  rotate: number;
  flipH: boolean;
  flipV: boolean;
  autoRotate: boolean;
}

/** rotateAndFlipTestCase.URLOptions (flip's two arguments share one option). */
function urlOptions(c: Case): string {
  const o: Record<string, (number | undefined)[]> = {};
  if (c.rotate) o.rotate = [c.rotate];
  if (c.flipH || c.flipV) o.flip = [c.flipH ? 1 : undefined, c.flipV ? 1 : undefined];
  if (!c.autoRotate) o.auto_rotate = [0];
  return options(o) || 'q:0';
}

async function hash(image: string, c: Case): Promise<string> {
  const { data, info } = await sharp(await suite.process(urlOptions(c), image)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  return createHash('sha256').update(`${info.width}x${info.height}`).update(data).digest('hex');
}

async function rotationsFlips(image: string, autoRotate: boolean): Promise<string[]> {
  const out: string[] = [];
  for (const rotate of [0, 90, 180, 270]) for (const flipH of [false, true]) for (const flipV of [false, true]) out.push(await hash(image, { rotate, flipH, flipV, autoRotate }));
  return out;
}

function expectEachDiffersFromPrevious(hashes: string[]): void {
  for (let i = 1; i < hashes.length; i++) expect(hashes[i], `step ${i}`).not.toBe(hashes[i - 1]);
}

describe('TestRotateAndFlip', () => {
  ported('TestOrientationAutoRotate', async () => {
    const still = await Promise.all(IMAGES.map((img) => hash(img, { rotate: 0, flipH: false, flipV: false, autoRotate: false })));
    for (const h of still) expect(h).toBe(still[0]);
    const rotated = await Promise.all(IMAGES.map((img) => hash(img, { rotate: 0, flipH: false, flipV: false, autoRotate: true })));
    expectEachDiffersFromPrevious(rotated);
  });

  ported('TestRotateFlip', async () => {
    const all = await Promise.all(IMAGES.map((img) => rotationsFlips(img, false)));
    for (const hashes of all.slice(1)) expect(hashes).toEqual(all[0]);
    for (const hashes of all) expectEachDiffersFromPrevious(hashes);
  }, 120_000);

  ported('TestRotateFlipAutoRotate', async () => {
    const all = await Promise.all(IMAGES.map((img) => rotationsFlips(img, true)));
    for (const hashes of all.slice(1)) hashes.forEach((h, i) => expect(h, `combination ${i}`).not.toBe(all[0]?.[i]));
    for (const hashes of all) expectEachDiffersFromPrevious(hashes);
  }, 120_000);
});
