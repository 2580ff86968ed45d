/**
 * `/info/%signature/%options/…` (imgproxy Pro, docs/usage/getting_info.mdx): parses and
 * verifies the path, asks the info service (src/service/info.ts) and writes the JSON.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../config/index.js';
import type { ImgproxyDialect } from '../dialects/imgproxy/index.js';
import { parseInfoOptions } from '../processing/info.js';
import type { InfoService } from '../service/info.js';
import { clientSignal } from './client-signal.js';
import { SECURITY_HEADERS } from './headers.js';
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
    const info = await deps.info.getInfo({ source: parsed.source, options }, clientSignal(res, 'the client went away before its info'));
    const body = JSON.stringify(info);
    log.cache = 'INFO';
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-cache',
    });
    res.end(body);
  };
}
