/**
 * The request id, as imgproxy picks it (https://github.com/imgproxy/imgproxy/blob/master/server/router.go,
 * getRequestID): a well-formed incoming `X-Request-ID`, else the `requestId` of AWS Lambda's
 * `X-Amzn-Request-Context` (API Gateway's request context, JSON), else a new one. The id is
 * echoed in `X-Request-ID` and carried by every log line of the request.
 *
 * A new id costs a counter increment: a per-process random prefix (so ids from several
 * processes or restarts do not collide) followed by a base-36 sequence number. imgproxy uses a
 * 21-character nanoid; a crypto UUID per request showed in the hit path's profile, and
 * uniqueness is all a request id needs, not unpredictability.
 */
import { randomBytes } from 'node:crypto';

/** imgproxy's rule (`^[A-Za-z0-9_\-]+$`), bounded so a log line stays bounded too. */
const WELL_FORMED = /^[A-Za-z0-9_-]{1,128}$/;

/** Makes ids `<10 random url-safe chars><base-36 sequence>`. */
export function createIdGenerator(): () => string {
  const prefix = randomBytes(8).toString('base64url').slice(0, 10);
  let seq = 0;
  return () => prefix + (++seq).toString(36);
}

function lambdaRequestId(context: string): string | undefined {
  // Not parsed unless it can hold a requestId: JSON.parse on every request is not free.
  if (!context.includes('requestId')) return undefined;
  try {
    const v: unknown = JSON.parse(context);
    if (v !== null && typeof v === 'object' && 'requestId' in v && typeof v.requestId === 'string') return v.requestId;
  } catch {
    // not JSON: ignored, as imgproxy does
  }
  return undefined;
}

const first = (h: string | string[] | undefined): string | undefined => (Array.isArray(h) ? h[0] : h);

/** The id for a request with these `X-Request-ID` and `X-Amzn-Request-Context` values. */
export function requestId(incoming: string | string[] | undefined, lambdaContext: string | string[] | undefined, make: () => string): string {
  const v = first(incoming);
  if (v !== undefined && WELL_FORMED.test(v)) return v;
  const ctx = first(lambdaContext);
  if (ctx !== undefined && ctx !== '') {
    const id = lambdaRequestId(ctx);
    if (id !== undefined && WELL_FORMED.test(id)) return id;
  }
  return make();
}
