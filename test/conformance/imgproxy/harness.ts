/**
 * The imgproxy conformance suite's own helpers (a port of imgproxy's Go tests,
 * https://github.com/imgproxy/imgproxy, v4 line) on top of the shared harness
 * (`../harness.ts`: ported/gap/differs, server pool, image inspection): libvips'
 * interpretation names and imgproxy's `testutil.OptionsBuilder`.
 */
export * from '../harness.js';

/** libvips' interpretation names as imgproxy's tests compare them (`vips.Interpretation`). */
export type Interpretation = 'srgb' | 'b-w' | 'rgb16' | 'grey16' | 'scrgb' | 'xyz' | 'cmyk' | 'lab' | 'multiband';

/**
 * imgproxy's `testutil.OptionsBuilder`: options by name with positional arguments, empty
 * arguments kept inside (`g:no::5`) and trimmed at the end, numbers printed as Go's `%v`
 * prints them (10 → `10`, 0.1 → `0.1`).
 */
export function options(opts: Record<string, (string | number | undefined)[]>): string {
  return Object.entries(opts)
    .map(([name, args]) => {
      const a = args.map((v) => (v === undefined ? '' : String(v)));
      while (a.length > 0 && a[a.length - 1] === '') a.pop();
      return `${name}:${a.join(':')}`;
    })
    .join('/');
}

/** Go's `%f`: six decimals (`dpr:%f` → `dpr:0.500000`). */
export const goF = (n: number): string => n.toFixed(6);
