/**
 * Field constructors for the configuration schema: each field knows its environment
 * names (canonical first, aliases after), its default, how to parse a raw string and a
 * short description of what it accepts, used verbatim in the startup error message.
 * `.describe(text)` adds what the variable does, for the README's configuration reference.
 */

/**
 * A configuration that cannot start. It carries every problem found, each naming its
 * variable, what it accepts and what it got, so one run reports them all (imgproxy joins its
 * variables' errors the same way: `errors.Join` in
 * https://github.com/imgproxy/imgproxy/blob/master/server/config.go).
 */
export class ConfigError extends Error {
  readonly problems: readonly string[];

  constructor(problems: string | readonly string[]) {
    const list = typeof problems === 'string' ? [problems] : [...problems];
    super(list.join('\n'));
    this.name = 'ConfigError';
    this.problems = list;
  }
}

export interface Field<T> {
  readonly names: readonly string[];
  readonly default: T;
  /** Human text of what the variable accepts, for error messages and docs. */
  readonly accepts: string;
  /** Parses a non-empty raw value; throws ConfigError (message without the name). */
  parse(raw: string): T;
  /** What an explicitly empty value means; the default when absent. */
  readonly onEmpty?: () => T;
  /** What the variable does (the README's "Meaning" column); set with describe(). */
  readonly doc?: string;
  /** The same field with its description. */
  describe(doc: string): DescribedField<T>;
}

export type DescribedField<T> = Field<T> & { readonly doc: string };

/** One section of the schema (./schema/*.ts): its fields by config key, each described. */
export type SchemaSection = Readonly<Record<string, DescribedField<unknown>>>;

function field<T>(names: string | readonly string[], def: T, accepts: string, parse: (raw: string) => T, onEmpty?: () => T): Field<T> {
  const f: Field<T> = {
    names: typeof names === 'string' ? [names] : names,
    default: def,
    accepts,
    parse,
    ...(onEmpty ? { onEmpty } : {}),
    describe: (doc) => ({ ...f, doc }),
  };
  return f;
}

function fail(accepts: string, raw: string): never {
  throw new ConfigError(`expected ${accepts}, got ${JSON.stringify(raw)}`);
}

export function str(names: string | readonly string[], def = ''): Field<string> {
  return field(names, def, 'a string', (raw) => raw);
}

export function int(names: string | readonly string[], def: number, opts: { min?: number; max?: number } = {}): Field<number> {
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = opts;
  const accepts = rangeText('an integer', min, max);
  return field(names, def, accepts, (raw) => {
    if (!/^[+-]?\d+$/.test(raw.trim())) fail(accepts, raw);
    const n = Number(raw.trim());
    if (!Number.isSafeInteger(n) || n < min || n > max) fail(accepts, raw);
    return n;
  });
}

/** Integer that may be absent (undefined default), e.g. an optional budget. */
export function optInt(names: string | readonly string[], opts: { min?: number; max?: number } = {}): Field<number | undefined> {
  const inner = int(names, 0, opts);
  return field<number | undefined>(names, undefined, inner.accepts, (raw) => inner.parse(raw));
}

export function float(names: string | readonly string[], def: number, opts: { min?: number; max?: number } = {}): Field<number> {
  const { min = -Infinity, max = Infinity } = opts;
  const accepts = rangeText('a number', min, max);
  return field(names, def, accepts, (raw) => {
    const n = Number(raw.trim());
    if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max) fail(accepts, raw);
    return n;
  });
}

const TRUE = new Set(['1', 't', 'true', 'yes', 'on', 'y']);
const FALSE = new Set(['0', 'f', 'false', 'no', 'off', 'n']);

/** A boolean spelling (1/0, t/f, true/false, yes/no, on/off, y/n), or undefined. */
function parseBool(raw: string): boolean | undefined {
  const v = raw.trim().toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  return undefined;
}

export function bool(names: string | readonly string[], def: boolean): Field<boolean> {
  const accepts = 'true or false (1/0, t/f, yes/no)';
  return field(names, def, accepts, (raw) => parseBool(raw) ?? fail(accepts, raw));
}

export function oneOf<const T extends string>(names: string | readonly string[], values: readonly T[], def: T): Field<T> {
  const accepts = `one of ${values.join(', ')}`;
  return field(names, def, accepts, (raw) => {
    const v = raw.trim().toLowerCase();
    if ((values as readonly string[]).includes(v)) return v as T;
    return fail(accepts, raw);
  });
}

/** Comma-separated list; empty items dropped; items trimmed. */
export function list(names: string | readonly string[], def: readonly string[] = [], sep = ','): Field<readonly string[]> {
  return field(names, def, `a ${sep === ',' ? 'comma' : JSON.stringify(sep)}-separated list`, (raw) =>
    raw.split(sep).map((s) => s.trim()).filter((s) => s !== ''),
  );
}

/** Comma-separated list of hex strings decoded to bytes (IMGPROXY_KEY / IMGPROXY_SALT). */
export function hexList(names: string | readonly string[]): Field<readonly Buffer[]> {
  const accepts = 'a comma-separated list of hex-encoded strings';
  return field<readonly Buffer[]>(names, [], accepts, (raw) =>
    raw.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
      if (!/^(?:[0-9a-fA-F]{2})+$/.test(s)) fail(accepts, raw);
      return Buffer.from(s, 'hex');
    }),
  );
}

/** AES-128/192/256 key, hex-encoded (both dialects' encrypted source URLs); unset = null. */
export function aesKey(names: string | readonly string[]): Field<Buffer | null> {
  return custom<Buffer | null>(names, null, 'a hex-encoded key of 16, 24 or 32 bytes', (raw) => {
    const v = raw.trim();
    if (!/^(?:[0-9a-fA-F]{2})+$/.test(v) || ![16, 24, 32].includes(v.length / 2)) return undefined;
    return Buffer.from(v, 'hex');
  });
}

/** `a=1,b=2` map with a value parser. */
export function map<T>(names: string | readonly string[], def: Readonly<Record<string, T>>, accepts: string, parseValue: (v: string) => T | undefined): Field<Readonly<Record<string, T>>> {
  return field(names, def, accepts, (raw) => {
    const out: Record<string, T> = {};
    for (const part of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
      const eq = part.indexOf('=');
      if (eq <= 0) fail(accepts, raw);
      const k = part.slice(0, eq).trim().toLowerCase();
      const v = parseValue(part.slice(eq + 1).trim());
      if (v === undefined) fail(accepts, raw);
      out[k] = v;
    }
    return out;
  });
}

/** Escape hatch for fields with a bespoke grammar. */
export function custom<T>(names: string | readonly string[], def: T, accepts: string, parse: (raw: string) => T | undefined, onEmpty?: () => T): Field<T> {
  return field(names, def, accepts, (raw) => {
    const v = parse(raw);
    if (v === undefined) fail(accepts, raw);
    return v;
  }, onEmpty);
}

function rangeText(kind: string, min: number, max: number): string {
  const lo = Number.isFinite(min) && min > Number.MIN_SAFE_INTEGER;
  const hi = Number.isFinite(max) && max < Number.MAX_SAFE_INTEGER;
  if (lo && hi) return `${kind} from ${min} to ${max}`;
  if (lo) return `${kind} ≥ ${min}`;
  if (hi) return `${kind} ≤ ${max}`;
  return kind;
}
