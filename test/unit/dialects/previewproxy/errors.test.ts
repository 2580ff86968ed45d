// PreviewProxy's error answers (src/common/errors/mod.rs, https://github.com/ViGrise/previewproxy):
// every code we raise gets PreviewProxy's JSON, status and error string; detail only where
// PreviewProxy sends one; 503 and 408 without a body.
import { describe, expect, it } from 'vitest';
import { ppErrorResponse } from '../../../../src/dialects/previewproxy/errors.js';
import { ERROR_CODES, ProxyError, type ErrorCode } from '../../../../src/errors.js';

const answer = (code: ErrorCode, detail?: string, status?: number) => {
  const r = ppErrorResponse(new ProxyError(code, detail, status === undefined ? {} : { status }));
  return { status: r.status, body: r.body === '' ? null : (JSON.parse(r.body) as Record<string, string>), headers: r.headers };
};

describe('PreviewProxy error answers', () => {
  it.each<[string, ErrorCode, number | undefined, number, string]>([
    ['path traversal', 'SOURCE_PATH_FORBIDDEN', undefined, 400, 'invalid_params'],
    ['a directory', 'SOURCE_NOT_A_FILE', undefined, 400, 'invalid_params'],
    ['a source kind that is off', 'SOURCE_SCHEME_DISABLED', undefined, 400, 'invalid_params'],
    ['source over the size limit', 'SOURCE_TOO_BIG', undefined, 413, 'source_too_large'],
    ['connection refused or reset', 'SOURCE_CONNECTION', undefined, 502, 'upstream_connection_error'],
    ['body cut off', 'SOURCE_BODY_INCOMPLETE', undefined, 502, 'upstream_connection_error'],
    ['private address', 'SOURCE_ADDRESS_FORBIDDEN', undefined, 403, 'host_not_allowed'],
    ['PP_ALLOWED_HOSTS', 'HOST_NOT_ALLOWED', undefined, 403, 'host_not_allowed'],
    ['origin 404', 'SOURCE_CLIENT_ERROR', 404, 404, 'upstream_not_found'],
    ['origin 403 (PreviewProxy: 500 internal_error)', 'SOURCE_CLIENT_ERROR', 403, 502, 'internal_error'],
    ['origin 500', 'SOURCE_BAD_GATEWAY', undefined, 502, 'internal_error'],
    ['origin timeout', 'SOURCE_TIMEOUT', undefined, 502, 'upstream_timeout'],
    ['too many redirects', 'SOURCE_REDIRECTS', undefined, 502, 'too_many_redirects'],
    ['not an image', 'INVALID_IMAGE', undefined, 422, 'not_an_image'],
    ['bad signature', 'FORBIDDEN', undefined, 403, 'invalid_signature'],
    ['bad parameter', 'BAD_REQUEST', undefined, 400, 'invalid_params'],
    ['disallow lists', 'TRANSFORM_DISABLED', undefined, 400, 'transform_disabled'],
    ['unencodable output', 'UNSUPPORTED_OUTPUT', undefined, 400, 'unsupported_format'],
    ['a bug', 'INTERNAL', undefined, 500, 'internal_error'],
  ])('%s → %s', (_what, code, upstream, status, error) => {
    const r = answer(code, 'some detail', upstream);
    expect(r.status).toBe(status);
    expect(r.body?.error).toBe(error);
    expect(r.headers['Content-Type']).toBe('application/json');
  });

  it('detail only for invalid_params, unsupported_format and transform_disabled; ours only when written for the client', () => {
    expect(answer('BAD_REQUEST', 'invalid w: x').body).toEqual({ error: 'invalid_params', detail: 'invalid w: x' });
    expect(answer('TRANSFORM_DISABLED', 'resize').body).toEqual({ error: 'transform_disabled', detail: 'resize' });
    // The log message names paths and variables: PreviewProxy's fixed words instead.
    expect(answer('SOURCE_PATH_FORBIDDEN', 'path escapes IMGPROXY_LOCAL_FILESYSTEM_ROOT: local:///../x').body).toEqual({ error: 'invalid_params', detail: 'path not allowed' });
    expect(answer('SOURCE_NOT_A_FILE', 'not a regular file: local:///img').body).toEqual({ error: 'invalid_params', detail: 'not a regular file' });
    expect(answer('SOURCE_CONNECTION', 'ECONNRESET 127.0.0.1:8080').body).toEqual({ error: 'upstream_connection_error' });
    expect(answer('INTERNAL', 'TypeError: x is undefined').body).toEqual({ error: 'internal_error' });
  });

  it('overload and timeouts answer without a body, 503 with Retry-After: 1', () => {
    for (const code of ['OVERLOADED', 'TOO_MANY_REQUESTS'] as const) {
      const r = answer(code);
      expect(r).toMatchObject({ status: 503, body: null });
      expect(r.headers['Retry-After']).toBe('1');
    }
    expect(answer('TIMEOUT')).toMatchObject({ status: 408, body: null });
  });

  it('no code but INTERNAL answers 500', () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      if (code === 'INTERNAL') continue;
      expect(answer(code, 'x').status, code).not.toBe(500);
    }
  });
});
