/**
 * PreviewProxy sources → pixproxy source URLs. Two steps, because the signature covers the
 * first: `ppUrl` is PreviewProxy's "resolved" URL (PP_DEFAULT_SOURCE_URL prepended to a
 * relative path, schemes and aliases untouched); `toSourceUrl` then maps schemes
 * (`s3:/key` → `s3://<PP_S3_BUCKET>/key`, `local:/p` → `local:///p`), expands aliases and
 * applies PP_ALLOWED_HOSTS to http(s) sources. Aliases are operator configuration and skip
 * the allowlist, as in PreviewProxy; the SSRF address guard still applies in the http source.
 * A source kind that is off answers PreviewProxy's `invalid_params` with its words
 * (src/modules/proxy/router.rs, https://github.com/ViGrise/previewproxy).
 */
import type { Config } from '../../config/index.js';
import { ppLocalEnabled, ppS3Bucket } from '../../config/previewproxy-fields.js';
import { ProxyError } from '../../errors.js';

type PpConfig = Config['previewproxy'];
type SourceConfig = Pick<Config, 'previewproxy'> & { readonly download: Pick<Config['download'], 'localFilesystemRoot'> };

const ALIAS_RE = /^([A-Za-z0-9_.+-]+):\/(?!\/)(.*)$/s;

function join(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

function isAbsolute(url: string): boolean {
  return url.startsWith('http://') || url.startsWith('https://') || url.includes('://') || /^[^/]*:\//.test(url);
}

/** The URL PreviewProxy signs: relative paths joined onto PP_DEFAULT_SOURCE_URL. */
export function ppUrl(url: string, pp: PpConfig): string {
  if (url === '') throw new ProxyError('BAD_REQUEST', 'Missing source URL');
  if (isAbsolute(url)) return url;
  if (pp.defaultSourceUrl === '') throw new ProxyError('BAD_REQUEST', `Invalid source URL: ${JSON.stringify(url)} is relative and PP_DEFAULT_SOURCE_URL is not set`);
  return join(pp.defaultSourceUrl, url);
}

/** PreviewProxy's allowlist: exact host, or `*.domain` matching exactly one more label. */
export function hostAllowed(host: string, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  const h = host.toLowerCase();
  return allowed.some((entry) => {
    if (!entry.startsWith('*.')) return entry === h;
    const suffix = entry.slice(1);
    const label = h.slice(0, -suffix.length);
    return h.endsWith(suffix) && label !== '' && !label.includes('.');
  });
}

function httpSource(url: string, pp: PpConfig, viaAlias: boolean): string {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    throw new ProxyError('BAD_REQUEST', `Invalid source URL: ${JSON.stringify(url)}`);
  }
  if (host === '') throw new ProxyError('BAD_REQUEST', `Invalid source URL: ${JSON.stringify(url)}`);
  if (!viaAlias && !hostAllowed(host, pp.allowedHosts)) throw new ProxyError('HOST_NOT_ALLOWED', `Source host ${JSON.stringify(host)} is not in PP_ALLOWED_HOSTS`);
  return url;
}

/** PreviewProxy source → the source URL our fetchers take. */
export function toSourceUrl(url: string, config: SourceConfig, viaAlias = false): string {
  const pp = config.previewproxy;
  if (url.startsWith('http://') || url.startsWith('https://')) return httpSource(url, pp, viaAlias);
  if (url.startsWith('s3:/')) {
    const key = url.slice('s3:/'.length).replace(/^\/+/, '');
    const bucket = ppS3Bucket(pp);
    if (bucket === null) throw new ProxyError('BAD_REQUEST', 'S3 source is not enabled');
    if (key === '') throw new ProxyError('BAD_REQUEST', 'Invalid source URL: empty S3 key');
    return `s3://${bucket}/${key}`;
  }
  if (url.startsWith('local:/')) {
    const path = url.slice('local:/'.length).replace(/^\/+/, '');
    if (!ppLocalEnabled(pp, config.download.localFilesystemRoot)) throw new ProxyError('BAD_REQUEST', 'local source is not enabled');
    if (path === '') throw new ProxyError('BAD_REQUEST', 'Invalid source URL: empty local path');
    return `local:///${path}`;
  }
  // PreviewProxy's order and wording (src/modules/proxy/router.rs SourceRouter::fetch,
  // sources/alias.rs): any other `scheme://` is unsupported, `name:/path` is an alias.
  if (url.includes('://')) throw new ProxyError('BAD_REQUEST', 'unsupported scheme');
  const alias = viaAlias ? null : ALIAS_RE.exec(url);
  if (alias) {
    if (Object.keys(pp.urlAliases).length === 0) throw new ProxyError('BAD_REQUEST', 'alias source is not enabled');
    const name = alias[1] ?? '';
    const base = Object.hasOwn(pp.urlAliases, name) ? pp.urlAliases[name] : undefined;
    if (base === undefined) throw new ProxyError('BAD_REQUEST', `unknown alias scheme: ${name}`);
    return toSourceUrl(join(base, alias[2] ?? ''), config, true);
  }
  throw new ProxyError('BAD_REQUEST', 'unrecognized URL format');
}
