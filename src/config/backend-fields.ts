/**
 * The object-store settings (S3, GCS, Azure Blob, Swift) described once and generated twice:
 * `IMGPROXY_<NAME>` fields for the s3:// gs:// abs:// swift:// sources and
 * `IMGPROXY_CACHE_<NAME>` fields for the L2 cache adapter, the way imgproxy describes each
 * storage once (`ConfigDesc` in
 * https://github.com/imgproxy/imgproxy/blob/master/storage/s3/config.go) and instantiates it
 * with the names of its user. The same descriptor says which settings a backend in use cannot
 * do without, so the validation (./backends.ts) and the docs read one list.
 *
 * Adding an object-store setting: one entry here; the source field (`s3Foo`, IMGPROXY_S3_FOO)
 * and the cache field (`cacheS3Foo`, IMGPROXY_CACHE_S3_FOO) both follow, with their types.
 */
import { bool, int, list, str, type DescribedField, type Field } from './fields.js';

/** What the descriptions say of an object store. */
interface ObjectStore {
  /** Its source URL scheme. */
  readonly scheme: string;
  /** Its name as the cache adapter: "the S3 cache". */
  readonly label: string;
  /** What its containers are called, capitalised. */
  readonly containers: 'Buckets' | 'Containers';
  /** The path of an object in a source URL. */
  readonly object: string;
  /** The product, where the scheme does not name it. */
  readonly product?: string;
}

/** Each object store once; adding a store here adds its IMGPROXY_USE_* and IMGPROXY_CACHE_USE value. */
const OBJECT_STORES = {
  s3: { scheme: 's3://', label: 'S3', containers: 'Buckets', object: 'bucket/key' },
  gcs: { scheme: 'gs://', label: 'GCS', containers: 'Buckets', object: 'bucket/key' },
  abs: { scheme: 'abs://', label: 'Azure', containers: 'Containers', object: 'container/blob', product: 'Azure Blob Storage' },
  swift: { scheme: 'swift://', label: 'Swift', containers: 'Containers', object: 'container/object', product: 'OpenStack Swift' },
} as const satisfies Readonly<Record<string, ObjectStore>>;

export type ObjectStoreKind = keyof typeof OBJECT_STORES;

export const OBJECT_STORE_KINDS = Object.keys(OBJECT_STORES) as readonly ObjectStoreKind[];

/** The config key of the switch of a store's source scheme: `useS3`. */
export type UseKey = `use${Capitalize<ObjectStoreKind>}`;

export function useKey(kind: ObjectStoreKind): UseKey {
  return `use${kind[0]?.toUpperCase() ?? ''}${kind.slice(1)}` as UseKey;
}

/** Who a generated field configures: the source scheme or the cache adapter. */
export interface BackendRole {
  readonly role: 'source' | 'cache';
  /** Prefix of the variable names: `IMGPROXY_` or `IMGPROXY_CACHE_`. */
  readonly prefix: string;
  /** The client, as descriptions name it: "the s3:// source", "the S3 cache". */
  name(kind: ObjectStoreKind): string;
  /** When the backend is in use: "when IMGPROXY_USE_S3 is set". */
  when(kind: ObjectStoreKind): string;
}

export const SOURCE_ROLE: BackendRole = {
  role: 'source',
  prefix: 'IMGPROXY_',
  name: (kind) => `the ${OBJECT_STORES[kind].scheme} source`,
  when: (kind) => `when IMGPROXY_USE_${kind.toUpperCase()} is set`,
};

export const CACHE_ROLE: BackendRole = {
  role: 'cache',
  prefix: 'IMGPROXY_CACHE_',
  name: (kind) => `the ${OBJECT_STORES[kind].label} cache`,
  when: (kind) => `when IMGPROXY_CACHE_USE=${kind}`,
};

export interface BackendFieldSpec<T> {
  readonly kind: ObjectStoreKind;
  /** The variable name after the role's prefix, e.g. `S3_REGION`. */
  readonly suffix: string;
  readonly make: (names: readonly string[]) => Field<T>;
  /** Names read after the canonical one, for both roles (e.g. AWS_REGION). */
  readonly aliases?: readonly string[];
  readonly doc: (role: BackendRole) => string;
  /** The backend cannot work without a non-empty value (checked while it is in use). */
  readonly required?: boolean;
  /** Checks a set value while the backend is in use; returns what is wrong with it. */
  check?(value: T): string | undefined;
}

