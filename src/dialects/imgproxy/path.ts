/**
 * Splits a raw imgproxy request path into signature and signed path, after undoing the
 * normalisations proxies, CDNs and tools apply (imgproxy handlers/path.go,
 * https://github.com/imgproxy/imgproxy/blob/master/handlers/path.go): `%3A` in the options
 * part back to `:` (issue #1581) and `scheme:/` back to `scheme://` in plain sources. Done
 * before verification, so the signature covers the normalised form.
 */
import { ProxyError } from '../../errors.js';

export interface SplitPath {
  readonly signature: string;
  /** Everything after the signature segment, leading `/` included: what is signed. */
  readonly signedPath: string;
  /** signedPath split on `/`, without the leading empty segment. */
  readonly parts: readonly string[];
}

/** Only the options part: the source after `plain/` keeps its escapes (it is unescaped later). */
function unescapeOptionColons(path: string): string {
  const parts = path.split('/');
  const plain = parts.indexOf('plain');
  const end = plain === -1 ? parts.length : plain;
  for (let i = 0; i < end; i++) parts[i] = (parts[i] ?? '').replace(/%3a/gi, ':');
  return parts.join('/');
}

const COLLAPSED_SCHEME = /(^|\/)plain\/([A-Za-z][A-Za-z0-9+.-]*):\/(?=[^/])/;

function restoreSchemeSlashes(path: string): string {
  return path.replace(COLLAPSED_SCHEME, (_m, lead: string, scheme: string) =>
    // local:///path has an empty host, so its collapsed form lost two slashes.
    `${lead}plain/${scheme}://${scheme === 'local' ? '/' : ''}`,
  );
}

/** `rawPath`: after the path prefix, still percent-encoded, query string removed. */
export function splitPath(rawPath: string): SplitPath {
  const trimmed = rawPath.startsWith('/') ? rawPath.slice(1) : rawPath;
  const slash = trimmed.indexOf('/');
  const signature = slash === -1 ? trimmed : trimmed.slice(0, slash);
  const rest = slash === -1 ? '' : trimmed.slice(slash + 1);
  if (signature === '' || rest === '') throw new ProxyError('INVALID_URL', `Invalid path: ${JSON.stringify(rawPath)}`);
  const path = restoreSchemeSlashes(unescapeOptionColons(rest));
  // imgproxy drops one leading `/` when it re-denormalises the path (what it signs, with a
  // `/` put back in front) and one more when it splits it into parts, so an empty options
  // segment (`/unsafe//plain/…`) means no options, signed as without it (handlers/path.go,
  // options/parser/processing_options.go ParsePath).
  const once = path.startsWith('/') ? path.slice(1) : path;
  const twice = once.startsWith('/') ? once.slice(1) : once;
  return { signature, signedPath: once.startsWith('/') ? once : `/${once}`, parts: twice.split('/') };
}
