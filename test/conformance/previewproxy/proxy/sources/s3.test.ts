/**
 * src/modules/proxy/sources/s3.rs (https://github.com/ViGrise/previewproxy): `s3:/<key>` from
 * the one bucket of PP_S3_BUCKET at PP_S3_ENDPOINT, against a real S3 (Swift's s3api) instead
 * of upstream's wiremock. Upstream's `test_oversized_via_streaming` needs an answer without
 * Content-Length, which a real S3 never sends: not ported (README).
 */
import { beforeAll, describe, expect } from 'vitest';
import { ported } from '../../../harness.js';
import { photoJpeg } from '../../fixtures.js';
import { expectOk, expectPpError, get, ppServers } from '../../pp.js';
import { ppS3, s3Skip } from '../../s3.js';


describe.skipIf(s3Skip !== undefined)(`src/modules/proxy/sources/s3.rs${s3Skip ? ` (skipped: ${s3Skip})` : ''}`, () => {
  const s3 = ppS3();
  const servers = ppServers(() => s3.env());
  beforeAll(async () => {
    await s3.put('images/photo.jpg', await photoJpeg(120, 80), 'image/jpeg');
    await s3.put('big/image.jpg', await photoJpeg(200, 150), 'image/jpeg');
  });

  ported('test_happy_path', async () => {
    const r = await get(await servers.get(), '/proxy?url=s3:/images/photo.jpg');
    expectOk(r);
    expect(r.headers.get('content-type')).toBe('image/jpeg');
  });

  ported('test_missing_key_404', async () => {
    expectPpError(await get(await servers.get(), '/proxy?url=s3:/missing/key.jpg'), 404, 'upstream_not_found');
  });

  ported('test_oversized_via_content_length', async () => {
    expectPpError(await get(await servers.get({ PP_MAX_SOURCE_BYTES: '100' }), '/proxy?url=s3:/big/image.jpg'), 413, 'source_too_large');
  });
});
