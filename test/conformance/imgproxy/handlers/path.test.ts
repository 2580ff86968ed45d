/**
 * Port of imgproxy's handlers/path_test.go (TestPathTestSuite): splitting signature from
 * path, the query string and path prefix dropped, `%3A` in options and collapsed
 * `scheme:/` restored. Observed the way a client sees it: with a key set, a request
 * succeeds only when the signature of the expected normalised path verifies; the
 * normalisation function itself is checked on our splitPath.
 * https://github.com/imgproxy/imgproxy/blob/master/handlers/path_test.go
 */
import { describe, expect } from 'vitest';
import { splitPath } from '../../../../src/dialects/imgproxy/path.js';
import { sign } from '../../../../src/dialects/imgproxy/signature.js';
import { ProxyError } from '../../../../src/errors.js';
import { get, port, serverPool } from '../harness.js';

const KEY = Buffer.from('test-key');
const SALT = Buffer.from('test-salt');
const servers = serverPool(() => ({ IMGPROXY_KEY: KEY.toString('hex'), IMGPROXY_SALT: SALT.toString('hex'), IMGPROXY_DOWNLOAD_TIMEOUT: '1' }));

describe('TestPathTestSuite', () => {
  describe('TestParsePath', () => {
    const cases: [string, string, string, string | null][] = [
      ['BasicPath', '', '/SIG/rs:fill:300:200/plain/http://example.invalid/image.jpg', '/rs:fill:300:200/plain/http://example.invalid/image.jpg'],
      ['PathWithQueryParams', '', '/SIG/rs:fill:300:200/plain/http://example.invalid/image.jpg?param1=value1&param2=value2', '/rs:fill:300:200/plain/http://example.invalid/image.jpg'],
      ['PathWithPrefix', '/imgproxy', '/imgproxy/SIG/rs:fill:300:200/plain/http://example.invalid/image.jpg', '/rs:fill:300:200/plain/http://example.invalid/image.jpg'],
      ['PathWithPlainUrlRedenormalization', '', '/SIG/rs:fill:300:200/plain/https:/example.invalid/path/to/image.jpg', '/rs:fill:300:200/plain/https://example.invalid/path/to/image.jpg'],
      ['PathWithOptionsSeparatorUnescapingPLain', '', '/SIG/rs%3Afill%3A300%3A200/plain/https://example.invalid/path/to/image.jpg', '/rs:fill:300:200/plain/https://example.invalid/path/to/image.jpg'],
      ['PathWithOptionsSeparatorUnescapingBas64', '', '/SIG/rs%3Afill%3A300%3A200/abc/abc', '/rs:fill:300:200/abc/abc'],
      ['NoSignatureSeparator', '', '/invalid_path_without_slash', null],
      ['EmptyPath', '', '/', null],
      ['OnlySignature', '', '/signature_only', null],
    ];
    for (const [name, prefix, request, signed] of cases) {
      port(`TestParsePath/${name}`, undefined, async () => {
        // `/` is the landing page over HTTP, in imgproxy too: the refusals are checked on splitPath.
        if (signed === null) {
          expect(() => splitPath(request)).toThrow(ProxyError);
          return;
        }
        const app = await servers.get(prefix ? { IMGPROXY_PATH_PREFIX: prefix } : {});
        // Verified means past the signature check (a bad signature is 403).
        expect((await get(app, request.replace('SIG', sign(signed, KEY, SALT)))).status).not.toBe(403);
      });
    }
  });

  describe('TestRedenormalizePathHTTPProtocol', () => {
    const cases: [string, string, string][] = [
      ['HTTP', 'plain/http:/example.com/image.jpg', 'plain/http://example.com/image.jpg'],
      ['HTTPS', 'plain/https:/example.com/image.jpg', 'plain/https://example.com/image.jpg'],
      ['Local', 'plain/local:/image.jpg', 'plain/local:///image.jpg'],
      ['WithOptions', '/rs:fill:300:200/plain/http:/example.com/image.jpg', 'rs:fill:300:200/plain/http://example.com/image.jpg'],
      ['NormalizedPath', '/plain/http://example.com/image.jpg', 'plain/http://example.com/image.jpg'],
      ['ProtocolMissing', '/rs:fill:300:200/plain/example.com/image.jpg', 'rs:fill:300:200/plain/example.com/image.jpg'],
      ['NoPlainPrefix', '/http:/example.com/image.jpg', 'http:/example.com/image.jpg'],
      ['NoProtocol', '/plain/example.com/image.jpg', 'plain/example.com/image.jpg'],
      ['EndsWithProtocol', '/plain/http:', 'plain/http:'],
      ['OnlyProtocol', '/plain/http:/test', 'plain/http://test'],
    ];
    // splitPath takes the whole path (signature first): prepend one and strip it again.
    for (const [name, input, expected] of cases) {
      port(`TestRedenormalizePathHTTPProtocol/${name}`, undefined, () => {
        expect(splitPath(`/sig/${input.replace(/^\//, '')}`).signedPath).toBe(`/${expected}`);
      });
    }
    port('TestRedenormalizePathHTTPProtocol/EmptyString', undefined, () => expect(() => splitPath('/sig/')).toThrow());
    port('TestRedenormalizePathHTTPProtocol/SingleSlash', undefined, () => expect(() => splitPath('/sig//')).not.toThrow());
  });
});
