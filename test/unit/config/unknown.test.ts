import { describe, expect, it } from 'vitest';
import { closestName, editDistance, unknownVariableWarnings } from '../../../src/config/unknown.js';

describe('edit distance (optimal string alignment)', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['', 'ab', 2],
    ['QUALITY', 'QUALITY', 0],
    ['QUALTY', 'QUALITY', 1],
    ['QAULITY', 'QUALITY', 1],
    ['kitten', 'sitting', 3],
  ])('%s ↔ %s = %d', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
    expect(editDistance(b, a)).toBe(d);
  });
});

describe('closestName', () => {
  const known = ['IMGPROXY_QUALITY', 'IMGPROXY_TTL', 'PP_CACHE_DIR', 'PP_TTL', 'PIXPROXY_PROCESSES'];

  it('finds typos and names given the wrong prefix', () => {
    expect(closestName('IMGPROXY_QAULITY', known)).toBe('IMGPROXY_QUALITY');
    expect(closestName('IMGPROXY_CACHE_DIR', known)).toBe('PP_CACHE_DIR');
    expect(closestName('PP_PROCESSES', known)).toBe('PIXPROXY_PROCESSES');
  });

  it('prefers the nearest name', () => {
    expect(closestName('PP_TL', known)).toBe('PP_TTL');
  });

  it('suggests nothing when nothing is close', () => {
    expect(closestName('IMGPROXY_SOMETHING_ELSE_ENTIRELY', known)).toBeUndefined();
    expect(closestName('PP_X', known)).toBeUndefined();
  });
});

describe('unknownVariableWarnings', () => {
  it('looks only at the three prefixes, and not at known names', () => {
    const w = unknownVariableWarnings({ IMGPROXY_TTL: '1', IMGPROXY_TLL: '1', PATH: '/bin', IMGPROXYTTL: '1', XPP_TTL: '1', PIXPROXY_NOPE_NOPE_NOPE: '' }, new Set(['IMGPROXY_TTL']));
    expect(w).toEqual([
      'IMGPROXY_TLL is not a variable pixproxy knows and is ignored; did you mean IMGPROXY_TTL?',
      'PIXPROXY_NOPE_NOPE_NOPE is not a variable pixproxy knows and is ignored',
    ]);
  });
});
