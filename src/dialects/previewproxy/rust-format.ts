/**
 * Rust's float formatting, reproduced for PreviewProxy's canonical string: values are parsed
 * as f32 there and written with `Display` (`blur=0.8`) or `{:.4}` (`wm_opacity=0.5000`), so a
 * signature computed by a PreviewProxy client only verifies if we print the same digits.
 */

/** Plain decimal notation of a JS number string that may use an exponent (`1e-7`). */
function plain(s: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(s);
  if (!m) return s;
  const [, sign = '', int = '', frac = '', expText = '0'] = m;
  const digits = int + frac;
  const point = int.length + Number(expText);
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`.replace(/\.?0+$/, '');
  if (point >= digits.length) return sign + digits + '0'.repeat(point - digits.length);
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`.replace(/\.?0+$/, '');
}

/** `format!("{}", v as f32)`: the shortest digits that read back as the same f32. */
export function f32Display(v: number): string {
  const x = Math.fround(v);
  if (Object.is(x, -0)) return '-0';
  if (Number.isInteger(x)) return BigInt(x).toString();
  for (let p = 1; p <= 9; p++) {
    const s = x.toPrecision(p);
    if (Math.fround(Number(s)) === x) return plain(String(Number(s)));
  }
  return plain(String(x));
}

/** `format!("{:.4}", v as f32)`: the exact f32 value rounded half-to-even at 4 decimals. */
export function f32Fixed4(v: number): string {
  const x = Math.fround(v);
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  // toFixed(60) is exact for every f32 that does not round to 0.0000 anyway.
  const [int = '0', frac = ''] = Math.abs(x).toFixed(60).split('.');
  let n = BigInt(int + frac.slice(0, 4));
  const next = frac.charCodeAt(4) - 48;
  const rest = /[1-9]/.test(frac.slice(5));
  if (next > 5 || (next === 5 && (rest || n % 2n === 1n))) n += 1n;
  const s = n.toString().padStart(5, '0');
  return `${sign}${s.slice(0, -4)}.${s.slice(-4)}`;
}
