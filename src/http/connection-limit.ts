/**
 * IMGPROXY_MAX_CLIENTS as imgproxy applies it: a listener that accepts at most `max`
 * connections at once (Go's netutil.LimitListener in server/server.go,
 * https://github.com/imgproxy/imgproxy/blob/master/server/server.go). A connection over the
 * limit is not dropped: it waits, unread, until a served one closes, as it would wait in the
 * kernel's accept queue behind imgproxy's listener. Node's own `server.maxConnections` closes
 * such connections instead.
 *
 * The waiting line is bounded by `backlog` (the listen backlog Node asks the kernel for, 511):
 * past it a connection is closed, as a full accept queue refuses one. The HTTP server itself
 * does not listen; this listener hands it each connection when its turn comes.
 */
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { Server as HttpServer } from 'node:http';

export interface LimitedListener {
  /** Listens in place of the HTTP server. */
  readonly server: NetServer;
  /** Connections waiting for a free slot. */
  waiting(): number;
  /** Closes the waiting connections (at shutdown: they were never served). */
  dropWaiting(): void;
}

export function limitConnections(http: HttpServer, max: number, backlog = 511): LimitedListener {
  let active = 0;
  const queue: Socket[] = [];

  function serve(socket: Socket): void {
    active++;
    socket.once('close', () => {
      active--;
      let next = queue.shift();
      // One the client gave up on while it waited is skipped.
      while (next !== undefined && next.destroyed) next = queue.shift();
      if (next !== undefined) serve(next);
    });
    http.emit('connection', socket);
    socket.resume();
  }

  const server = createServer({ pauseOnConnect: true }, (socket) => {
    if (active < max) return serve(socket);
    if (queue.length >= backlog) {
      socket.destroy();
      return;
    }
    socket.once('error', () => socket.destroy());
    queue.push(socket);
  });

  return {
    server,
    waiting: () => queue.filter((s) => !s.destroyed).length,
    dropWaiting() {
      for (const s of queue.splice(0)) s.destroy();
    },
  };
}
