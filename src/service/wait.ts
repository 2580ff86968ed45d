/**
 * One request's wait for a computation: it ends when the client goes away or when
 * IMGPROXY_TIMEOUT has passed, whichever comes first. imgproxy bounds the whole request the
 * same way (`server.CheckTimeout` against the request context, handlers/processing/request.go)
 * and answers 503 past it.
 */
import { ProxyError } from '../errors.js';

export interface RequestWait {
  /** Aborts with TIMEOUT at the deadline, or with the client's reason when it goes away. */
  readonly signal: AbortSignal;
  /** Epoch ms. */
  readonly deadline: number;
  /** Clears the timer and the client listener (call it when the answer is known). */
  done(): void;
}

export function waitFor(timeoutMs: number, client?: AbortSignal): RequestWait {
  const controller = new AbortController();
  const deadline = Date.now() + timeoutMs;
  const timer = setTimeout(() => controller.abort(new ProxyError('TIMEOUT', `request exceeded IMGPROXY_TIMEOUT (${timeoutMs} ms)`)), timeoutMs);
  const onClient = (): void => controller.abort(client?.reason ?? new ProxyError('CANCELLED', 'the client went away'));
  if (client?.aborted) onClient();
  else client?.addEventListener('abort', onClient, { once: true });
  return {
    signal: controller.signal,
    deadline,
    done() {
      clearTimeout(timer);
      client?.removeEventListener('abort', onClient);
    },
  };
}
