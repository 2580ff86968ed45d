/**
 * Storage-backend combinations checked with the rest of the configuration, before anything
 * starts: the settings an enabled source scheme or the chosen cache adapter cannot do without
 * (from the descriptor in ./backend-fields.ts), the cache bucket of object stores, fs paths
 * that would leave PP_CACHE_DIR, and half a pair of AWS keys (the SDK would silently fall
 * back to its default credential chain).
 */
import {
  CACHE_ROLE,
  OBJECT_STORE_KINDS,
  SOURCE_ROLE,
  fieldKey,
  objectStoreFields,
  useKey,
  variableName,
  type BackendFieldSpec,
  type BackendRole,
  type ObjectStoreKind,
} from './backend-fields.js';
import type { Findings, SchemaValues } from './types.js';

function checkStore(kind: ObjectStoreKind, role: BackendRole, v: SchemaValues, f: Findings): void {
  const values = v.storage as unknown as Readonly<Record<string, unknown>>;
  for (const [key, spec] of Object.entries(objectStoreFields) as Array<[string, BackendFieldSpec<unknown>]>) {
    if (spec.kind !== kind) continue;
    const name = variableName(spec, role);
    const value = values[fieldKey(key, role)];
    if (spec.required && (typeof value !== 'string' || value.trim() === '')) f.error(`${name}: required ${role.when(kind)}, got nothing`);
    const wrong = spec.check?.(value);
    if (wrong !== undefined && f.parsed(name)) f.error(`${name}: ${wrong}, got ${JSON.stringify(value)}`);
  }
}

/** `..` segments would put fs entries outside PP_CACHE_DIR (storage/fs.ts refuses them too late). */
function checkFsPaths(v: SchemaValues, f: Findings): void {
  for (const [name, value] of [['IMGPROXY_CACHE_BUCKET', v.cache.bucket], ['IMGPROXY_CACHE_PATH_PREFIX', v.cache.pathPrefix]] as const) {
    if (value.split(/[\\/]/).includes('..')) f.error(`${name}: expected a path inside PP_CACHE_DIR (no ".." segment), got ${JSON.stringify(value)}`);
  }
}

function checkAwsKeys(v: SchemaValues, f: Findings): void {
  const { awsAccessKeyId: id, awsSecretAccessKey: secret, awsSessionToken: token } = v.storage;
  if ((id === '') !== (secret === '')) {
    f.error(`AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: expected both or neither, got only ${id === '' ? 'AWS_SECRET_ACCESS_KEY' : 'AWS_ACCESS_KEY_ID'}`);
  } else if (token !== '' && id === '') {
    f.error('AWS_SESSION_TOKEN: expected with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, got it alone');
  }
}

export function checkBackends(v: SchemaValues, f: Findings): void {
  for (const kind of OBJECT_STORE_KINDS) if (v.storage[useKey(kind)]) checkStore(kind, SOURCE_ROLE, v, f);
  const use = v.cache.use;
  if (use === 'fs') {
    checkFsPaths(v, f);
  } else if (use !== 'none') {
    if (v.cache.bucket.trim() === '') f.error(`IMGPROXY_CACHE_BUCKET: required ${CACHE_ROLE.when(use)}, got nothing`);
    checkStore(use, CACHE_ROLE, v, f);
  }
  if (v.storage.useS3 || use === 's3') checkAwsKeys(v, f);
  // The lease lives in the L2 (src/cache/lease.ts): without one there is nothing to share.
  if (v.cache.lease && use === 'none') f.error('PIXPROXY_CACHE_LEASE: needs an L2 cache (IMGPROXY_CACHE_USE=fs|s3|gcs|abs|swift), got IMGPROXY_CACHE_USE=none');
}
