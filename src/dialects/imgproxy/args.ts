/**
 * Argument parsers for imgproxy processing options, mirroring Go's strconv rules where
 * imgproxy relies on them (ParseBool; numbers are in arg-ranges.ts). Every failure is a
 * ProxyError INVALID_URL that names the option, what it expects and what came, so bad
 * input can never surface as a 500.
 */
import { ProxyError } from '../../errors.js';
import { num } from './arg-ranges.js';
import { OUTPUT_FORMATS, type OutputFormat } from '../../formats.js';
import { COMPASS_GRAVITIES, type Gravity, type GravityType } from '../../options.js';

export function invalidArg(name: string, expected: string, got: string): ProxyError {
  return new ProxyError('INVALID_URL', `Invalid ${name}: expected ${expected}, got ${JSON.stringify(got)}`);
}

/**
 * imgproxy Pro's object-detection features (`obj`/`objw` gravities, `crop_objects`,
 * `blur_detections`, `draw_detections`) run an operator-supplied model; none of the npm
 * packages that ship weights serves them (they detect faces only, or load their weights from a
 * hub at run time), so they are refused with their own status instead of an "unknown option".
 */
export function objectDetectionUnavailable(what: string): ProxyError {
  return new ProxyError('UNSUPPORTED_OPTION', `${what} needs object detection, which this server does not have (no detection model is installed)`);
}

export function ensureMaxArgs(name: string, args: readonly string[], max: number): void {
  if (args.length > max) {
    throw new ProxyError('INVALID_URL', `Invalid ${name} arguments: expected at most ${max}, got ${args.length} (${args.join(':')})`);
  }
}

/** `args[i]`, or '' when absent (noUncheckedIndexedAccess). */
export function arg(args: readonly string[], i: number): string {
  return args[i] ?? '';
}

const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);

/**
 * imgproxy logs an invalid boolean and treats it as false instead of failing the request;
 * we keep the outcome (false) so URLs that work there work here.
 */
export function parseBool(value: string): boolean {
  return GO_TRUE.has(value);
}

const HEX_RE = /^(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;

/** `rgb` or `rrggbb` → lowercase `rrggbb`. */
export function parseHexColor(name: string, value: string): string {
  if (!HEX_RE.test(value)) throw invalidArg(name, 'a hex colour (rgb or rrggbb)', value);
  const v = value.toLowerCase();
  return v.length === 3 ? [...v].map((c) => c + c).join('') : v;
}

export { hexToRgb } from '../../options.js';

const FORMAT_ALIASES: Readonly<Record<string, OutputFormat>> = { jpg: 'jpeg' };

/** Whether `value` names an output format (or one of its aliases), as parseFormat takes it. */
export function isFormatName(value: string): boolean {
  const v = value.toLowerCase();
  return (OUTPUT_FORMATS as readonly string[]).includes(FORMAT_ALIASES[v] ?? v);
}

export function parseFormat(name: string, value: string): OutputFormat {
  const v = value.toLowerCase();
  const f = FORMAT_ALIASES[v] ?? v;
  if (!(OUTPUT_FORMATS as readonly string[]).includes(f)) throw invalidArg(name, `one of ${OUTPUT_FORMATS.join(', ')}, jpg`, value);
  return f as OutputFormat;
}

export function parseEnum<const T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw invalidArg(name, `one of ${allowed.join(', ')}`, value);
  return value as T;
}

/** URL-safe base64 without padding (Go's RawURLEncoding after trimming `=`), strictly. */
export function decodeBase64Url(value: string): Buffer | undefined {
  const v = value.replace(/=+$/, '');
  if (!/^[A-Za-z0-9_-]*$/.test(v) || v.length % 4 === 1) return undefined;
  return Buffer.from(v, 'base64url');
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Bytes → string, or undefined when they are not valid UTF-8. */
export function utf8(bytes: Uint8Array): string | undefined {
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

export const CROP_GRAVITIES: readonly GravityType[] = [...COMPASS_GRAVITIES, 'sm', 'fp'];
export const EXTEND_GRAVITIES: readonly GravityType[] = [...COMPASS_GRAVITIES, 'fp'];

/**
 * `type[:x[:y]]` onto `prev`: offsets not given, or given empty (`no::5`), keep their
 * previous value (imgproxy keeps them in its key map and skips empty ones), `sm` takes no
 * offsets and clears them, `fp` needs exactly two coordinates in [0, 1] (imgproxy
 * options/parser/parse.go parseGravity).
 */
export function parseGravity(name: string, args: readonly string[], allowed: readonly GravityType[], prev: Gravity): Gravity {
  // Pro's object gravities exist for cropping only (extend refuses them like any unknown type).
  if (allowed === CROP_GRAVITIES && (arg(args, 0) === 'obj' || arg(args, 0) === 'objw')) throw objectDetectionUnavailable(`${name} ${arg(args, 0)}`);
  const type = parseEnum(`${name} type`, arg(args, 0), allowed);
  if (type === 'sm') {
    ensureMaxArgs(name, args, 1);
    return { type, x: 0, y: 0 };
  }
  if (type === 'fp' && args.length !== 3) {
    throw new ProxyError('INVALID_URL', `Invalid ${name} arguments: fp needs x and y, got ${JSON.stringify(args.join(':'))}`);
  }
  ensureMaxArgs(name, args, 3);
  const fp = type === 'fp';
  const key = fp ? 'focus point' : 'gravity offset';
  // A kept pixel offset (`g:no:30/g:fp::0.5`) cannot be a focus point: held to its edge.
  const keep = (v: number): number => (fp ? Math.min(Math.max(v, 0), 1) : v);
  const x = arg(args, 1) !== '' ? num(key, arg(args, 1), `${name} x offset`) : keep(prev.x);
  const y = arg(args, 2) !== '' ? num(key, arg(args, 2), `${name} y offset`) : keep(prev.y);
  return { type, x, y };
}
