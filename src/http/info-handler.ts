/**
 * `/info/%signature/%options/…` (imgproxy Pro, docs/usage/getting_info.mdx): parses and
 * verifies the path (plain, base64 and `enc/` sources), asks the info service
 * (src/service/info.ts) with the client's cookies under IMGPROXY_COOKIE_PASSTHROUGH, and
 * writes the JSON with `X-Cache` (HIT-L1, HIT-L2, MISS, BYPASS).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/index.js';
import type { ImgproxyDialect } from '../dialects/imgproxy/index.js';
import { parseInfoOptions } from '../processing/info.js';
import type { InfoService } from '../service/info.js';
import { clientSignal } from './client-signal.js';
import { createCookiePassthrough } from './cookie-passthrough.js';
import { cacheTagHeaders, SECURITY_HEADERS } from './headers.js';
import type { RequestLog } from './request-log.js';

/** `rawPath`: without the `/info` prefix. */
export type InfoHandler = (req: IncomingMessage, res: ServerResponse, rawPath: string, log: RequestLog) => Promise<void>;

export interface InfoHandlerDeps {
  readonly dialect: Pick<ImgproxyDialect, 'parseInfo'>;
  readonly info: Pick<InfoService, 'getInfo'>;
  /** For the /info options' defaults and limits. */
  readonly config: Config;
}

export function createInfoHandler(deps: InfoHandlerDeps): InfoHandler {
  const passCookies = createCookiePassthrough(deps.config.download);
  return async (req, res, rawPath, log) => {
    const parsed = deps.dialect.parseInfo(rawPath, req.headers);
    log.source = parsed.source;
    const options = parseInfoOptions(parsed.segments, deps.config);
    const cookie = passCookies?.(parsed.source, req.headers);
    const query = { source: parsed.source, options, ...(cookie !== undefined ? { cookie } : {}) };
    const { body, outcome } = await deps.info.getInfo(query, clientSignal(res, 'the client went away before its info'));
    log.cache = 'INFO';
    const tags = cacheTagHeaders(options.cacheTags, deps.config.cache.tagsFormat);
    for (let i = 0; i < tags.length; i += 2) res.setHeader(tags[i] as string, tags[i + 1] as string);
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'application/json',
      'Content-Length': body.length,
      'Cache-Control': 'no-cache',
      // Which layer answered (/info answers are cached like images; INFO in the log and metrics).
      'X-Cache': outcome,
    });
    res.end(body);
  };
}
