/**
 * Loads the configuration once: environment over an optional `.env` file, every field
 * parsed against the schema, cross-field rules checked, the result deep-frozen.
 * An invalid value throws ConfigError naming the variable and what it accepts; main.ts
 * prints it and exits non-zero.
 */
import { readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { ConfigError, type Field } from './fields.js';
import { schema } from './schema.js';

export { ConfigError } from './fields.js';
export { schema } from './schema.js';

type Schema = typeof schema;
type SectionValues<S> = { readonly [K in keyof S]: S[K] extends Field<infer T> ? T : never };
export type Config = { readonly [K in keyof Schema]: SectionValues<Schema[K]> } & {
  /** Derived: host and port to listen on. */
  readonly listen: { readonly host: string; readonly port: number };
};

export type Env = Readonly<Record<string, string | undefined>>;

/** Reads `.env` from `path` if it exists; real environment variables win. */
export function readEnv(processEnv: Env = process.env, dotenvPath = '.env'): Env {
  let fileEnv: Record<string, string> = {};
  try {
    fileEnv = parseDotenv(readFileSync(dotenvPath));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return { ...fileEnv, ...processEnv };
}

function readField<T>(f: Field<T>, env: Env): T {
  for (const name of f.names) {
    const raw = env[name];
    if (raw === undefined) continue;
    if (raw.trim() === '') return f.onEmpty ? f.onEmpty() : f.default;
    try {
      return f.parse(raw);
    } catch (err) {
      if (err instanceof ConfigError) throw new ConfigError(`${name}: ${err.message}`);
      throw err;
    }
  }
  return f.default;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o) && !Buffer.isBuffer(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}

function parseBind(bind: string, port: number | undefined): { host: string; port: number } {
  const m = /^(.*):(\d+)$/.exec(bind.trim());
  if (!m) throw new ConfigError(`IMGPROXY_BIND: expected host:port or :port, got ${JSON.stringify(bind)}`);
  const p = port ?? Number(m[2]);
  if (p > 65535) throw new ConfigError(`IMGPROXY_BIND: port out of range in ${JSON.stringify(bind)}`);
  const host = (m[1] ?? '').replace(/^\[(.*)\]$/, '$1');
  return { host: host === '' ? '0.0.0.0' : host, port: p };
}

/** Builds the frozen configuration from an environment map. Throws ConfigError. */
export function loadConfig(env: Env = readEnv()): Config {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [section, fields] of Object.entries(schema)) {
    const values: Record<string, unknown> = {};
    for (const [key, f] of Object.entries(fields as Record<string, Field<unknown>>)) values[key] = readField(f, env);
    out[section] = values;
  }
  const cfg = out as unknown as Omit<Config, 'listen'>;

  if (cfg.security.keys.length !== cfg.security.salts.length) {
    throw new ConfigError(`IMGPROXY_KEY and IMGPROXY_SALT: expected the same number of keys and salts, got ${cfg.security.keys.length} keys and ${cfg.security.salts.length} salts`);
  }
  if (cfg.server.prometheusBind !== '' && cfg.server.prometheusBind === cfg.server.bind) {
    throw new ConfigError('IMGPROXY_PROMETHEUS_BIND: must differ from IMGPROXY_BIND');
  }
  const listen = parseBind(cfg.server.bind, cfg.server.port);
  return deepFreeze({ ...cfg, listen } as Config);
}

/** Every variable name the schema knows, canonical first; used by docs and tests. */
export function knownVariables(): string[] {
  return Object.values(schema).flatMap((fields) => Object.values(fields as Record<string, Field<unknown>>).flatMap((f) => [...f.names]));
}
