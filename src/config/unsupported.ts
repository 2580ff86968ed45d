/**
 * The peers' variables pixproxy knows but does not apply (yet): imgproxy's
 * (https://github.com/imgproxy/imgproxy, its `config.go` files under the v4 line) and
 * PreviewProxy's (https://github.com/ViGrise/previewproxy, `src/common/config/loader.rs`).
 * Each is parsed with the peer's grammar; a value the peer would treat as its default (the
 * feature off) is accepted, anything else stops startup naming the variable and why, so a
 * configuration copied from a peer never loses a setting silently. Where pixproxy's
 * behaviour is not the peer's default, the entry says which value matches what pixproxy does.
 *
 * Implementing one: give it a field in its section of the schema (./schema/) and delete its
 * entry here (the table in docs/configuration.md then lists it as applied).
 */
import { bool, int, str, type Field } from './fields.js';
import type { SchemaValues } from './types.js';

export interface Unsupported {
  readonly name: string;
  /** Why it is not applied, one line. */
  readonly reason: string;
  /** The values accepted, in words, for messages and the docs. */
  readonly accepted: string;
  /** Whether a set, non-empty value is accepted. */
  accepts(raw: string, config: SchemaValues): boolean;
}

const isEmpty = (v: unknown): boolean => v === '' || v === undefined || (Array.isArray(v) && v.length === 0);
const shown = (v: unknown): string => `\`${Array.isArray(v) ? v.join(',') : String(v)}\``;

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * A variable refused unless its value means the peer's default (`accepts` narrows or moves
 * that: the value that matches what pixproxy does, or none).
 */
function refuse<T>(field: Field<T>, reason: string, opts: { accepts?: (v: T, c: SchemaValues) => boolean; accepted?: string } = {}): Unsupported {
  const check = opts.accepts ?? ((v: T) => same(v, field.default));
  return {
    name: field.names[0] ?? '',
    reason,
    accepted: opts.accepted ?? (isEmpty(field.default) ? 'unset or empty' : `${shown(field.default)} (the default)`),
    accepts(raw, config) {
      let v: T;
      try {
        v = field.parse(raw);
      } catch {
        return false;
      }
      return check(v, config);
    },
  };
}


const vendor = (who: string): string => `${who} needs a vendor SDK that pixproxy does not bundle (use the logs and /metrics)`;
const OTEL = 'OpenTelemetry export is not implemented yet; metrics are served in Prometheus format';
const SECRETS = (where: string): string => `loading variables from ${where} is not supported; pass them in the environment or IMGPROXY_ENV_LOCAL_FILE_PATH`;
const UNLIMITED = (format: string): string => `it lifts the ${format} decoder's guards against files whose metadata or strips would exhaust memory, which pixproxy keeps for every source`;
// The SDK's own chain assumes roles: a profile with role_arn (and external_id) in AWS_CONFIG_FILE.
const ASSUME_ROLE = 'not applied: the S3 client takes its credentials from the AWS SDK\'s default chain, which assumes a role itself: set AWS_PROFILE to a profile with role_arn, source_profile or credential_source, and external_id in AWS_CONFIG_FILE (or AWS_ROLE_ARN with AWS_WEB_IDENTITY_TOKEN_FILE)';

