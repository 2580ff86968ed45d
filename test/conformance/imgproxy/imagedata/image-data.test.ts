/**
 * Port of imgproxy's imagedata/image_data_test.go (TestImageData), the download half: what
 * a client gets for each origin answer (200, 206 with full or partial Content-Range, 404,
 * 403, 500, unreachable, not an image, loopback refused, too large, gzip). Upstream checks
 * the download error's status; that status is the response's, so we check the response.
 * The reference-counting cases (Close/Ref/AddCancel) are Go internals: see the README.
 * https://github.com/imgproxy/imgproxy/blob/master/imagedata/image_data_test.go
 */
import { gzipSync } from 'node:zlib';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { startHandlerOrigin, type HandlerOrigin } from '../../../helpers/origin.js';
import { fixturesRoot } from '../fixtures.js';
import { get, inspect, port, ported, serverPool } from '../harness.js';

let data: Buffer;
let answer: { status: number; headers: Record<string, string>; body: Buffer };
let origin: HandlerOrigin;
beforeAll(async () => {
  data = readFileSync(join(await fixturesRoot(), 'test1.jpg'));
  origin = await startHandlerOrigin((_req, res) => {
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  });
}, 300_000);
afterAll(async () => origin.close());

const servers = serverPool(() => ({ IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'true', IMGPROXY_DEVELOPMENT_ERRORS_MODE: 'true' }));
let n = 0;
async function download(a: Partial<typeof answer>, env: Record<string, string> = {}) {
  // Upstream's test server always sends these two, whatever a case adds (image_data_test.go SetupSuite).
  const body = a.body ?? data;
  answer = { status: a.status ?? 200, body, headers: { 'Content-Type': 'image/jpeg', 'Content-Length': String(body.length), ...a.headers } };
  return get(await servers.get(env), `/unsafe/plain/${origin.url}/img${n++}.jpg`);
}

describe('TestImageData', () => {
  port('TestDownloadStatusOK', undefined, async () => {
    const r = await download({});
    expect(r.status).toBe(200);
    expect((await inspect(r.body)).format).toBe('jpeg');
  });

  describe('TestDownloadStatusPartialContent', () => {
    const len = () => data.length;
    const cases: [string, () => string, boolean][] = [
      ['Full Content-Range', () => `bytes 0-${len() - 1}/${len()}`, false],
      ['Partial Content-Range, early end', () => `bytes 0-${len() - 2}/${len()}`, true],
      ['Partial Content-Range, late start', () => `bytes 1-${len() - 1}/${len()}`, true],
      ['Zero Content-Range', () => 'bytes 0-0/0', true],
      ['Invalid Content-Range', () => 'invalid', true],
      ['Unknown Content-Range range', () => `bytes */${len()}`, true],
      ['Unknown Content-Range size, full range', () => `bytes 0-${len() - 1}/*`, false],
      ['Unknown Content-Range size, early end', () => `bytes 0-${len() - 2}/*`, true],
      ['Unknown Content-Range size, late start', () => `bytes 1-${len() - 1}/*`, true],
    ];
    for (const [name, range, fails] of cases) {
      ported(`TestDownloadStatusPartialContent/${name}`, async () => {
        const r = await download({ status: 206, headers: { 'Content-Range': range() } });
        expect(r.status).toBe(fails ? 404 : 200);
      });
    }
  });

  port('TestDownloadStatusNotFound', undefined, async () => expect((await download({ status: 404, headers: { 'Content-Type': 'text/plain' }, body: Buffer.from('Not Found') })).status).toBe(404));
  port('TestDownloadStatusForbidden', undefined, async () => expect((await download({ status: 403, headers: { 'Content-Type': 'text/plain' }, body: Buffer.from('Forbidden') })).status).toBe(403));
  port('TestDownloadStatusInternalServerError', undefined, async () => expect((await download({ status: 500, headers: { 'Content-Type': 'text/plain' }, body: Buffer.from('Internal Server Error') })).status).toBe(502));

  port('TestDownloadUnreachable', undefined, async () => {
    const port_ = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    expect((await get(await servers.get(), `/unsafe/plain/http://127.0.0.1:${port_}/x.jpg`)).status).toBe(404);
  });

  port('TestDownloadInvalidImage', undefined, async () => expect((await download({ body: Buffer.from('invalid') })).status).toBe(422));
  port('TestDownloadSourceAddressNotAllowed', undefined, async () => expect((await download({}, { IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'false' })).status).toBe(404));
  port('TestDownloadImageFileTooLarge', undefined, async () => expect((await download({}, { IMGPROXY_MAX_SRC_FILE_SIZE: '1' })).status).toBe(422));

  for (const name of ['TestDownloadGzip', 'TestDownloadAsyncGzip']) {
    port(name, undefined, async () => {
      const gz = gzipSync(data);
      const r = await download({ body: gz, headers: { 'Content-Encoding': 'gzip', 'Content-Length': String(gz.length) } });
      expect(r.status).toBe(200);
      expect((await inspect(r.body)).format).toBe('jpeg');
    });
  }

  port('TestFromFile', undefined, async () => {
    const r = await get(await servers.get({ IMGPROXY_LOCAL_FILESYSTEM_ROOT: await fixturesRoot() }), '/unsafe/raw:1/plain/local:///test1.jpg');
    expect(r.body.equals(data)).toBe(true);
  });
});
