/**
 * Works around an undici 7 crash any origin can trigger: when a response body is not read as
 * fast as it arrives, undici's HTTP/1 parser pauses (backpressure); if the origin then closes
 * the connection after a `Connection: close` answer, undici's socket 'end' handler (and its
 * 'close' and ECONNRESET handlers) assert that the parser is not paused, and the assertion,
 * thrown from an event handler, kills the process (https://github.com/nodejs/undici/issues/5360).
 * A decoder slower than the network, or a slow `raw` client, is enough. The fix
 * (nodejs/undici#5474) is in undici 8 only, which needs Node 22; this project runs on Node 20.
 *
 * The guard keeps those events from reaching undici while its parser may be paused:
 *  - undici reads the socket with bare `read()` calls in a loop that stops either on `null`
 *    (drained, not paused) or when the parser pauses after a chunk. So when its last `read()`
 *    returned data the parser may be paused, and 'end' is held; the next `read()` that returns
 *    `null` (undici resuming) releases it. Node's own `read(0)` calls are ignored.
 *  - Node would end our side of the socket when 'end' is emitted and then destroy it, a
 *    'close' without error that undici answers with the same assertion: the socket is made
 *    half-open, and the guard ends our side itself when it lets 'end' through.
 *  - A reset while the parser may be paused reaches undici without its ECONNRESET code, so it
 *    fails the request (the body is incomplete) instead of finishing the paused parser.
 */
import type { Duplex } from 'node:stream';

export function guardSocketEnd<S extends Duplex>(socket: S): S {
  let lastReadHadData = false;
  let held = false;
  const read = socket.read.bind(socket);
  const emit = socket.emit.bind(socket);
  socket.allowHalfOpen = true;

  const deliverEnd = (): boolean => {
    const listened = emit('end');
    // What Node does after 'end' when half-open is not allowed.
    if (!socket.destroyed && !socket.writableEnded) socket.end();
    return listened;
  };

  socket.read = (size?: number): unknown => {
    const chunk: unknown = read(size);
    if (size === undefined) {
      lastReadHadData = chunk !== null;
      if (chunk === null && held) {
        held = false;
        // After undici's read loop has returned: never inside its parser.
        process.nextTick(() => {
          if (!socket.destroyed) deliverEnd();
        });
      }
    }
    return chunk;
  };

  socket.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
    if (event === 'end') {
      if (!lastReadHadData) return deliverEnd();
      held = true;
      return true;
    }
    const [err] = args;
    if (event === 'error' && lastReadHadData && err instanceof Error && (err as NodeJS.ErrnoException).code === 'ECONNRESET') {
      return emit('error', new Error(`connection reset by the origin: ${err.message}`, { cause: err }));
    }
    return emit(event, ...args);
  }) as S['emit'];
  return socket;
}
