/**
 * The request log: what a handler tells the line about its request, and the line itself,
 * in imgproxy's shape (https://github.com/imgproxy/imgproxy/blob/master/server/logging.go,
 * LogResponse): message `Completed in <duration> <request URI>`, fields `request_id`,
 * `method`, `status`, `client_ip`, `error` (and `stack` for a 5xx), at INFO, WARNING for a
 * 4xx, ERROR for a 5xx. pixproxy adds `cache` (HIT-L1, HIT-L2, MISS, RAW, INFO), `source`
 * and `joined`. imgproxy's `Started <URI>` line is written at debug level only: one line per
 * request is what a busy server can afford.
 */
import type { IncomingMessage } from 'node:http';
import type { Logger } from '../observability/logger.js';

/** Filled in by the router and the handlers (kept apart so both share it without importing each other). */
export interface RequestLog {
  source?: string;
  /** HIT-L1, HIT-L2, MISS, RAW, INFO: also the label of the per-outcome duration histogram. */
  cache?: string;
  joined?: boolean;
  /** The failure's detail, for the log only. */
  error?: string;
  stack?: string;
}

/** Go's time.Duration String() for a duration in milliseconds (`850µs`, `1.5ms`, `2.25s`, `1m2.5s`). */
export function goDuration(ms: number): string {
  const ns = Math.round(ms * 1e6);
  if (ns === 0) return '0s';
  const trim = (v: number, digits: number): string => trimZeros(v.toFixed(digits));
  if (ns < 1e3) return `${ns}ns`;
  if (ns < 1e6) return `${trim(ns / 1e3, 3)}µs`;
  if (ns < 1e9) return `${trim(ns / 1e6, 6)}ms`;
  const s = ns / 1e9;
  if (s < 60) return `${trim(s, 9)}s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h > 0 ? `${h}h` : ''}${m}m${trim(s % 60, 9)}s`;
}

/** `1.500` → `1.5`, `2.000` → `2` (a fixed-point number's trailing zeros; by hand: this runs per request). */
function trimZeros(s: string): string {
  if (!s.includes('.')) return s;
  let end = s.length;
  while (s.charCodeAt(end - 1) === 48) end--;
  if (s.charCodeAt(end - 1) === 46) end--;
  return end === s.length ? s : s.slice(0, end);
}

const first = (h: string | string[] | undefined): string | undefined => (Array.isArray(h) ? h[0] : h);

/** The client's address as imgproxy takes it (router.go, replaceRemoteAddr): CF-Connecting-IP, X-Forwarded-For's first, X-Real-IP, the peer. */
export function clientIp(req: IncomingMessage): string {
  const cf = first(req.headers['cf-connecting-ip']);
  if (cf) return cf.trim();
  const xff = first(req.headers['x-forwarded-for']);
  if (xff) {
    const comma = xff.indexOf(',');
    return (comma > 0 ? xff.slice(0, comma) : xff).trim();
  }
  const real = first(req.headers['x-real-ip']);
  if (real) return real.trim();
  return req.socket.remoteAddress ?? '';
}

/** pino's level for a response status, as LogResponse picks slog's. */
const levelOf = (status: number): 'info' | 'warn' | 'error' => (status >= 500 ? 'error' : status >= 400 ? 'warn' : 'info');

/** Writes the request's line, unless its level is off. */
export function writeRequestLine(logger: Logger, req: IncomingMessage, id: string, status: number, durationMs: number, log: RequestLog): void {
  const level = levelOf(status);
  if (!logger.isLevelEnabled(level)) return;
  // Built by assignment: no spread objects per request.
  const fields: Record<string, unknown> = { request_id: id, method: req.method, status, client_ip: clientIp(req) };
  if (log.cache !== undefined) fields.cache = log.cache;
  if (log.source !== undefined) fields.source = log.source;
  if (log.joined) fields.joined = true;
  if (log.error !== undefined) fields.error = log.error;
  if (log.stack !== undefined && status >= 500) fields.stack = log.stack;
  logger[level](fields, `Completed in ${goDuration(durationMs)} ${req.url ?? '/'}`);
}

/** imgproxy's `Started <URI>` line (LogRequest), at debug level here. */
export function writeStartLine(logger: Logger, req: IncomingMessage, id: string): void {
  if (!logger.isLevelEnabled('debug')) return;
  logger.debug({ request_id: id, method: req.method, client_ip: clientIp(req) }, `Started ${req.url ?? '/'}`);
}
