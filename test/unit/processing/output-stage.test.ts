// The output stage through the processor: metadata kept or stripped, the colour profile tag,
// 16-bit output, quality and max_bytes.
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { photoJpeg, png16 } from '../../fixtures/generate.js';
import { testProcessor } from '../../helpers/processor.js';

const { run, opts } = testProcessor();

let jpeg: Buffer;
beforeAll(async () => {
  jpeg = await photoJpeg();
});

describe('metadata, colour profile, depth, quality', () => {
  it('keep_copyright keeps EXIF Copyright/Artist, strip_metadata removes the rest', async () => {
    const src = await sharp(jpeg).withExif({ IFD0: { Copyright: 'ACME 2024', Artist: 'Jo', Make: 'Cam' } }).jpeg().toBuffer();
    const kept = await run(src, opts(), {});
    const exif = (await sharp(kept.data).metadata()).exif?.toString('latin1') ?? '';
    expect(exif).toContain('ACME 2024');
    expect(exif).not.toContain('Cam');
    const stripped = await run(src, opts({ keepCopyright: false }), {});
    expect((await sharp(stripped.data).metadata()).exif?.toString('latin1') ?? '').not.toContain('ACME');
    const all = await run(src, opts({ stripMetadata: false }), {});
    expect((await sharp(all.data).metadata()).exif?.toString('latin1') ?? '').toContain('Cam');
  });

  it('strip_color_profile=false tags the result as sRGB; default has no profile', async () => {
    expect((await sharp((await run(jpeg, opts(), {})).data).metadata()).hasProfile).toBe(false);
    expect((await sharp((await run(jpeg, opts({ stripColorProfile: false }), {})).data).metadata()).hasProfile).toBe(true);
  });

  it('preserve_hdr keeps 16 bits, otherwise 8', async () => {
    const src = await png16();
    expect((await sharp((await run(src, opts({ preserveHdr: true }), {})).data).metadata()).depth).toBe('ushort');
    expect((await sharp((await run(src, opts(), {})).data).metadata()).depth).toBe('uchar');
  });

  it('quality: lower q gives smaller JPEG; max_bytes fits the budget', async () => {
    const big = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#777', noise: { type: 'gaussian', mean: 128, sigma: 60 } } })
      .png()
      .toBuffer();
    const q90 = await run(big, opts({ format: 'jpeg', quality: 90 }), {});
    const q30 = await run(big, opts({ format: 'jpeg', quality: 30 }), {});
    expect(q30.data.length).toBeLessThan(q90.data.length);
    const fit = await run(big, opts({ format: 'jpeg', quality: 90, maxBytes: Math.floor(q90.data.length / 2) }), {});
    expect(fit.data.length).toBeLessThanOrEqual(Math.floor(q90.data.length / 2));
  });
});
