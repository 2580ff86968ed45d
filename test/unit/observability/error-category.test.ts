import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../../../src/errors.js';
import { errorCategory } from '../../../src/observability/error-category.js';

describe('errorCategory (imgproxy handlers/errors.go)', () => {
  it('files each code under the step that raises it in imgproxy', () => {
    expect(errorCategory('INVALID_URL')).toBe('path_parsing');
    expect(errorCategory('FORBIDDEN')).toBe('security');
    expect(errorCategory('INVALID_SOURCE_URL')).toBe('security');
    expect(errorCategory('SOURCE_TIMEOUT')).toBe('download');
    expect(errorCategory('SOURCE_TOO_BIG')).toBe('download');
    expect(errorCategory('SOURCE_RESOLUTION_TOO_BIG')).toBe('processing');
    expect(errorCategory('TOO_MANY_REQUESTS')).toBe('queue');
    expect(errorCategory('TIMEOUT')).toBe('timeout');
    expect(errorCategory('INTERNAL')).toBe('unexpected');
  });

  it('does not count a cancelled request, as imgproxy does not', () => {
    expect(errorCategory('CANCELLED')).toBeNull();
  });

  it('files a raw request\'s download failure under streaming, its URL errors under their own', () => {
    expect(errorCategory('SOURCE_UNREACHABLE', true)).toBe('streaming');
    expect(errorCategory('INVALID_URL', true)).toBe('path_parsing');
    expect(errorCategory('TIMEOUT', true)).toBe('timeout');
  });

  it('knows every error code', () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) expect(errorCategory(code)).not.toBeUndefined();
  });
});
