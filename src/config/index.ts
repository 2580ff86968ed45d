/**
 * Loads the configuration once: the environment over an optional `.env` file (and the file
 * IMGPROXY_ENV_LOCAL_FILE_PATH names over both, as imgproxy loads it), every field parsed
 * against the schema, the peers' unsupported variables refused, cross-field and storage-backend
 * rules checked, the listen addresses derived; then the result is deep-frozen.
 *
 * Every problem is collected before anything is reported: `inspectConfig` returns them all
 * with the warnings (unknown or deprecated names, ignored ones); `loadConfig` throws one
 * ConfigError carrying all of them, which main.ts prints before exiting non-zero.
 */
import { readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { checkBackends } from './backends.js';
import { ConfigError, type Field } from './fields.js';
import { listenAddresses } from './listen-addresses.js';
import { unknownPpBestFormats } from './encoder-fields.js';
import { previewProxyWarnings } from './previewproxy-fields.js';
import { deprecatedNames, schema } from './schema.js';
import { setName, type Config, type Env, type Findings, type SchemaValues } from './types.js';
import { unknownVariableWarnings } from './unknown.js';
import { unsupported, unsupportedErrors } from './unsupported.js';

export { ConfigError } from './fields.js';
export { schema } from './schema.js';
export type { Config, Env } from './types.js';
export type { ListenAddress, TcpAddress, UnixAddress } from './listen.js';
export { listenOptions, showAddress } from './listen.js';

export interface ConfigReport {
  /** The frozen configuration, or null when there is any error. */
  readonly config: Config | null;
  /** Every problem that stops startup, each naming its variable. */
  readonly errors: readonly string[];
  /** One log line each at startup. */
  readonly warnings: readonly string[];
}

function readEnvFile(path: string, variable: string, optional: boolean): Record<string, string> {
  try {
    return parseDotenv(readFileSync(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (optional && code === 'ENOENT') return {};
    throw new ConfigError(`${variable}: cannot read ${JSON.stringify(path)} (${code ?? (err as Error).message})`);
  }
}

/**
 * Reads `.env` from `dotenvPath` if it exists, real environment variables winning; then the
 * file IMGPROXY_ENV_LOCAL_FILE_PATH names, whose values win over both (imgproxy sets them
 * into its environment: https://github.com/imgproxy/imgproxy/blob/master/env/load.go).
 */
export function readEnv(processEnv: Env = process.env, dotenvPath = '.env'): Env {
  const env = { ...readEnvFile(dotenvPath, dotenvPath, true), ...processEnv };
  const local = env.IMGPROXY_ENV_LOCAL_FILE_PATH?.trim();
  return local ? { ...env, ...readEnvFile(local, 'IMGPROXY_ENV_LOCAL_FILE_PATH', false) } : env;
}

/** The value of a field and the variable it came from; a parse error names that variable. */
function readField<T>(f: Field<T>, env: Env): { value: T; error?: { name: string; message: string } } {
  for (const name of f.names) {
    const raw = env[name];
    if (raw === undefined) continue;
    if (raw.trim() === '') return { value: f.onEmpty ? f.onEmpty() : f.default };
    try {
      return { value: f.parse(raw) };
    } catch (err) {
      if (err instanceof ConfigError) return { value: f.default, error: { name, message: `${name}: ${err.message}` } };
      throw err;
    }
  }
  return { value: f.default };
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o) && !Buffer.isBuffer(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}

function checkKeys(v: SchemaValues, f: Findings): void {
  if (f.parsed('IMGPROXY_KEY', 'IMGPROXY_SALT') && v.security.keys.length !== v.security.salts.length) {
    f.error(`IMGPROXY_KEY and IMGPROXY_SALT: expected the same number of keys and salts, got ${v.security.keys.length} keys and ${v.security.salts.length} salts`);
  }
}

/** The admin API purges and reads the cache: it is refused without a secret worth the name. */
function checkAdmin(v: SchemaValues, f: Findings): void {
  const a = v.admin;
  const on = a.bind.trim() !== '' ? 'PIXPROXY_ADMIN_BIND' : a.pathPrefix !== '' ? 'PIXPROXY_ADMIN_PATH_PREFIX' : null;
  if (on === null) return;
  if (a.secret === '') f.error(`PIXPROXY_ADMIN_SECRET: expected a secret of at least ${ADMIN_SECRET_MIN} characters when ${on} turns the admin API on, got none`);
  else if (a.secret.length < ADMIN_SECRET_MIN) f.error(`PIXPROXY_ADMIN_SECRET: expected at least ${ADMIN_SECRET_MIN} characters (e.g. \`openssl rand -hex 32\`), got ${a.secret.length}`);
  const images = v.server.pathPrefix;
  // The admin prefix is matched first: one that covers every image route would hide them all.
  if (a.pathPrefix !== '' && (images === a.pathPrefix || images.startsWith(`${a.pathPrefix}/`))) {
    f.error(`PIXPROXY_ADMIN_PATH_PREFIX: expected a path outside IMGPROXY_PATH_PREFIX's routes (${images}), got ${JSON.stringify(a.pathPrefix)}`);
  }
}

/** Shortest PIXPROXY_ADMIN_SECRET accepted: 32 characters (128 bits as hex, more as random text). */
export const ADMIN_SECRET_MIN = 32;

function checkDeprecated(v: SchemaValues, f: Findings): void {
  for (const [old, replacement] of Object.entries(deprecatedNames)) {
    if (setName(f.env, [old]) === undefined) continue;
    const text = `${old} is deprecated (imgproxy no longer reads it): use ${replacement}`;
    if (v.server.failOnDeprecation) f.error(`${old}: ${text}; IMGPROXY_FAIL_ON_DEPRECATION is set`);
    else f.warn(text);
  }
}

/**
 * PreviewProxy's startup rules (Configuration::new in src/common/config/loader.rs,
 * https://github.com/ViGrise/previewproxy): an enabled source without its settings stops
 * startup; production without a signature key or a host allowlist is logged loudly.
 */
/** A readiness path must be a path, and not one the health check already answers. */
function checkReadiness(v: SchemaValues, f: Findings): void {
  const p = v.server.readinessPath;
  if (!p.startsWith('/')) f.error(`PIXPROXY_READINESS_PATH: expected a path starting with "/", got ${JSON.stringify(p)}`);
  else if (p === '/health' || p === v.server.healthCheckPath) f.error(`PIXPROXY_READINESS_PATH: expected a path other than the health check's, got ${JSON.stringify(p)}`);
}

function checkPreviewProxy(v: SchemaValues, f: Findings): void {
  const pp = v.previewproxy;
  if (pp.s3Enabled && pp.s3Bucket === '') f.error('PP_S3_ENABLED: expected PP_S3_BUCKET to be set when it is true');
  // Off by default there too; said, so that a bucket set alone is not a silent 400.
  if (!pp.s3Enabled && f.env.PP_S3_BUCKET) f.warn('PP_S3_BUCKET is set but PP_S3_ENABLED is not true: PreviewProxy s3:/ sources are off');
  if (!pp.localEnabled && f.env.PP_LOCAL_BASE_DIR) f.warn('PP_LOCAL_BASE_DIR is set but PP_LOCAL_ENABLED is not true: PreviewProxy local:/ sources are off');
  if ((pp.s3AccessKeyId === '') !== (pp.s3SecretAccessKey === '')) {
    f.error(`${pp.s3AccessKeyId === '' ? 'PP_S3_ACCESS_KEY_ID' : 'PP_S3_SECRET_ACCESS_KEY'}: expected PP_S3_ACCESS_KEY_ID and PP_S3_SECRET_ACCESS_KEY together, got only the other one`);
  }
  if (pp.localEnabled && v.download.localFilesystemRoot === '') f.error('PP_LOCAL_ENABLED: expected PP_LOCAL_BASE_DIR (or IMGPROXY_LOCAL_FILESYSTEM_ROOT) to be set when it is true');
  if (pp.appEnv === 'production') {
    if (pp.hmacKey === '') f.warn('PP_APP_ENV=production without PP_HMAC_KEY: PreviewProxy URLs are not signed (a security risk)');
    if (pp.allowedHosts.length === 0) f.warn('PP_APP_ENV=production without PP_ALLOWED_HOSTS: PreviewProxy URLs may name any host (a security risk)');
  }
  previewProxyWarnings(f.env, f);
  const best = f.env.PP_BEST_FORMAT_PREFERRED_FORMATS;
  if (best !== undefined) for (const t of unknownPpBestFormats(best)) f.warn(`PP_BEST_FORMAT_PREFERRED_FORMATS: unknown format ${JSON.stringify(t)} ignored`);
}

/** Every variable name pixproxy knows: the schema's (canonical first) and the refused peers' ones. */
export function knownVariables(): string[] {
  const fields = Object.values(schema).flatMap((section) => Object.values(section as Record<string, Field<unknown>>).flatMap((f) => [...f.names]));
  return [...fields, ...unsupported.map((u) => u.name)];
}

/** Checks an environment: the configuration it makes, or every reason it cannot start. */
export function inspectConfig(env: Env = readEnv()): ConfigReport {
  const errors: string[] = [];
  const warnings: string[] = [];
  const failed = new Set<string>();
  const findings: Findings = {
    env,
    error: (m) => errors.push(m),
    warn: (m) => warnings.push(m),
    parsed: (...names) => names.every((n) => !failed.has(n)),
  };
  const values: Record<string, Record<string, unknown>> = {};
  for (const [section, fields] of Object.entries(schema)) {
    const out: Record<string, unknown> = {};
    for (const [key, f] of Object.entries(fields as Record<string, Field<unknown>>)) {
      const r = readField(f, env);
      if (r.error) {
        errors.push(r.error.message);
        for (const n of f.names) failed.add(n);
      }
      out[key] = r.value;
    }
    values[section] = out;
  }
  const v = values as unknown as SchemaValues;
  const listen = listenAddresses(v, findings);
  checkKeys(v, findings);
  checkAdmin(v, findings);
  checkBackends(v, findings);
  for (const e of unsupportedErrors(env, v)) errors.push(e);
  checkDeprecated(v, findings);
  checkPreviewProxy(v, findings);
  checkReadiness(v, findings);
  warnings.push(...unknownVariableWarnings(env, new Set(knownVariables())));
  return { config: errors.length === 0 ? deepFreeze({ ...v, ...listen } as Config) : null, errors, warnings };
}

/** Builds the frozen configuration from an environment map. Throws a ConfigError listing every problem. */
export function loadConfig(env: Env = readEnv()): Config {
  const report = inspectConfig(env);
  if (report.config === null) throw new ConfigError(report.errors);
  return report.config;
}
