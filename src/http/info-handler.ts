/**
 * `/info/%signature/%options/…`: JSON about the source image (imgproxy Pro §7.1).
 * Signed like image URLs; results are not cached (seed limitation), but the source bytes
 * come through the origin sub-store like any other fetch.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AppContext } from '../app.js';
import { ProxyError } from '../errors.js';
import { imageInfo, parseInfoOptions } from '../processing/info.js';
import { detectImageFormat } from '../sources/detect.js';
import { SECURITY_HEADERS } from './headers.js';
import type { RequestLog } from './server.js';

export async function handleInfo(ctx: AppContext, req: IncomingMessage, res: ServerResponse, rawPath: string, log: RequestLog): Promise<void> {
  const parsed = ctx.dialect.parseInfo(rawPath, req.headers);
  log.source = parsed.source;
  const opts = parseInfoOptions(parsed.segments, ctx.config);
  // `max_src_file_size` (a security option) overrides IMGPROXY_MAX_SRC_FILE_SIZE here too.
  const maxBytes = opts.maxSrcFileSize;
  const { response } = await ctx.cache.getSource(parsed.source, (conditional) => ctx.sources.fetch(parsed.source, { maxBytes, ...conditional }));
  if (detectImageFormat(response.body) === null) throw new ProxyError('INVALID_IMAGE', 'source type could not be detected from its first bytes');
  const info = await ctx.limiter.run(() => imageInfo(response.body, response.body.length, opts));
  const body = JSON.stringify(info);
  log.cache = 'INFO';
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-cache',
  });
  res.end(body);
}
