// gif_anim frame ranges as PreviewProxy's gif_anim.rs resolves them, under the frame limit.
import { describe, expect, it } from 'vitest';
import { decodableFrames, GIF_ANIM_DEFAULT_FRAMES, planFrames, resolveRange } from '../../../src/processing/animation.js';
import type { FrameRange } from '../../../src/options.js';

describe('resolveRange', () => {
  it.each<[FrameRange, number, { first: number; last: number }]>([
    [{ kind: 'all' }, 3, { first: 0, last: 2 }],
    [{ kind: 'from', first: 1 }, 3, { first: 1, last: 2 }],
    [{ kind: 'range', first: 0, last: 1 }, 3, { first: 0, last: 1 }],
    [{ kind: 'range', first: 1, last: 99 }, 3, { first: 1, last: 2 }],
    [{ kind: 'last', count: 1 }, 3, { first: 2, last: 2 }],
    [{ kind: 'last', count: 99 }, 3, { first: 0, last: 2 }],
  ])('%j of %i frames → %j', (range, total, want) => {
    expect(resolveRange(range, total)).toEqual(want);
  });

  it.each<[FrameRange, RegExp]>([
    [{ kind: 'from', first: 3 }, /start frame out of range/],
    [{ kind: 'range', first: 5, last: 2 }, /X must be <= Y/],
    [{ kind: 'range', first: 99, last: 200 }, /start frame out of range/],
    [{ kind: 'last', count: 0 }, /frame count must be >= 1/],
  ])('%j of 3 frames is a 400', (range, why) => {
    expect(() => resolveRange(range, 3)).toThrow(why);
    try {
      resolveRange(range, 3);
    } catch (err) {
      expect(err).toMatchObject({ code: 'BAD_REQUEST', status: 400 });
    }
  });
});

describe('planFrames', () => {
  it('without gif_af decodes only the range, every frame styled', () => {
    const p = planFrames({ range: { kind: 'range', first: 1, last: 2 }, keepOthers: false }, 5, 1);
    expect([p.page, p.count, p.styled(0), p.styled(1)]).toEqual([1, 2, true, true]);
  });

  it('with gif_af decodes every frame and styles the range only', () => {
    const p = planFrames({ range: { kind: 'from', first: 1 }, keepOthers: true }, 3, 1);
    expect([p.page, p.count]).toEqual([0, 3]);
    expect([0, 1, 2].map((i) => p.styled(i))).toEqual([false, true, true]);
  });

  it('IMGPROXY_MAX_ANIMATION_FRAMES bounds the frames decoded; at 1 (no animation) gif_anim has its own bound', () => {
    expect(decodableFrames(10, 4)).toBe(4);
    expect(decodableFrames(10, 1)).toBe(10);
    expect(decodableFrames(5000, 1)).toBe(GIF_ANIM_DEFAULT_FRAMES);
    expect(planFrames({ range: { kind: 'all' }, keepOthers: false }, 10, 4).count).toBe(4);
    expect(() => planFrames({ range: { kind: 'from', first: 5 }, keepOthers: false }, 10, 4)).toThrow(/out of range/);
  });
});
