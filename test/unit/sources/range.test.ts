import { describe, expect, it } from 'vitest';
import { contentRange, parseContentRange, parseRange } from '../../../src/sources/range.js';

describe('parseRange', () => {
  it.each([
    ['bytes=0-99', 1000, { start: 0, end: 99 }],
    ['bytes=100-', 1000, { start: 100, end: 999 }],
    ['bytes=-10', 1000, { start: 990, end: 999 }],
    ['bytes=-5000', 1000, { start: 0, end: 999 }],
    ['bytes=990-5000', 1000, { start: 990, end: 999 }],
    [' Bytes = 1 - 2 ', 1000, { start: 1, end: 2 }],
  ])('%s of %i bytes', (header, size, expected) => {
    expect(parseRange(header, size)).toEqual(expected);
  });

  it.each([[undefined], ['bytes=5-3'], ['bytes=0-1,5-6'], ['items=0-1'], ['bytes=-'], ['bytes=a-b']])('ignores %s (whole body)', (header) => {
    expect(parseRange(header, 1000)).toBeNull();
  });

  it.each([['bytes=1000-'], ['bytes=1000-1001'], ['bytes=-0']])('%s is unsatisfiable for 1000 bytes', (header) => {
    expect(parseRange(header, 1000)).toBe('unsatisfiable');
  });
});

describe('Content-Range', () => {
  it('formats and parses', () => {
    expect(contentRange({ start: 10, end: 19 }, 100)).toBe('bytes 10-19/100');
    expect(parseContentRange('bytes 10-19/100')).toEqual({ start: 10, end: 19, size: 100 });
    expect(parseContentRange('bytes 10-19/*')).toEqual({ start: 10, end: 19, size: undefined });
    expect(parseContentRange('bytes 19-10/100')).toBeNull();
    expect(parseContentRange('bytes */100')).toBeNull();
    expect(parseContentRange(undefined)).toBeNull();
  });
});
