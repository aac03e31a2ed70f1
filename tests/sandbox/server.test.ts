import https from 'node:https';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import { serveEmulators } from '../../sandbox/server.ts';

/** The test run's global set-up made a CA (trusted through NODE_EXTRA_CA_CERTS) and the sandbox's certificate. */
describe('sandbox port: http for the APIs, https for file downloads', () => {
  let sandbox: Sandbox;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(() => sandbox.close());

  it('answers plain http and https on the same port, with a certificate for 127.0.0.1 from the test CA', async () => {
    expect(sandbox.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(sandbox.secureUrl).toBe(sandbox.url.replace('http:', 'https:'));
    expect((await fetch(`${sandbox.url}/`)).status).toBe(200);
    // Verified like any https: the CA is trusted and the certificate names 127.0.0.1.
    expect((await fetch(`${sandbox.secureUrl}/`)).status).toBe(200);
  });

  it('is refused by a client that does not trust the test CA', async () => {
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => {
      https.get(`${sandbox.secureUrl}/`, { ca: [] }, () => resolve(new Error('connected') as NodeJS.ErrnoException)).on('error', resolve);
    });
    expect(error.code).toMatch(/SELF_SIGNED|UNABLE_TO_GET_ISSUER|UNABLE_TO_VERIFY/);
  });

  it('serves plain http only when it has no certificate (the demo)', async () => {
    const plain = await startSandbox({ tls: null });
    try {
      expect(plain.secureUrl).toBe(plain.url);
    } finally {
      await plain.close();
    }
  });
});

describe('sandbox server', () => {
  it('rejects with EADDRINUSE when its port is taken, instead of never settling', async () => {
    const other = net.createServer();
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const { port } = other.address() as AddressInfo;
    try {
      await expect(serveEmulators({}, { port, host: '127.0.0.1' })).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      other.close();
    }
  });
});
