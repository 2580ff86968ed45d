/**
 * Everything pixproxy runs when a response closes, behind one 'close' listener per response.
 * The request line and metrics, the PreviewProxy permit, the client's abort signal and the
 * write deadline each used to add their own; with what `stream/promises` pipeline adds to a
 * `raw` response (7 of its own: the destination's eos, destroyer and pipe listeners) that made
 * 11, over EventEmitter's default of 10, and Node printed a MaxListenersExceededWarning for
 * every such response.
 */
import type { ServerResponse } from 'node:http';

const CALLBACKS = Symbol('pixproxy.responseClose');

type Tracked = ServerResponse & { [CALLBACKS]?: Array<() => void> };

/** Runs `fn` once, when `res` closes (in the order registered); like `res.once('close', fn)`, nothing runs for a response closed already. */
export function onResponseClose(res: ServerResponse, fn: () => void): void {
  const r = res as Tracked;
  const known = r[CALLBACKS];
  if (known !== undefined) {
    known.push(fn);
    return;
  }
  const list = [fn];
  r[CALLBACKS] = list;
  res.once('close', () => {
    for (const f of list) f();
  });
}
