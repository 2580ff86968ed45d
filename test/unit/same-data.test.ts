/**
 * Structural equality of option values (src/same-data.ts): true only for the same plain data,
 * so the cache key may leave out a value equal to its default and the resolve memo may share the
 * defaults' objects; and deepFreeze freezes nested objects too.
 */
import { describe, expect, it } from 'vitest';
import { deepFreeze, sameData } from '../../src/same-data.js';

describe('sameData', () => {
  it('compares primitives by ===, plain objects and arrays member by member', () => {
    expect(sameData(1, 1)).toBe(true);
    expect(sameData('a', 'b')).toBe(false);
    expect(sameData({ a: 1, b: [1, { c: null }] }, { b: [1, { c: null }], a: 1 })).toBe(true);
    expect(sameData({ a: 1 }, { a: 1, b: 2 })).toBe(false);
    expect(sameData({ a: undefined }, {})).toBe(false);
    expect(sameData([1, 2], { 0: 1, 1: 2 })).toBe(false);
    expect(sameData(null, {})).toBe(false);
    expect(sameData(Number.NaN, Number.NaN)).toBe(false);
  });

  it('never calls other objects the same (a Date, a Map): their JSON may differ', () => {
    expect(sameData(new Date(1), new Date(2))).toBe(false);
    expect(sameData(new Map(), new Map())).toBe(false);
  });
});

describe('deepFreeze', () => {
  it('freezes nested objects and arrays', () => {
    const v = deepFreeze({ a: { b: [1, { c: 2 }] } });
    expect(Object.isFrozen(v.a)).toBe(true);
    expect(Object.isFrozen(v.a.b)).toBe(true);
    expect(Object.isFrozen(v.a.b[1])).toBe(true);
  });
});
