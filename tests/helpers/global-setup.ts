import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestCertificates } from '../../sandbox/tls.ts';

/**
 * Before any test process starts:
 * - integration tests run the built Astro handler: fail early with the fix, not deep inside a test;
 * - a test CA and the sandbox's certificate (IP 127.0.0.1). NODE_EXTRA_CA_CERTS is read only at
 *   process start, so it is set here, for the test processes and every server they spawn: the
 *   sandbox serves MiniMax file downloads over https and Beem's https-only rule runs unchanged.
 */
export default function setup(): () => void {
  const entry = path.resolve('dist/server/entry.mjs');
  if (!fs.existsSync(entry)) {
    throw new Error('dist/server/entry.mjs is missing: run `npm run build` first (`npm test` does it for you).');
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'beem-test-ca-'));
  const files = createTestCertificates(dir);
  process.env.NODE_EXTRA_CA_CERTS = files.caFile;
  process.env.SANDBOX_TLS_CERT_FILE = files.certFile;
  process.env.SANDBOX_TLS_KEY_FILE = files.keyFile;
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