function required(role: BackendRole, kind: ObjectStoreKind): string {
  return `required ${role.when(kind)}`;
}

function isJson(value: string): string | undefined {
  if (value === '') return undefined;
  try {
    JSON.parse(value);
    return undefined;
  } catch {
    return 'expected a service-account key JSON';
  }
}

/** Every setting a source and the cache both have, keyed by the source field's name. */
export const objectStoreFields = {
  s3Region: { kind: 's3', suffix: 'S3_REGION', make: (n) => str(n, 'us-west-1'), aliases: ['AWS_REGION'], doc: (r) => `Region of ${r.name('s3')}.` },
  s3Endpoint: { kind: 's3', suffix: 'S3_ENDPOINT', make: (n) => str(n), doc: (r) => `Custom endpoint of ${r.name('s3')} (MinIO, R2…; \`http://\` added without a scheme); empty = AWS.` },
  s3EndpointUsePathStyle: { kind: 's3', suffix: 'S3_ENDPOINT_USE_PATH_STYLE', make: (n) => bool(n, true), doc: (r) => `Path-style requests (\`endpoint/bucket/key\`) for ${r.name('s3')}.` },
  gcsKey: { kind: 'gcs', suffix: 'GCS_KEY', make: (n) => str(n), check: isJson, doc: (r) => `Service-account key JSON of ${r.name('gcs')}; empty = Application Default Credentials (none with a custom endpoint).` },
  gcsEndpoint: { kind: 'gcs', suffix: 'GCS_ENDPOINT', make: (n) => str(n), doc: (r) => `Custom endpoint of ${r.name('gcs')} (emulators, gateways).` },
  absName: { kind: 'abs', suffix: 'ABS_NAME', make: (n) => str(n), required: true, doc: (r) => `Storage account of ${r.name('abs')} (${required(r, 'abs')}).` },
  absKey: { kind: 'abs', suffix: 'ABS_KEY', make: (n) => str(n), doc: (r) => `Account key of ${r.name('abs')}; empty = DefaultAzureCredential.` },
  absEndpoint: { kind: 'abs', suffix: 'ABS_ENDPOINT', make: (n) => str(n), doc: (r) => `Blob endpoint of ${r.name('abs')}; empty = \`https://<account>.blob.core.windows.net\`.` },
  swiftUsername: { kind: 'swift', suffix: 'SWIFT_USERNAME', make: (n) => str(n), required: true, doc: (r) => `User of ${r.name('swift')} (${required(r, 'swift')}).` },
  swiftApiKey: { kind: 'swift', suffix: 'SWIFT_API_KEY', make: (n) => str(n), required: true, doc: (r) => `API key or password of ${r.name('swift')} (${required(r, 'swift')}).` },
  swiftAuthUrl: { kind: 'swift', suffix: 'SWIFT_AUTH_URL', make: (n) => str(n), required: true, doc: (r) => `Auth endpoint of ${r.name('swift')} (${required(r, 'swift')}).` },
  swiftAuthVersion: { kind: 'swift', suffix: 'SWIFT_AUTH_VERSION', make: (n) => int(n, 0, { min: 0, max: 3 }), doc: (r) => `Auth protocol of ${r.name('swift')}: 1, 2 or 3 (Keystone); 0 = guessed from the auth URL.` },
  swiftTenant: { kind: 'swift', suffix: 'SWIFT_TENANT', make: (n) => str(n), doc: (r) => `Tenant (project) of ${r.name('swift')}, for v2/v3 auth.` },
  swiftDomain: { kind: 'swift', suffix: 'SWIFT_DOMAIN', make: (n) => str(n), doc: (r) => `Domain of ${r.name('swift')}, for v3 auth.` },
  swiftConnectTimeoutSeconds: { kind: 'swift', suffix: 'SWIFT_CONNECT_TIMEOUT_SECONDS', make: (n) => int(n, 10, { min: 1 }), doc: (r) => `Seconds to connect to Swift (${r.name('swift')}).` },
  swiftTimeoutSeconds: {
    kind: 'swift', suffix: 'SWIFT_TIMEOUT_SECONDS', make: (n) => int(n, 60, { min: 1 }),
    doc: (r) => `Seconds one Swift request may take (${r.name('swift')}${r.role === 'cache' ? '; the cache also stops waiting after PIXPROXY_CACHE_BACKEND_TIMEOUT_MS' : ''}).`,
  },
} as const satisfies Readonly<Record<string, BackendFieldSpec<string> | BackendFieldSpec<number> | BackendFieldSpec<boolean>>>;

