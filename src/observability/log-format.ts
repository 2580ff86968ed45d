/**
 * imgproxy's four log formats (IMGPROXY_LOG_FORMAT; https://github.com/imgproxy/imgproxy/tree/master/logger,
 * formatter_json.go, formatter_structured.go, formatter_pretty.go) over pino:
 *
 * - `json`: `{"time":"<RFC 3339>","level":"INFO","msg":"…",…}`;
 * - `gcp`: the same with `severity` and `message`, the keys Google Cloud Logging reads;
 * - `structured`: `time="2006-01-02 15:04:05" level="INFO" msg="…" key="value"`, strings quoted,
 *   nested objects flattened to `a.b=`;
 * - `pretty`: `2006-01-02 15:04:05 [INF] message key=value`, coloured, quoting only when needed.
 *
 * Level names are imgproxy's (DEBUG, INFO, WARNING, ERROR, CRITICAL); `error`, `source` and
 * `stack` go last, as imgproxy puts them. pino serialises each record to JSON with these
 * names; the two text formats re-render that line (`renderText`), which costs a parse per
 * line and is meant for people reading a terminal, not for the hot path of a busy server.
 */

export type LogFormat = 'pretty' | 'structured' | 'json' | 'gcp';

/** pino's level label → imgproxy's level name (trace has no imgproxy name: DEBUG). */
export const LEVEL_NAMES: Readonly<Record<string, string>> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

const PRETTY_LEVEL: Readonly<Record<string, string>> = { DEBUG: '[DBG]', INFO: '[INF]', WARNING: '[WRN]', ERROR: '[ERR]', CRITICAL: '[CRT]' };
const COLOUR: Readonly<Record<string, readonly [string, string]>> = {
  DEBUG: ['\x1b[34m', '\x1b[1;34m'],
  INFO: ['\x1b[32m', '\x1b[1;32m'],
  WARNING: ['\x1b[33m', '\x1b[1;33m'],
  ERROR: ['\x1b[31m', '\x1b[1;31m'],
  CRITICAL: ['\x1b[31m', '\x1b[1;31m'],
};
const RESET = '\x1b[0m';
const SPECIAL = ['error', 'source', 'stack'] as const;

const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** RFC 3339 in UTC without fractions, Go's time.RFC3339 for a UTC clock. */
export function rfc3339(d: Date): string {
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}Z`;
}

/** Go's time.DateTime (`2006-01-02 15:04:05`) in local time, as imgproxy's text formats print it. */
function dateTime(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Characters imgproxy prints unquoted in a text-format value (buffer.go, quoteSafeSet). */
const SAFE = /^[!#$%&()*+,\-./0-9;<>?@A-Z[\]^_a-z|~]*$/;

const quoted = (s: string): string => JSON.stringify(s);

function valueText(v: unknown, forceQuote: boolean): string {
  if (typeof v === 'string') return forceQuote || !SAFE.test(v) ? quoted(v) : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return forceQuote ? '""' : '';
  const s = JSON.stringify(v);
  return forceQuote || !SAFE.test(s) ? quoted(s) : s;
}

function flatten(obj: Record<string, unknown>, prefix: string, out: Array<[string, unknown]>): void {
  for (const [k, v] of Object.entries(obj)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, `${prefix}${k}.`, out);
    else out.push([prefix + k, v]);
  }
}

/**
 * A pino JSON line (keys `time`, `level`, `msg`, as this module's json options write them) in
 * imgproxy's structured or pretty format; a line that is not such JSON passes unchanged.
 */
export function renderText(line: string, format: 'structured' | 'pretty'): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { time, level, msg, ...rest } = rec;
  const special: Array<[string, unknown]> = [];
  for (const k of SPECIAL) {
    if (k in rest) {
      special.push([k, rest[k]]);
      delete rest[k];
    }
  }
  const attrs: Array<[string, unknown]> = [];
  flatten(rest, '', attrs);
  const levelName = typeof level === 'string' ? level : 'INFO';
  const when = new Date(typeof time === 'string' ? time : Date.now());
  const message = typeof msg === 'string' ? msg : '';
  if (format === 'structured') {
    const parts = [`time="${dateTime(when)}"`, `level=${quoted(levelName)}`, `msg=${quoted(message)}`];
    for (const [k, v] of [...attrs, ...special]) parts.push(`${valueText(k, false)}=${valueText(v, true)}`);
    return `${parts.join(' ')}\n`;
  }
  const [thin, bold] = COLOUR[levelName] ?? ['', ''];
  let out = `${dateTime(when)} ${bold}${PRETTY_LEVEL[levelName] ?? levelName}${RESET} ${message}`;
  let stack: unknown;
  for (const [k, v] of [...attrs, ...special]) {
    if (k === 'stack') {
      stack = v;
      continue;
    }
    out += ` ${thin}${valueText(k, false)}${RESET}=${valueText(v, false)}`;
  }
  if (typeof stack === 'string') out += `\n\x1b[2m${stack}${RESET}`;
  return `${out}\n`;
}
