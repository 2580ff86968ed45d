/**
 * The schema's `storage` section: which object-store source schemes are on, and the
 * object-store settings of the sources and of the cache adapter, both generated from one
 * descriptor (../backend-fields.ts), with the AWS credentials they share.
 */
import { bucketListFields, cacheStoreFields, sourceStoreFields, useFields } from '../backend-fields.js';
import { str, type SchemaSection } from '../fields.js';

export const storage = {
  // Sources: the switches and the per-store settings, generated from ../backend-fields.ts
  ...useFields(),
  ...sourceStoreFields(),
  ...bucketListFields(),
  awsAccessKeyId: str(['AWS_ACCESS_KEY_ID'])
    .describe('S3 access key (s3:// source and S3 cache), used with AWS_SECRET_ACCESS_KEY; unset = the SDK\'s default credential chain.'),
  awsSecretAccessKey: str(['AWS_SECRET_ACCESS_KEY'])
    .describe('S3 secret key paired with AWS_ACCESS_KEY_ID.'),
  awsSessionToken: str(['AWS_SESSION_TOKEN'])
    .describe('Session token for temporary S3 keys.'),
  // Cache adapters (IMGPROXY_CACHE_*), generated from the same descriptor
  ...cacheStoreFields(),
} as const satisfies SchemaSection;
