/**
 * `pixproxy config check`: loads the configuration as the server does, runs the startup
 * checks that need no network (presets, URL replacements, storage backends and their SDKs,
 * the local filesystem root), and prints every variable's effective value with secrets masked;
 * exit 1 with the error when the server would refuse to start. Names under IMGPROXY_, PP_ and
 * PIXPROXY_ that pixproxy does not read are reported: usually a typo.
 */
import { inspectConfig, readEnv, schema, type Config, type Env } from '../config/index.js';
import type { Field } from '../config/fields.js';
import { createImgproxyDialect } from '../dialects/imgproxy/index.js';
import { createPreviewProxyDialect } from '../dialects/previewproxy/index.js';
import { silentLogger } from '../observability/logger.js';
import { checkLocalFilesystemRoot } from '../sources/local.js';
import { createStorageSources } from '../sources/storage-source.js';
import { cacheBackendFactory } from '../storage/index.js';
import { ConfigError, configFailure, parse, type Command } from './command.js';

/** Keys, salts, secrets, passwords and tokens, by name: a new variable named so is masked too. */
const SECRET_NAME = /(?:^|_)(?:KEY|SALT|SECRET|PASSWORD|TOKEN)$/;
const MASK = '********';

export function isSecret(names: readonly string[]): boolean {
  return names.some((n) => SECRET_NAME.test(n));
}

export function formatValue(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (Array.isArray(v)) return v.map(formatValue).join(',');
  if (typeof v === 'object') return Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}=${formatValue(x)}`).join(',');
  return String(v);
}

/** One `NAME=value` line per variable, `# default` or `# set as ALIAS` after it. */
export function describeConfig(config: Config, env: Env, onlySet: boolean): string[] {
  const lines: string[] = [];
  for (const [section, fields] of Object.entries(schema)) {
    const values = config[section as keyof typeof schema] as Readonly<Record<string, unknown>>;
    const block: string[] = [];
    for (const [key, field] of Object.entries(fields as Record<string, Field<unknown>>)) {
      const name = field.names[0] ?? key;
      const setAs = field.names.find((n) => env[n] !== undefined);
      if (onlySet && setAs === undefined) continue;
      const raw = formatValue(values[key]);
      const shown = raw !== '' && isSecret(field.names) ? MASK : raw;
      const note = setAs === undefined ? '  # default' : setAs !== name ? `  # set as ${setAs}` : '';
      block.push(`${name}=${shown}${note}`);
    }
    if (block.length > 0) lines.push(`# ${section}`, ...block, '');
  }
  return lines;
}

/** The startup checks of createApp that do not touch the network; throws ConfigError. Resolves warnings. */
async function startupChecks(config: Config): Promise<string[]> {
  const logger = silentLogger();
  createImgproxyDialect(config, { logger });
  createPreviewProxyDialect(config, { logger });
  createStorageSources(config, logger);
  cacheBackendFactory(config);
  const root = await checkLocalFilesystemRoot(config);
  return root ? [root] : [];
}

export const command: Command = {
  usage: [
    'pixproxy config check [--only-set]',
    '',
    'Exit 0 and the configuration when the server would start with it, exit 1 and why not otherwise.',
    'Storage backends are not contacted.',
    '',
    '  --only-set   only the variables set in the environment or ./.env',
  ].join('\n'),
  async run(args) {
    const { values } = parse(args, { 'only-set': { type: 'boolean' } }, { min: 0, max: 0 });
    const env = readEnv();
    // The server's own validation: every error at once, and the same warnings (unknown names
    // with their closest known one, deprecated names) that startup logs.
    const report = inspectConfig(env);
    let config: Config;
    const warnings = [...report.warnings];
    try {
      if (report.config === null) throw new ConfigError(report.errors);
      config = report.config;
      warnings.push(...(await startupChecks(config)));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(configFailure(err));
      return 1;
    }
    for (const w of warnings) process.stderr.write(`pixproxy config check: warning: ${w}\n`);
    process.stdout.write(describeConfig(config, env, values['only-set'] === true).join('\n'));
    process.stderr.write('pixproxy config check: the configuration is valid\n');
    return 0;
  },
};
