import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';

/**
 * A certificate authority for tests and the certificate the sandbox serves file downloads
 * with (subject alternative names: IP 127.0.0.1, ::1 and DNS localhost). The test run's
 * global set-up makes them before any test process starts and points NODE_EXTRA_CA_CERTS at
 * the CA, so Node (fetch, https, axios) trusts the sandbox's https the way it trusts a real
 * CDN, and Beem's https-only rule for MiniMax file URLs runs unchanged in tests.
 */

export interface TestCertificateFiles {
  /** The CA certificate (PEM): what NODE_EXTRA_CA_CERTS names. */
  caFile: string;
  /** The server certificate (PEM) and its private key, for the sandbox's https. */
  certFile: string;
  keyFile: string;
}

export interface SandboxTls {
  cert: string;
  key: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

function keyPair(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string } {
  // Node makes the key (forge's pure-JS RSA generation takes seconds); forge builds the certificates.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs1' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  return { privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e), pem };
}

function certificate(options: {
  subject: string;
  issuer: forge.pki.CertificateField[] | null;
  publicKey: forge.pki.PublicKey;
  signingKey: forge.pki.rsa.PrivateKey;
  extensions: object[];
}): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = options.publicKey;
  // A positive serial number (leading byte below 0x80).
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  cert.validity.notBefore = new Date(Date.now() - DAY_MS);
  cert.validity.notAfter = new Date(Date.now() + 30 * DAY_MS);
  const subject = [{ name: 'commonName', value: options.subject }, { name: 'organizationName', value: 'Beem sandbox' }];
  cert.setSubject(subject);
  cert.setIssuer(options.issuer ?? subject);
  cert.setExtensions(options.extensions);
  cert.sign(options.signingKey, forge.md.sha256.create());
  return cert;
}

/** Writes a fresh CA and a server certificate for 127.0.0.1/localhost into `dir`. */
export function createTestCertificates(dir: string): TestCertificateFiles {
  fs.mkdirSync(dir, { recursive: true });
  const ca = keyPair();
  const caCert = certificate({
    subject: 'Beem sandbox test CA',
    issuer: null,
    publicKey: ca.publicKey,
    signingKey: ca.privateKey,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const server = keyPair();
  const serverCert = certificate({
    subject: '127.0.0.1',
    issuer: caCert.subject.attributes,
    publicKey: server.publicKey,
    signingKey: ca.privateKey,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  const files: TestCertificateFiles = {
    caFile: path.join(dir, 'ca.pem'),
    certFile: path.join(dir, 'sandbox-cert.pem'),
    keyFile: path.join(dir, 'sandbox-key.pem'),
  };
  fs.writeFileSync(files.caFile, forge.pki.certificateToPem(caCert));
  fs.writeFileSync(files.certFile, forge.pki.certificateToPem(serverCert));
  fs.writeFileSync(files.keyFile, server.pem, { mode: 0o600 });
  return files;
}

/** The sandbox's certificate from SANDBOX_TLS_CERT_FILE and SANDBOX_TLS_KEY_FILE, or null when they are not set. */
export function sandboxTlsFromEnv(env: Record<string, string | undefined>): SandboxTls | null {
  const certFile = env.SANDBOX_TLS_CERT_FILE;
  const keyFile = env.SANDBOX_TLS_KEY_FILE;
  if (!certFile && !keyFile) return null;
  if (!certFile || !keyFile) throw new Error('SANDBOX_TLS_CERT_FILE and SANDBOX_TLS_KEY_FILE go together');
  return { cert: fs.readFileSync(certFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8') };
}
