/**
 * src/modules/proxy/sources/alias.rs (https://github.com/ViGrise/previewproxy): `name:/path`
 * under PP_URL_ALIASES, through a real server: the origin named by the alias must receive the
 * joined path. Two cases are not reachable over HTTP (README): `mycdn://path` is refused as an
 * unsupported scheme before any alias lookup (`router.rs` pins that), and `mycdn:path` has no
 * `:/`, so it is a relative source.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect } from 'vitest';
import { ported } from '../../../harness.js';
import { photoJpeg, tinyPng } from '../../fixtures.js';
import { enc, expectOk, expectPpError, get, ppServers, useOrigin, useTempDir } from '../../pp.js';
import { ppS3, s3Skip } from '../../s3.js';

describe('src/modules/proxy/sources/alias.rs', () => {
  const o = useOrigin(async () => ({ '/path/img.jpg': { body: await tinyPng(), contentType: 'image/png' }, '/img.jpg': { body: await tinyPng(), contentType: 'image/png' } }));
  const dir = useTempDir('pp-alias-', async (d) => {
    await mkdir(join(d, 'uploads'));
    await writeFile(join(d, 'uploads', 'photo.jpg'), await photoJpeg(40, 30));
  });
  const servers = ppServers();
  const lastPath = () => o.requests.at(-1)?.url;
  const via = async (aliases: string, source: string, env: Record<string, string> = {}) => get(await servers.get({ PP_URL_ALIASES: aliases, ...env }), `/proxy?url=${enc(source)}`);

  ported('test_resolve_url_basic', async () => {
    expectOk(await via(`mycdn=${o.url}`, 'mycdn:/path/img.jpg'));
    expect(lastPath()).toBe('/path/img.jpg');
  });

  ported('test_resolve_url_trailing_slash_on_base', async () => {
    expectOk(await via(`mycdn=${o.url}/`, 'mycdn:/path/img.jpg?v=trailing'));
    expect(lastPath()).toBe('/path/img.jpg?v=trailing');
  });

  ported('test_resolve_url_with_query_string', async () => {
    expectOk(await via(`mycdn=${o.url}`, 'mycdn:/img.jpg?w=100&h=200'));
    expect(lastPath()).toBe('/img.jpg?w=100&h=200');
  });

  ported('test_resolve_unknown_scheme_error', async () => {
    expectPpError(await via(`mycdn=${o.url}`, 'other:/img.jpg'), 400, 'invalid_params', 'unknown alias scheme: other');
  });

  // Upstream's "notaurl" reaches the alias source only in a unit test; over HTTP it is a
  // relative source without PP_DEFAULT_SOURCE_URL, refused as invalid_params before.
  ported('test_resolve_no_colon_slash_error', async () => {
    expectPpError(await via(`mycdn=${o.url}`, 'notaurl'), 400, 'invalid_params');
  });

  ported('test_fetch_dispatches_to_local_when_resolved_url_starts_with_local', async () => {
    const r = await via('assets=local:/uploads', 'assets:/photo.jpg', { PP_LOCAL_ENABLED: 'true', PP_LOCAL_BASE_DIR: dir.path });
    expectOk(r);
  });

  ported('test_fetch_s3_alias_without_s3_configured_returns_error', async () => {
    expectPpError(await via('mybucket=s3:/bucket-prefix', 'mybucket:/img.png'), 400, 'invalid_params', 'S3');
  });

  ported('test_fetch_local_alias_without_local_configured_returns_error', async () => {
    expectPpError(await via('assets=local:/uploads', 'assets:/photo.jpg'), 400, 'invalid_params', 'local');
  });

  ported('test_fetch_resolves_and_fetches', async () => {
    const r = await via(`mycdn=${o.url}`, 'mycdn:/path/img.jpg');
    expectOk(r);
    expect(r.headers.get('content-type')).toBe('image/png');
  });
});

describe.skipIf(s3Skip !== undefined)(`src/modules/proxy/sources/alias.rs (S3)${s3Skip ? ` (skipped: ${s3Skip})` : ''}`, () => {
  const s3 = ppS3();
  const servers = ppServers(() => ({ ...s3.env(), PP_URL_ALIASES: 'mybucket=s3:/bucket-prefix' }));
  beforeAll(async () => s3.put('bucket-prefix/img.png', await tinyPng(), 'image/png'));

  ported('test_fetch_dispatches_to_s3_when_resolved_url_starts_with_s3', async () => {
    const r = await get(await servers.get(), '/proxy?url=mybucket:/img.png');
    expectOk(r);
    expect(r.headers.get('content-type')).toBe('image/png');
  });
});
