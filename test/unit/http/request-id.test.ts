import { describe, expect, it } from 'vitest';
import { createIdGenerator, requestId } from '../../../src/http/request-id.js';

describe('request id (imgproxy server/router.go, getRequestID)', () => {
  const make = () => 'new';
  it('keeps a well-formed X-Request-ID and replaces others', () => {
    expect(requestId('ok-1_A', undefined, make)).toBe('ok-1_A');
    expect(requestId('no spaces', undefined, make)).toBe('new');
    expect(requestId(undefined, undefined, make)).toBe('new');
    expect(requestId('x'.repeat(200), undefined, make)).toBe('new');
  });

  it('takes the requestId of AWS Lambda\'s X-Amzn-Request-Context when no usable X-Request-ID came', () => {
    expect(requestId(undefined, '{"requestId":"lambda-req-123","stage":"prod"}', make)).toBe('lambda-req-123');
    expect(requestId('bad id', '{"requestId":"lambda-req-123"}', make)).toBe('lambda-req-123');
    expect(requestId('mine', '{"requestId":"lambda-req-123"}', make)).toBe('mine');
    expect(requestId(undefined, '{"requestId":"has space"}', make)).toBe('new');
    expect(requestId(undefined, 'not json requestId', make)).toBe('new');
    expect(requestId(undefined, '{"requestId":42}', make)).toBe('new');
  });

  it('makes unique, well-formed ids, different per generator', () => {
    const a = createIdGenerator();
    const b = createIdGenerator();
    const ids = new Set(Array.from({ length: 10_000 }, () => a()));
    expect(ids.size).toBe(10_000);
    for (const id of [...ids].slice(0, 50)) expect(id).toMatch(/^[A-Za-z0-9_-]{11,}$/);
    expect(b().slice(0, 10)).not.toBe(a().slice(0, 10));
  });
});
