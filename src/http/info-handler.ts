/**
 * `/info/%signature/%options/…` (imgproxy Pro, docs/usage/getting_info.mdx): parses and
 * verifies the path, asks the info service (src/service/info.ts) and writes the JSON with
 * `X-Cache` (HIT-L1, HIT-L2, MISS, BYPASS).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/index.js';
import type { ImgproxyDialect } from '../dialects/imgproxy/index.js';
import { parseInfoOptions } from '../processing/info.js';
import type { InfoService } from '../service/info.js';
import { clientSignal } from './client-signal.js';
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
  return async (req, res, rawPath, log) => {
    const parsed = deps.dialect.parseInfo(rawPath, req.headers);
    log.source = parsed.source;
    const options = parseInfoOptions(parsed.segments, deps.config);
    const { body, outcome } = await deps.info.getInfo({ source: parsed.source, options }, clientSignal(res, 'the client went away before its info'));
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
