/**
 * Error answers per URL dialect: imgproxy's routes answer its plain-text public message with
 * its status (imgproxy's handlers/errors.go); PreviewProxy's routes answer PreviewProxy's JSON
 * `{"error", "detail"}` with its status (src/dialects/previewproxy/errors.ts). Both carry the
 * security headers every response has.
 */
import { ppErrorResponse } from '../dialects/previewproxy/errors.js';
import type { ProxyError } from '../errors.js';
import { SECURITY_HEADERS } from './headers.js';

/** Which URL API a request came through: it decides the error format, CORS and limits. */
export type RouteDialect = 'imgproxy' | 'previewproxy';

export interface ErrorAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | number>>;
  readonly body: string;
}

/** `developmentErrors`: IMGPROXY_DEVELOPMENT_ERRORS_MODE (imgproxy routes only, as there). */
export function errorAnswer(e: ProxyError, dialect: RouteDialect, developmentErrors: boolean): ErrorAnswer {
  if (dialect === 'previewproxy') {
    const pp = ppErrorResponse(e);
    return { status: pp.status, headers: { ...SECURITY_HEADERS, ...pp.headers }, body: pp.body };
  }
  const body = developmentErrors ? `${e.publicMessage}: ${e.message}` : e.publicMessage;
  return { status: e.status, headers: { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) }, body };
}
