/**
 * Structural equality of plain data (the option values of a ProcessingOptions), for the two
 * places that compare options with their defaults on the request path: the cache key leaves
 * default values out (cache/key.ts), and the resolve memo stores options as their difference
 * from the defaults (http/resolve-memo.ts).
 */

function isPlainData(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v);
  return Array.isArray(v) || proto === Object.prototype || proto === null;
}

/**
 * Strictly the same data: the same members (undefined ones included) with `===` primitives,
 * through plain objects and arrays only. True implies the same JSON (canonical or not) and the
 * same value for any reader; false proves nothing for other kinds of objects (a Date, a Map).
 */
export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || !isPlainData(a) || !isPlainData(b)) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const names = Object.keys(ra);
  if (names.length !== Object.keys(rb).length) return false;
  for (const k of names) if (!Object.hasOwn(rb, k) || !sameData(ra[k], rb[k])) return false;
  return true;
}

/** Freezes plain data in place, nested objects and arrays included; returns it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
