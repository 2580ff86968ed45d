/**
 * The buffer a source body is collected into: it grows in place up to a known bound and, when
 * the download fails, gives its memory back to the operating system at once.
 *
 * Why not chunks and Buffer.concat: an aborted download's chunks are garbage that V8 collects
 * when it next feels like it (an idle process can hold hundreds of MB for many seconds), and
 * once collected, a heap of small freed chunks is memory glibc keeps: RSS stays up. A
 * resizable ArrayBuffer (ES2024; V8 has it since 11.1, so Node 20) reserves address space for
 * its maximum and commits pages only as it grows; shrinking it decommits the pages there and
 * then (V8 backs it with its page allocator, not malloc). So a body costs what has arrived,
 * never more than the bound, grows without copies, and a failure costs nothing afterwards.
 *
 * Without a bound (no size limit at all) or if the reservation is refused, it falls back to
 * 1 MiB blocks joined at the end: large blocks are at least mapped and unmapped whole.
 */

export interface GrowBuffer {
  /** Appends a chunk; the caller keeps the total within the bound given at creation. */
  append(chunk: Buffer): void;
  /** The bytes so far as one Buffer; the GrowBuffer must not be used afterwards. */
  finish(): Buffer;
  /** Drops the bytes so far and returns their memory now. */
  release(): void;
}

/** A resizable ArrayBuffer, typed locally: the project's lib is ES2023, and Node 20 lacks the rest of ES2024's ArrayBuffer (`transfer`). */
interface ResizableArrayBuffer extends ArrayBuffer {
  resize(byteLength: number): void;
}
const Resizable = ArrayBuffer as unknown as new (byteLength: number, options: { maxByteLength: number }) => ResizableArrayBuffer;

/** First growth step: below it, a reservation's page-granular commits buy nothing. */
const MIN_STEP = 64 * 1024;
const BLOCK = 1024 * 1024;

/** A buffer for at most `max` bytes (0 = no bound known). */
export function growBuffer(max: number): GrowBuffer {
  if (max > 0) {
    try {
      return resizable(new Resizable(0, { maxByteLength: max }), max);
    } catch {
      // Address space refused (RangeError): the blocks below need none reserved up front.
    }
  }
  return blocks();
}

function resizable(ab: ResizableArrayBuffer, max: number): GrowBuffer {
  let used = 0;
  return {
    append(chunk) {
      const need = used + chunk.length;
      // Doubling keeps the number of resizes (each an mprotect) logarithmic in the size.
      if (need > ab.byteLength) ab.resize(Math.min(max, Math.max(need, ab.byteLength * 2, MIN_STEP)));
      chunk.copy(new Uint8Array(ab, used, chunk.length), 0);
      used = need;
    },
    finish() {
      // Shrinking to the exact length returns the growth slack; the view is fixed-length.
      ab.resize(used);
      return Buffer.from(ab, 0, used);
    },
    release() {
      ab.resize(0);
    },
  };
}

function blocks(): GrowBuffer {
  let list: Buffer[] = [];
  let block = Buffer.alloc(0);
  let used = 0;
  let total = 0;
  return {
    append(chunk) {
      for (let from = 0; from < chunk.length; ) {
        if (used === block.length) {
          block = Buffer.allocUnsafeSlow(BLOCK);
          list.push(block);
          used = 0;
        }
        const n = chunk.copy(block, used, from);
        used += n;
        from += n;
      }
      total += chunk.length;
    },
    finish() {
      return Buffer.concat(list, total);
    },
    release() {
      list = [];
    },
  };
}
