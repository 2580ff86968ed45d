/**
 * Starts real storage backends on loopback for manual runs and benchmarks, prints the
 * IMGPROXY_* variables that point pixproxy at them, and stops them (by PID) on Ctrl-C/SIGTERM.
 *   npx tsx scripts/storage-backends.ts [swift] [azurite] [gcs]     (default: all available)
 * Swift also serves S3 (s3api). Same helpers as the integration tests.
 */
import {
  createAzureContainer,
  createS3Bucket,
  createSwiftContainer,
  missingReason,
  startAzurite,
  startGcsEmulator,
  startSwift,
} from '../test/integration/storage/servers.js';

type Kind = 'swift' | 'azurite' | 'gcs';
const KINDS: readonly Kind[] = ['swift', 'azurite', 'gcs'];
const BUCKET = 'pixproxy';

const asked = process.argv.slice(2);
const unknown = asked.filter((a) => !(KINDS as readonly string[]).includes(a));
if (unknown.length) {
  console.error(`unknown backend(s): ${unknown.join(', ')}; expected ${KINDS.join(', ')}`);
  process.exit(2);
}
const wanted = (asked.length ? asked : KINDS) as Kind[];
const stops: (() => Promise<void>)[] = [];

for (const kind of wanted) {
  const missing = missingReason(kind);
  if (missing) {
    console.error(`# ${kind}: not started: ${missing}`);
    continue;
  }
  if (kind === 'swift') {
    const s = await startSwift();
    stops.push(() => s.stop());
    await createS3Bucket(s, BUCKET);
    await createSwiftContainer(s, BUCKET);
    console.log(`# swift + s3 (s3api), started in ${s.startMs} ms; bucket/container "${BUCKET}"`);
    console.log(`IMGPROXY_USE_SWIFT=1 IMGPROXY_SWIFT_AUTH_URL=${s.authUrl} IMGPROXY_SWIFT_USERNAME=${s.username} IMGPROXY_SWIFT_API_KEY=${s.apiKey}`);
    console.log(`IMGPROXY_USE_S3=1 IMGPROXY_S3_ENDPOINT=${s.endpoint} IMGPROXY_S3_REGION=${s.s3.region} AWS_ACCESS_KEY_ID=${s.s3.accessKeyId} AWS_SECRET_ACCESS_KEY=${s.s3.secretAccessKey}`);
  } else if (kind === 'azurite') {
    const a = await startAzurite();
    stops.push(() => a.stop());
    await createAzureContainer(a, BUCKET);
    console.log(`# azurite (pid ${a.pid}), started in ${a.startMs} ms; container "${BUCKET}"`);
    console.log(`IMGPROXY_USE_ABS=1 IMGPROXY_ABS_NAME=${a.accountName} IMGPROXY_ABS_KEY=${a.accountKey} IMGPROXY_ABS_ENDPOINT=${a.endpoint}`);
  } else {
    const g = await startGcsEmulator();
    stops.push(() => g.stop());
    console.log(`# gcs emulator (in this process), started in ${g.startMs} ms; buckets appear on first upload`);
    console.log(`IMGPROXY_USE_GCS=1 IMGPROXY_GCS_ENDPOINT=${g.endpoint}`);
  }
}

if (stops.length === 0) process.exit(1);
console.log('# Ctrl-C to stop');

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.allSettled(stops.map((s) => s()));
  process.exit(0);
}
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
