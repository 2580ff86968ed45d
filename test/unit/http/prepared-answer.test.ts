/**
 * What a prepared answer keeps of its entry (src/http/prepared-answer.ts): the facts its headers
 * were built from, never the bytes (with L1 off those are an L2 read's buffer, which a kept
 * answer would hold alive), and whether another read of an entry answers with the same headers.
 */
import { describe, expect, it } from 'vitest';
import type { CachedImage } from '../../../src/cache/index.js';
import { factsOf, sameAnswer } from '../../../src/http/prepared-answer.js';

const entry = (over: Partial<CachedImage> = {}): CachedImage => ({
  data: Buffer.from('0123456789'),
  contentType: 'image/webp',
  format: 'webp',
  width: 10,
  height: 5,
  etag: '"e1"',
  createdAt: 1,
  originEtag: '"o"',
  tags: ['a', 'b'],
  ...over,
});

describe('prepared answer', () => {
  it('keeps the facts of an entry and its size, not its bytes', () => {
    const facts = factsOf(entry());
    expect(facts).not.toHaveProperty('data');
    expect(Object.values(facts).some((v) => Buffer.isBuffer(v) || v instanceof Uint8Array)).toBe(false);
    expect(facts.size).toBe(10);
    expect(facts.etag).toBe('"e1"');
  });

  it('tells another read of the same entry (new objects, equal fields) from a different one', () => {
    const facts = factsOf(entry());
    expect(sameAnswer(facts, entry({ data: Buffer.from('0123456789'), tags: ['a', 'b'], createdAt: 99 }))).toBe(true);
    expect(sameAnswer(facts, entry({ etag: '"e2"' }))).toBe(false);
    expect(sameAnswer(facts, entry({ data: Buffer.from('01234') }))).toBe(false);
    expect(sameAnswer(facts, entry({ tags: ['a'] }))).toBe(false);
    expect(sameAnswer(facts, entry({ fallbackStatus: 404 }))).toBe(false);
    expect(sameAnswer(facts, entry({ originEtag: undefined }))).toBe(false);
  });
});
