/**
 * src/modules/proxy/router.rs (https://github.com/ViGrise/previewproxy): dispatch by scheme —
 * http(s), `s3:/` and `local:/` when enabled, aliases, and the refusals (`ftp://`, `file://`,
 * `name://`, a bare string) — through a real server. Upstream's "unrecognized URL format"
 * for a bare string is only reachable in its unit test: over HTTP a bare string is a relative
 * source, refused as invalid_params before routing.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect } from 'vitest';
import { gap, ported } from '../../harness.js';
import { tinyPng } from '../fixtures.js';
import { enc, expectOk, expectPpError, get, ppServers, useOrigin, useTempDir } from '../pp.js';
import { ppS3, s3Skip } from '../s3.js';

describe('src/modules/proxy/router.rs', () => {
  const o = useOrigin(async () => ({ '/img.jpg': { body: await tinyPng(), contentType: 'image/png' }, '/hello.png': { body: await tinyPng(), contentType: 'image/png' } }));
  const dir = useTempDir('pp-router-', async (d) => writeFile(join(d, 'test.png'), await tinyPng()));
  const servers = ppServers();
  const ask = async (source: string, env: Record<string, string> = {}) => get(await servers.get(env), `/proxy?url=${enc(source)}`);

  ported('test_http_url_routes_to_http_fetcher', async () => {
    const r = await ask(`${o.url}/hello.png`);
    expectOk(r);
    expect(r.headers.get('content-type')).toBe('image/png');
  });

  ported('test_s3_disabled_returns_error', async () => {
    expectPpError(await ask('s3:/some/key.jpg'), 400, 'invalid_params', 'S3 source is not enabled');
  });

  ported('test_local_disabled_returns_error', async () => {
    expectPpError(await ask('local:/some/path.jpg'), 400, 'invalid_params', 'local source is not enabled');
  });

  ported('test_ftp_scheme_unsupported', async () => {
    expectPpError(await ask('ftp://example.com/file'), 400, 'invalid_params', 'unsupported scheme');
  });

  ported('test_file_scheme_unsupported', async () => {
    expectPpError(await ask('file:///etc/passwd'), 400, 'invalid_params', 'unsupported scheme');
  });

  ported('test_bare_string_unrecognized', async () => {
    expectPpError(await ask('not-a-url'), 400, 'invalid_params');
  });

  ported('test_local_enabled_routes_to_local_source', async () => {
    expectOk(await ask('local:/test.png', { PP_LOCAL_ENABLED: 'true', PP_LOCAL_BASE_DIR: dir.path }));
  });

  ported('test_alias_routes_to_alias_source', async () => {
    expectOk(await ask('mycdn:/img.jpg', { PP_URL_ALIASES: `mycdn=${o.url}` }));
    expect(o.requests.at(-1)?.url).toBe('/img.jpg');
  });

  ported('test_alias_disabled_returns_error', async () => {
    expectPpError(await ask('mycdn:/img.jpg'), 400, 'invalid_params', 'alias source is not enabled');
  });

  ported('test_double_slash_alias_scheme_is_unsupported', async () => {
    expectPpError(await ask('mycdn://img.jpg'), 400, 'invalid_params', 'unsupported scheme');
  });
});

describe.skipIf(s3Skip !== undefined)(`src/modules/proxy/router.rs (S3)${s3Skip ? ` (skipped: ${s3Skip})` : ''}`, () => {
  const s3 = ppS3('test-bucket');
  const servers = ppServers(() => s3.env());
  beforeAll(async () => s3.put('test-key', await tinyPng(), 'image/jpeg'));

  gap('issue 12 §8: PP_S3_* are not read; s3:/test-key → we answer 404 "Source is unreachable", PreviewProxy 200 from the bucket with the object\'s Content-Type', 'test_s3_enabled_routes_to_s3_source', async () => {
    const r = await get(await servers.get(), '/proxy?url=s3:/test-key');
    expectOk(r);
    expect(r.headers.get('content-type')).toBe('image/jpeg');
  });
});
