/**
 * IMGPROXY_WRITE_RESPONSE_TIMEOUT: once a response's headers go out, the whole response must be
 * written within the timeout, or the connection is closed. imgproxy sets the connection's
 * write deadline when its response writer flushes the headers (server/responsewriter/writer.go
 * `beforeWrite`, https://github.com/imgproxy/imgproxy/blob/master/server/responsewriter/writer.go);
 * a client that reads too slowly then loses the connection instead of holding it (and the
 * source stream behind a `raw` response) for ever.
 *
 * Node has no write deadline, so the server is given a ServerResponse whose writeHead (through
 * which every response's headers go, implicit ones included) arms a timer that destroys the
 * socket unless the response has finished by then.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import { onResponseClose } from './response-close.js';

export function deadlineResponse(timeoutMs: number): typeof ServerResponse<IncomingMessage> {
  return class DeadlineResponse extends ServerResponse<IncomingMessage> {
    #armed = false;

    override writeHead(statusCode: number, ...rest: unknown[]): this {
      if (!this.#armed) {
        this.#armed = true;
        const timer = setTimeout(() => {
          if (!this.writableFinished) this.destroy();
        }, timeoutMs);
        timer.unref();
        onResponseClose(this, () => clearTimeout(timer));
      }
      return super.writeHead(statusCode, ...(rest as [string, Parameters<ServerResponse['writeHead']>[1]]));
    }
  };
}
