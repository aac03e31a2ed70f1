import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import S3rver from '@20minutes/s3rver';

/**
 * A real S3 server for tests (@20minutes/s3rver): it checks SigV4 signatures, unlike the old
 * `s3rver`, which accepts any. Started in-process on a random port over a temporary folder;
 * the bucket is made through `configureBuckets`, so no bucket-level SDK call is needed.
 */

/** The one key pair s3rver knows (its built-in account). */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export interface TestS3Server {
  endpoint: string;
  bucket: string;
  region: string;
  /** The folder s3rver keeps its objects in. */
  directory: string;
  stop(): Promise<void>;
}

export async function startS3Server(bucket = 'beem-test'): Promise<TestS3Server> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'beem-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    region: 'us-east-1',
    directory,
    async stop() {
      await server.close();
      fs.rmSync(directory, { recursive: true, force: true });
    },
  };
}

export interface ForwardedRequest {
  method: string;
  /** Path and query as the client sent them. */
  url: string;
}

export interface S3Forwarder {
  endpoint: string;
  /** Every request that reached the forwarder, answered or not. */
  requests: ForwardedRequest[];
  stop(): Promise<void>;
}

/**
 * A pass-through in front of the S3 server (the network boundary): it records every request
 * and can answer one itself or cut it short (`fault`) to play an S3 outage. The Host header
 * goes on unchanged, so SigV4 signatures still match on the server.
 */
/** A status to answer with instead of the server, 'cut' to pass the first 64 KB of the answer on and then drop the connection, or null. */
export type S3Fault = number | 'cut' | null;

export async function startS3Forwarder(target: string, fault: (request: ForwardedRequest) => S3Fault = () => null): Promise<S3Forwarder> {
  const requests: ForwardedRequest[] = [];
  const { port: targetPort } = new URL(target);
  const server = http.createServer((req, res) => {
    const request = { method: req.method ?? 'GET', url: req.url ?? '/' };
    requests.push(request);
    const status = fault(request);
    if (typeof status === 'number') {
      req.resume();
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>ServiceUnavailable</Code><Message>injected</Message></Error>`);
      return;
    }
    const upstream = http.request({ host: '127.0.0.1', port: Number(targetPort), method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      if (status !== 'cut') {
        answer.pipe(res);
        return;
      }
      let passed = 0;
      answer.on('data', (chunk: Buffer) => {
        if (passed >= 64 * 1024) return;
        passed += chunk.length;
        res.write(chunk);
        if (passed >= 64 * 1024) {
          answer.destroy();
          res.destroy();
        }
      });
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