export const unsupported: readonly Unsupported[] = [
  // imgproxy: error reporters and monitoring vendors
  refuse(int('IMGPROXY_AIRBRAKE_PROJECT_ID', 0), vendor('Airbrake')),
  refuse(str('IMGPROXY_AIRBRAKE_PROJECT_KEY'), vendor('Airbrake')),
  refuse(str('IMGPROXY_AIRBRAKE_ENVIRONMENT', 'production'), vendor('Airbrake')),
  refuse(str('IMGPROXY_BUGSNAG_KEY'), vendor('Bugsnag')),
  refuse(str('IMGPROXY_BUGSNAG_STAGE', 'production'), vendor('Bugsnag')),
  refuse(str('IMGPROXY_HONEYBADGER_KEY'), vendor('Honeybadger')),
  refuse(str('IMGPROXY_HONEYBADGER_ENV', 'production'), vendor('Honeybadger')),
  refuse(str('IMGPROXY_SENTRY_DSN'), vendor('Sentry')),
  refuse(str('IMGPROXY_SENTRY_ENVIRONMENT', 'production'), vendor('Sentry')),
  refuse(str('IMGPROXY_SENTRY_RELEASE'), vendor('Sentry')),
  refuse(bool('IMGPROXY_REPORT_DOWNLOADING_ERRORS', true), 'it steers the error reporters (Sentry, Bugsnag, …), which pixproxy does not have'),
  refuse(bool('IMGPROXY_REPORT_IO_ERRORS', false), 'it steers the error reporters (Sentry, Bugsnag, …), which pixproxy does not have'),
  refuse(str('IMGPROXY_NEW_RELIC_KEY'), vendor('New Relic')),
  refuse(str('IMGPROXY_NEW_RELIC_APP_NAME', 'imgproxy'), vendor('New Relic')),
  refuse(str('IMGPROXY_NEW_RELIC_LABELS'), vendor('New Relic')),
  refuse(bool('IMGPROXY_NEW_RELIC_PROPAGATE_EXTERNAL', false), vendor('New Relic')),
  refuse(bool('IMGPROXY_DATADOG_ENABLE', false), vendor('Datadog')),
  refuse(bool('IMGPROXY_DATADOG_ENABLE_ADDITIONAL_METRICS', false), vendor('Datadog')),
  refuse(bool('IMGPROXY_DATADOG_PROPAGATE_EXTERNAL', false), vendor('Datadog')),
  refuse(str('IMGPROXY_CLOUD_WATCH_SERVICE_NAME'), vendor('CloudWatch')),
  refuse(str('IMGPROXY_CLOUD_WATCH_NAMESPACE', 'imgproxy'), vendor('CloudWatch')),
  refuse(str('IMGPROXY_CLOUD_WATCH_REGION'), vendor('CloudWatch')),
  // imgproxy: OpenTelemetry
  refuse(bool('IMGPROXY_OPEN_TELEMETRY_ENABLE_LOGS', false), OTEL),
  refuse(str('IMGPROXY_OPEN_TELEMETRY_LOGGER_NAME', 'imgproxy'), OTEL),
  refuse(bool('IMGPROXY_OPEN_TELEMETRY_PROPAGATE_EXTERNAL', false), OTEL),
  // imgproxy: variables loaded from secret stores
  refuse(str('IMGPROXY_ENV_AWS_SECRET_ID'), SECRETS('AWS Secrets Manager')),
  refuse(str('IMGPROXY_ENV_AWS_SECRET_VERSION_ID'), SECRETS('AWS Secrets Manager')),
  refuse(str('IMGPROXY_ENV_AWS_SECRET_VERSION_STAGE'), SECRETS('AWS Secrets Manager')),
  refuse(str('IMGPROXY_ENV_AWS_SECRET_REGION'), SECRETS('AWS Secrets Manager')),
  refuse(str('IMGPROXY_ENV_AWS_SSM_PARAMETERS_PATH'), SECRETS('AWS Systems Manager')),
  refuse(str('IMGPROXY_ENV_AWS_SSM_PARAMETERS_REGION'), SECRETS('AWS Systems Manager')),
  refuse(str('IMGPROXY_ENV_GCP_SECRET_ID'), SECRETS('Google Secret Manager')),
  refuse(str('IMGPROXY_ENV_GCP_SECRET_VERSION_ID'), SECRETS('Google Secret Manager')),
  refuse(str('IMGPROXY_ENV_GCP_SECRET_PROJECT_ID'), SECRETS('Google Secret Manager')),
  refuse(str('IMGPROXY_ENV_GCP_KEY'), SECRETS('Google Secret Manager')),
  // imgproxy: logging
  refuse(bool('IMGPROXY_LOG_MEM_STATS', false), 'Go memory statistics; Node\'s process metrics are on /metrics'),
  // imgproxy: Go runtime and libvips debugging
  refuse(int('IMGPROXY_FREE_MEMORY_INTERVAL', 10), 'a Go runtime setting (returning freed memory to the OS) with no Node equivalent'),
  refuse(str('IMGPROXY_PPROF_BIND'), 'Go\'s pprof server; profile Node with --inspect or --cpu-prof'),
  refuse(bool('IMGPROXY_VIPS_LEAK_CHECK', false), 'a libvips debugging switch that sharp does not expose'),
  refuse(bool('IMGPROXY_VIPS_CACHE_TRACE', false), 'a libvips debugging switch that sharp does not expose'),
  // imgproxy: server
  refuse(bool('IMGPROXY_SO_REUSEPORT', false), 'Node 20 cannot set SO_REUSEPORT (net\'s `reusePort` arrived in Node 22.12 and is ignored before); PIXPROXY_PROCESSES runs several processes on one socket instead'),
  // imgproxy: processing and formats
  refuse(bool('IMGPROXY_PNG_UNLIMITED', false), UNLIMITED('PNG')),
  refuse(bool('IMGPROXY_TIFF_UNLIMITED', false), UNLIMITED('TIFF')),
  refuse(bool('IMGPROXY_ENFORCE_THUMBNAIL', false), 'sharp does not expose embedded HEIF/AVIF thumbnails (the `enforce_thumbnail` URL option is parsed and ignored)'),
  // imgproxy: origins
  refuse(str('IMGPROXY_S3_ASSUME_ROLE_ARN'), ASSUME_ROLE),
  refuse(str('IMGPROXY_S3_ASSUME_ROLE_EXTERNAL_ID'), ASSUME_ROLE),
  refuse(bool('IMGPROXY_S3_USE_DECRYPTION_CLIENT', false), 'S3 client-side decryption needs an S3 Encryption Client, and none exists for the AWS SDK for JavaScript v3 that pixproxy uses; decrypt server-side (SSE-S3/SSE-KMS objects are read as they are)'),
  refuse(str('IMGPROXY_S3_ACCESS_POINTS'), 'S3 access points are not implemented yet'),

  // PreviewProxy
];

/** One error per set variable of the list whose value is not accepted. */
export function unsupportedErrors(env: Readonly<Record<string, string | undefined>>, config: SchemaValues): string[] {
  const out: string[] = [];
  for (const u of unsupported) {
    const raw = env[u.name];
    if (raw === undefined || raw.trim() === '' || u.accepts(raw, config)) continue;
    out.push(`${u.name}: not supported: ${u.reason}; expected ${u.accepted}, got ${JSON.stringify(raw)}`);
  }
  return out;
}
