/**
 * The types of the configuration: `Config` (the frozen values, typed from the schema, plus
 * the derived listen addresses), the environment it is read from, and `Findings`, what the
 * checks of ./index.ts report into. A module of its own so the checks can name `Config`
 * without importing the loader that runs them.
 */
import type { Field } from './fields.js';
import type { ListenAddress, TcpAddress } from './listen.js';
import type { schema } from './schema.js';

type Schema = typeof schema;
type SectionValues<S> = { readonly [K in keyof S]: S[K] extends Field<infer T> ? T : never };

/** The schema's values, before the derived fields. */
export type SchemaValues = { readonly [K in keyof Schema]: SectionValues<Schema[K]> };

export type Config = SchemaValues & {
  /** Derived from IMGPROXY_NETWORK, IMGPROXY_BIND, PORT / PP_PORT: where the image server listens. */
  readonly listen: ListenAddress;
  /** Derived from IMGPROXY_PROMETHEUS_BIND: the separate metrics listener, or null for none. */
  readonly metricsListen: TcpAddress | null;
  /** Derived from PIXPROXY_ADMIN_BIND: the admin API's own listener, or null for none. */
  readonly adminListen: TcpAddress | null;
};

export type Env = Readonly<Record<string, string | undefined>>;

/** What a configuration check reports into. */
export interface Findings {
  readonly env: Env;
  /** A problem that stops startup; names the variable, what it accepts and what it got. */
  error(message: string): void;
  /** Worth one log line at startup, not worth refusing to start. */
  warn(message: string): void;
  /** True when none of these variables failed to parse (a rule over them would only echo that error). */
  parsed(...names: readonly string[]): boolean;
}

/** The name among `names` that is set to a non-empty value (empty counts as unset, as in imgproxy). */
export function setName(env: Env, names: readonly string[]): string | undefined {
  return names.find((n) => (env[n] ?? '').trim() !== '');
}
