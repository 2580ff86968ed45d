/**
 * src/common/errors/mod.rs (https://github.com/ViGrise/previewproxy): error variants → HTTP
 * status. Each variant is provoked through a real server and answered as PreviewProxy answers
 * it (status and JSON code). `UnsupportedFormat` cannot be reached over HTTP (the parser
 * refuses an unknown format first, as invalid_params): its case checks the 400.
 */
import { describe, expect } from 'vitest';
import { gap, ported } from '../../../harness.js';
import { fakeMp4, tinyPng } from '../../fixtures.js';
import { enc, expectPpError, get, ppServers, useOrigin } from '../../pp.js';

describe('src/common/errors/mod.rs', () => {
  const o = useOrigin(async () => ({
    '/tiny.png': { body: await tinyPng(), contentType: 'image/png' },
    '/broken.heic': { body: Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic', 'latin1'), Buffer.alloc(64, 7)]), contentType: 'image/heic' },
    '/broken.mp4': { body: fakeMp4(), contentType: 'video/mp4' },
    '/broken.pdf': { body: Buffer.from('%PDF-1.4 fake'), contentType: 'application/pdf' },
  }));
  const servers = ppServers();
  const ask = async (src: string, query = '', env: Record<string, string> = {}) => get(await servers.get(env), `/proxy?url=${enc(`${o.url}/${src}`)}${query}`);

  ported('test_unsupported_format_is_400', async () => expect((await ask('tiny.png', '&format=heic')).status).toBe(400));

  gap('issue 12 §1/§4: a broken HEIC → we answer 422 "Broken or unsupported image" as text, PreviewProxy 422 heic_decode_error', 'test_heic_decode_error_is_422', async () => {
    expectPpError(await ask('broken.heic', '&w=10'), 422, 'heic_decode_error');
  });
  ported('test_video_decode_error_is_422', async () => {
    expectPpError(await ask('broken.mp4', '&w=10'), 422, 'video_decode_error');
  });
  ported('test_pdf_render_error_is_422', async () => {
    expectPpError(await ask('broken.pdf', '&w=10'), 422, 'pdf_render_error');
  });
  ported('test_transform_disabled_is_400', async () => {
    expectPpError(await ask('tiny.png', `&wm=${enc(`${o.url}/tiny.png`)}`, { PP_TRANSFORM_DISALLOW_LIST: 'watermark' }), 400, 'transform_disabled', 'watermark');
  });
});
