/**
 * src/modules/transform/test_helpers.rs (https://github.com/ViGrise/previewproxy): its one test
 * checks the animated-GIF fixture; ours checks our generator of the same fixture.
 */
import sharp from 'sharp';
import { describe, expect } from 'vitest';
import { ported } from '../../harness.js';
import { tinyGifAnim } from '../fixtures.js';

describe('src/modules/transform/test_helpers.rs', () => {
  ported('test_tiny_gif_anim_has_three_frames', async () => {
    expect((await sharp(await tinyGifAnim()).metadata()).pages).toBe(3);
  });
});
