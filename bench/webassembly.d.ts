/**
 * The one WebAssembly type src/processing/codecs names (`WebAssembly.Module`, compiled once and
 * cloned to worker threads). @types/node 20 declares no WebAssembly namespace and the ES2023
 * lib has none either; the root type check happens to get it from esbuild's declarations
 * (loaded through vitest), which `npx tsc -p bench` never loads. Declared here instead of
 * pulling in the whole DOM lib. An opaque handle is all the code needs.
 */
declare namespace WebAssembly {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merged with the runtime's declaration where there is one
  interface Module {}
}
