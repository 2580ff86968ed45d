import { startApp } from './test/helpers/app.js';
import { fixturesRoot } from './test/conformance/imgproxy/fixtures.js';
import sharp from 'sharp';
const root = await fixturesRoot();
const app = await startApp({ IMGPROXY_LOCAL_FILESYSTEM_ROOT: root, IMGPROXY_ALLOW_SECURITY_OPTIONS: 'true' });
for (const p of process.argv.slice(2)) {
  const r = await fetch(app.url + p); const b = Buffer.from(await r.arrayBuffer());
  let meta = ''; try { const m = await sharp(b).metadata(); meta = `${m.format} ${m.width}x${m.height} ${m.space} ch${m.channels}`; } catch { meta = b.subarray(0, 200).toString(); }
  console.log(r.status, p, r.headers.get('content-type'), meta);
}
await app.stop();