type Specs = typeof objectStoreFields;
type ValueOf<S> = S extends { make: (names: readonly string[]) => Field<infer T> } ? T : never;

export type SourceStoreFields = { readonly [K in keyof Specs]: DescribedField<ValueOf<Specs[K]>> };
export type CacheStoreFields = { readonly [K in keyof Specs as `cache${Capitalize<K>}`]: DescribedField<ValueOf<Specs[K]>> };
export type BucketListFields = { readonly [K in `${ObjectStoreKind}${'Allowed' | 'Denied'}Buckets`]: DescribedField<readonly string[]> };
export type UseFields = { readonly [K in UseKey]: DescribedField<boolean> };

/** The config key of a setting for a role: `s3Region` or `cacheS3Region`. */
export function fieldKey(key: string, role: BackendRole): string {
  return role.role === 'source' ? key : `cache${key[0]?.toUpperCase() ?? ''}${key.slice(1)}`;
}

/** The variable a setting is read from for a role: IMGPROXY_S3_REGION or IMGPROXY_CACHE_S3_REGION. */
export function variableName(spec: { readonly suffix: string }, role: BackendRole): string {
  return `${role.prefix}${spec.suffix}`;
}

function generate(role: BackendRole): Record<string, DescribedField<unknown>> {
  const out: Record<string, DescribedField<unknown>> = {};
  for (const [key, spec] of Object.entries(objectStoreFields) as Array<[string, BackendFieldSpec<unknown>]>) {
    out[fieldKey(key, role)] = spec.make([variableName(spec, role), ...(spec.aliases ?? [])]).describe(spec.doc(role));
  }
  return out;
}

export function sourceStoreFields(): SourceStoreFields {
  return generate(SOURCE_ROLE) as unknown as SourceStoreFields;
}

export function cacheStoreFields(): CacheStoreFields {
  return generate(CACHE_ROLE) as unknown as CacheStoreFields;
}

/** IMGPROXY_USE_<KIND>: the switch of each store's source scheme. */
export function useFields(): UseFields {
  const out: Record<string, DescribedField<boolean>> = {};
  for (const kind of OBJECT_STORE_KINDS) {
    const store: ObjectStore = OBJECT_STORES[kind];
    const product = store.product === undefined ? '' : ` (${store.product})`;
    out[useKey(kind)] = bool([`IMGPROXY_USE_${kind.toUpperCase()}`], false).describe(`Enables \`${store.scheme}${store.object}\` sources${product}.`);
  }
  return out as unknown as UseFields;
}

/** IMGPROXY_<KIND>_ALLOWED_BUCKETS / _DENIED_BUCKETS: the sources' bucket gates (no cache counterpart). */
export function bucketListFields(): BucketListFields {
  const out: Record<string, DescribedField<readonly string[]>> = {};
  for (const kind of OBJECT_STORE_KINDS) {
    const { containers, scheme } = OBJECT_STORES[kind];
    const env = kind.toUpperCase();
    out[`${kind}AllowedBuckets`] = list([`IMGPROXY_${env}_ALLOWED_BUCKETS`]).describe(`${containers} ${scheme} sources may read; empty = all not denied.`);
    out[`${kind}DeniedBuckets`] = list([`IMGPROXY_${env}_DENIED_BUCKETS`]).describe(`${containers} ${scheme} sources may not read.`);
  }
  return out as unknown as BucketListFields;
}
