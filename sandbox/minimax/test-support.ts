import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sharp from 'sharp';
import { startSandbox, type Sandbox } from '../index.ts';
import { SANDBOX_CREDENTIALS } from '../defaults.ts';
import { TEST_MINIMAX_OPTIONS, withTestTimings, type MinimaxEmulator, type MinimaxOptionsInput } from './emulator.ts';

/** Helpers for the MiniMax emulator's own tests (and any test that talks to it directly). */

/** Fast timings: a task settles in well under a second (used by the pipeline's test helpers too). */
export const FAST_MINIMAX = TEST_MINIMAX_OPTIONS;


export interface MinimaxHarness {
  sandbox: Sandbox;
  minimax: MinimaxEmulator;
  base: string;
  /** Calls the API with the sandbox key (or `key`), JSON in and out. */
  call(path: string, options?: { body?: unknown; key?: string | null; method?: string }): Promise<{ status: number; headers: Headers; json: any }>;
  close(): Promise<void>;
}

export async function startMinimax(options: MinimaxOptionsInput = {}): Promise<MinimaxHarness> {
  const sandbox = await startSandbox({ minimax: withTestTimings(options) });
  const base = `${sandbox.url}/minimax`;
  return {
    sandbox,
    minimax: sandbox.emulator<MinimaxEmulator>('minimax'),
    base,
    async call(path, { body, key = SANDBOX_CREDENTIALS.minimaxApiKey, method } = {}) {
      const headers: Record<string, string> = {};
      if (key !== null) headers.authorization = `Bearer ${key}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(`${base}${path}`, {
        method: method ?? (body === undefined ? 'GET' : 'POST'),
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      let json: unknown = text;
      try {
        json = JSON.parse(text);
      } catch {
        // gateway pages are HTML
      }
      return { status: response.status, headers: response.headers, json };
    },
    close: () => sandbox.close(),
  };
}

/** A product-like test photo: an orange field with a blue square, so motion is visible. */
export async function testPhoto(width: number, height: number, format: 'jpeg' | 'png' | 'webp' = 'jpeg'): Promise<Buffer> {
  return sharp({
    create: { width, height, channels: 3, background: { r: 200, g: 120, b: 40 } },
  })
    .composite([
      {
        input: await sharp({ create: { width: Math.round(width / 3), height: Math.round(height / 3), channels: 3, background: { r: 20, g: 60, b: 200 } } })
          .png()
          .toBuffer(),
        top: Math.round(height / 3),
        left: Math.round(width / 3),
      },
    ])
    .toFormat(format)
    .toBuffer();
}

export async function imageDataUrl(width: number, height: number, format: 'jpeg' | 'png' | 'webp' = 'jpeg'): Promise<string> {
  return `data:image/${format};base64,${(await testPhoto(width, height, format)).toString('base64')}`;
}

export interface CallbackReceiver {
  url: string;
  received: Array<Record<string, any>>;
  /** How the receiver answers a challenge: echo it, answer wrongly, or answer too late. */
  mode: 'echo' | 'wrong' | 'slow';
  slowMs: number;
  close(): Promise<void>;
}

/** A stand-in for Beem's /minimax_callback that records every POST. */
export async function startReceiver(mode: CallbackReceiver['mode'] = 'echo'): Promise<CallbackReceiver> {
  const receiver: CallbackReceiver = { url: '', received: [], mode, slowMs: 400, close: async () => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, any>;
      receiver.received.push(body);
      const reply = (payload: unknown) => {
        if (res.destroyed) return;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(payload));
      };
      if (typeof body.challenge !== 'string') return reply({ status: 'success' });
      if (receiver.mode === 'wrong') return reply({ challenge: 'something else' });
      if (receiver.mode === 'slow') return void setTimeout(() => reply({ challenge: body.challenge }), receiver.slowMs);
      reply({ challenge: body.challenge });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/minimax_callback`;
  receiver.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return receiver;
}

/** Reads the first box of an MP4: its type must be `ftyp`. */
export function isMp4(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.subarray(4, 8)).toString('latin1') === 'ftyp';
}
