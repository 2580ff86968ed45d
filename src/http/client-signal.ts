/**
 * The client's interest as an AbortSignal: it aborts when the response closes before it was
 * completely written (the client went away), so the flow can stop the work it started.
 */
import type { ServerResponse } from 'node:http';
import { ProxyError } from '../errors.js';
import { onResponseClose } from './response-close.js';

export function clientSignal(res: ServerResponse, what: string): AbortSignal {
  const gone = new AbortController();
  // Made after the response closed (the image handler makes it only once a lookup missed): aborted already.
  if (res.closed && !res.writableFinished) gone.abort(new ProxyError('CANCELLED', what));
  else
    onResponseClose(res, () => {
      if (!res.writableFinished) gone.abort(new ProxyError('CANCELLED', what));
    });
  return gone.signal;
}
