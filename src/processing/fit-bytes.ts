// placeholder: replaced by the ops branch
/** Placeholder of imgproxy's save_fit_bytes loop: lowers quality until the result fits. */
export async function fitBytes(encode: (quality: number) => Promise<Buffer>, quality: number, maxBytes: number, signal?: AbortSignal): Promise<Buffer> {
  let q = quality;
  for (;;) {
    signal?.throwIfAborted();
    const out = await encode(q);
    if (out.length <= maxBytes || q <= 10) return out;
    const ratio = out.length / maxBytes;
    const next = Math.round(q * (ratio > 3 ? 0.25 : ratio > 1.5 ? 0.5 : 0.75));
    q = Math.max(1, Math.min(next, q - 1));
  }
}
