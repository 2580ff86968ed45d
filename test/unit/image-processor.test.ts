// createImageProcessor: the library entry (bytes + imgproxy options → result), no server.
import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { loadConfig } from '../../src/config/index.js';
import { createImageProcessor } from '../../src/image-processor.js';
import { rejection } from '../helpers/errors.js';
import { makePhoto } from '../helpers/images.js';

describe('createImageProcessor', () => {
  const processImage = createImageProcessor();

  it('applies imgproxy options and encodes the asked format', async () => {
    const out = await processImage(await makePhoto(400, 300), 'rs:fill:100:50/f:webp');
    expect(out).toMatchObject({ format: 'webp', width: 100, height: 50, originWidth: 400, originHeight: 300 });
    expect(await sharp(out.data).metadata()).toMatchObject({ format: 'webp', width: 100, height: 50 });
  });

  it('takes option segments as an array and keeps the source format by default', async () => {
    const out = await processImage(await makePhoto(400, 300, 'png'), ['w:200']);
    expect(out).toMatchObject({ format: 'png', width: 200, height: 150 });
  });

  it('expands presets of its configuration, the default one included', async () => {
    const withPresets = createImageProcessor(loadConfig({ IMGPROXY_PRESETS: 'default=q:50,thumb=rs:fill:32:32' }));
    expect(await withPresets(await makePhoto(400, 300), 'pr:thumb')).toMatchObject({ width: 32, height: 32 });
  });

  it('refuses what is not an option, an unknown option and bytes that are no image', async () => {
    const photo = await makePhoto(40, 30);
    expect((await rejection(processImage(photo, 'w:10/plain/x'))).code).toBe('INVALID_URL');
    expect((await rejection(processImage(photo, 'nope:1'))).code).toBe('INVALID_URL');
    expect((await rejection(processImage(Buffer.from('not an image at all'), 'w:10'))).code).toBe('INVALID_IMAGE');
  });
});
