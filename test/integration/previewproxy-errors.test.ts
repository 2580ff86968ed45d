/**
 * Errors through a real server as PreviewProxy answers them on its routes: JSON
 * `{"error", "detail"}` with its statuses (src/common/errors/mod.rs,
 * https://github.com/ViGrise/previewproxy); imgproxy routes keep imgproxy's plain text.
 */
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type RunningApp } from '../helpers/app.js';
import { makePhoto } from '../helpers/images.js';
import { startHandlerOrigin, startOrigin, type HandlerOrigin, type Origin } from '../helpers/origin.js';

let origin: Origin;
let resetting: HandlerOrigin;
let root: string;
let outside: string;
let pp: RunningApp;
let strict: RunningApp;

async function json(res: Response): Promise<{ status: number; type: string | null; body: unknown }> {
  return { status: res.status, type: res.headers.get('content-type'), body: JSON.parse(await res.text()) as unknown };
}

beforeAll(async () => {
  const photo = await makePhoto(64, 48);
  origin = await startOrigin({
    '/p.jpg': { body: photo, contentType: 'image/jpeg' },
    '/big.jpg': { body: await makePhoto(600, 400), contentType: 'image/jpeg' },
    '/forbidden.jpg': { body: Buffer.from('no'), contentType: 'text/plain', status: 403 },
    '/text.png': { body: Buffer.from('<html>not a picture</html>'), contentType: 'image/png' },
  });
  // Closes every connection before answering: a reset as the client sees it.
  resetting = await startHandlerOrigin((req) => req.socket.destroy());
  root = await mkdtemp(join(tmpdir(), 'pp-local-'));
  outside = await mkdtemp(join(tmpdir(), 'pp-outside-'));
  await writeFile(join(root, 'a.jpg'), photo);
  await mkdir(join(root, 'dir'));
  await writeFile(join(outside, 'secret.jpg'), photo);
  await symlink(join(outside, 'secret.jpg'), join(root, 'escape.jpg'));
  pp = await startApp({ PIXPROXY_PATH_DIALECT: 'previewproxy', PP_LOCAL_BASE_DIR: root, PP_LOCAL_ENABLED: 'true', PP_MAX_SOURCE_BYTES: '5000', PP_FETCH_RETRY_COUNT: '0' });
  // Loopback origins are private addresses here, as in production.
  strict = await startApp({ IMGPROXY_ALLOW_LOOPBACK_SOURCE_ADDRESSES: 'false' });
});

afterAll(async () => {
  await Promise.all([pp.stop(), strict.stop(), origin.close(), resetting.close()]);
  await Promise.all([rm(root, { recursive: true, force: true }), rm(outside, { recursive: true, force: true })]);
});

describe('PreviewProxy routes answer PreviewProxy\'s JSON errors', () => {
  const query = (url: string, params = ''): string => `${pp.url}/proxy?url=${encodeURIComponent(url)}${params}`;

  it.each([
    ['traversal', 'local:/../../etc/passwd', { error: 'invalid_params', detail: 'path not allowed' }],
    ['symlink escape', 'local:/escape.jpg', { error: 'invalid_params', detail: 'path not allowed' }],
    ['a directory', 'local:/dir', { error: 'invalid_params', detail: 'not a regular file' }],
  ])('%s → 400', async (_what, url, body) => {
    expect(await json(await fetch(query(url)))).toEqual({ status: 400, type: 'application/json', body });
  });

  it('a local file is served; local:/ without PP_LOCAL_BASE_DIR is 400 "local source is not enabled"', async () => {
    expect((await fetch(query('local:/a.jpg'))).status).toBe(200);
    expect(await json(await fetch(`${strict.url}/proxy?url=local:/a.jpg`))).toEqual({ status: 400, type: 'application/json', body: { error: 'invalid_params', detail: 'local source is not enabled' } });
  });

  it('a source over PP_MAX_SOURCE_BYTES → 413 source_too_large (passthrough and transform alike)', async () => {
    expect(await json(await fetch(query(`${origin.url}/big.jpg`)))).toMatchObject({ status: 413, body: { error: 'source_too_large' } });
    expect(await json(await fetch(query(`${origin.url}/big.jpg`, '&w=10')))).toMatchObject({ status: 413, body: { error: 'source_too_large' } });
  });

  it('a connection reset → 502 upstream_connection_error', async () => {
    expect(await json(await fetch(query(`${resetting.url}/x.jpg`)))).toEqual({ status: 502, type: 'application/json', body: { error: 'upstream_connection_error' } });
  });

  it('a private address → 403 host_not_allowed', async () => {
    expect(await json(await fetch(`${strict.url}/proxy?url=${encodeURIComponent(`${origin.url}/p.jpg`)}`))).toEqual({ status: 403, type: 'application/json', body: { error: 'host_not_allowed' } });
  });

  it('origin 404 → 404 upstream_not_found; origin 403 → 502 internal_error (PreviewProxy: 500)', async () => {
    expect(await json(await fetch(query(`${origin.url}/none.jpg`)))).toMatchObject({ status: 404, body: { error: 'upstream_not_found' } });
    expect(await json(await fetch(query(`${origin.url}/forbidden.jpg`)))).toMatchObject({ status: 502, body: { error: 'internal_error' } });
  });

  it('non-image bytes labelled image/png → 422 not_an_image', async () => {
    expect(await json(await fetch(query(`${origin.url}/text.png`)))).toMatchObject({ status: 422, body: { error: 'not_an_image' } });
  });

  it('bad parameters and unknown options → 400 invalid_params with the detail', async () => {
    expect(await json(await fetch(query(`${origin.url}/p.jpg`, '&w=abc')))).toMatchObject({ status: 400, body: { error: 'invalid_params', detail: expect.stringMatching(/^invalid w/) } });
    expect(await json(await fetch(`${pp.url}/bogus/${origin.url}/p.jpg`))).toMatchObject({ status: 400, body: { error: 'invalid_params', detail: 'Unknown option: bogus' } });
    expect(await json(await fetch(`${pp.url}/proxy?w=1`))).toMatchObject({ status: 400, body: { error: 'invalid_params', detail: "missing 'url' query param" } });
  });

  it('path style answers the same JSON', async () => {
    expect(await json(await fetch(`${pp.url}/local:/dir`))).toMatchObject({ status: 400, body: { detail: 'not a regular file' } });
  });
});

describe('imgproxy routes keep imgproxy\'s plain text', () => {
  it('the same failure through /insecure/…/plain/… is text/plain', async () => {
    const res = await fetch(`${strict.url}/insecure/plain/${origin.url}/p.jpg`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(await res.text()).toBe('Invalid source URL');
  });
});
