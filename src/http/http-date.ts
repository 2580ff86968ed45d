/**
 * HTTP-date (RFC 9110 §5.6.7, https://www.rfc-editor.org/rfc/rfc9110#section-5.6.7): the
 * IMF-fixdate every sender uses, plus the two obsolete forms a recipient must still accept
 * (RFC 850 and asctime). Strict, unlike `Date.parse`, which takes "2015-10-21" or "tomorrow 5pm"
 * in some engines: imgproxy drops an origin's Last-Modified it cannot read with Go's
 * `http.ParseTime` (the same three forms), and reads an origin's Expires only as IMF-fixdate
 * (`time.Parse(http.TimeFormat, …)` in server/responsewriter/writer.go,
 * https://github.com/imgproxy/imgproxy/blob/master/server/responsewriter/writer.go).
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MON = MONTHS.join('|');
const DAY = 'Mon|Tue|Wed|Thu|Fri|Sat|Sun';
const WEEKDAY = 'Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';

const IMF_FIXDATE = new RegExp(`^(?:${DAY}), (\\d{2}) (${MON}) (\\d{4}) ${TIME} GMT$`);
const RFC850 = new RegExp(`^(?:${WEEKDAY}), (\\d{2})-(${MON})-(\\d{2}) ${TIME} GMT$`);
const ASCTIME = new RegExp(`^(?:${DAY}) (${MON}) ( \\d|\\d{2}) ${TIME} (\\d{4})$`);

function build(year: number, month: string, day: number, h: number, m: number, s: number): number | null {
  const mon = MONTHS.indexOf(month);
  if (mon < 0 || day < 1 || h > 23 || m > 59 || s > 60) return null;
  const ms = Date.UTC(year, mon, day, h, m, Math.min(s, 59));
  // Date.UTC rolls 31 Feb over into March; a real date stays in its month.
  return new Date(ms).getUTCMonth() === mon ? ms : null;
}

/**
 * Epoch ms of an HTTP-date, or null when it is none. `imfOnly`: only IMF-fixdate (what
 * imgproxy accepts in Expires).
 */
export function parseHttpDate(value: string | undefined, imfOnly = false): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  let m = IMF_FIXDATE.exec(v);
  if (m) return build(Number(m[3]), m[2] ?? '', Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  if (imfOnly) return null;
  m = RFC850.exec(v);
  if (m) {
    // RFC 9110 §5.6.7: a two-digit year more than 50 years ahead is in the past century;
    // Go's "06" layout reads 69–99 as 19xx and 00–68 as 20xx, which is the same rule today.
    const yy = Number(m[3]);
    return build(yy >= 69 ? 1900 + yy : 2000 + yy, m[2] ?? '', Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  }
  m = ASCTIME.exec(v);
  if (m) return build(Number(m[7]), m[1] ?? '', Number((m[2] ?? '').trim()), Number(m[3]), Number(m[4]), Number(m[5]));
  return null;
}

/** IMF-fixdate of epoch ms (`Wed, 21 Oct 2015 07:28:00 GMT`). */
export function formatHttpDate(ms: number): string {
  return new Date(ms).toUTCString();
}
