import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Pieces every emulator uses: reading bodies, writing JSON, and a queue of faults that
 * tests inject for the next N matching calls.
 */

export interface SandboxRequest {
  req: IncomingMessage;
  res: ServerResponse;
  /** Path below the emulator's prefix, e.g. `/v1/video_generation` under `/minimax`. */
  path: string;
  url: URL;
  method: string;
}

export interface Emulator {
  /** Fixed path prefix, e.g. `/minimax`. */
  readonly prefix: string;
  /** Pages a person opens in a browser (an inbox, a sign-in form), printed by `npm run sandbox` and `npm run demo`. */
  readonly pages?: ReadonlyArray<{ title: string; path: string }>;
  /** Answers a request under the prefix; false when the path is not its own (→ 404). */
  handle(r: SandboxRequest): Promise<boolean> | boolean;
  /** What tests read through `/_sandbox/<name>/state`. */
  state(): unknown;
  /**
   * `/_sandbox/<name>/faults`: body is emulator-specific; throw (or reject) to answer 400.
   * May return a promise for control actions that take time (settling a payment). An action
   * may return fields for the answer (a provider session cookie), sent beside `ok: true`.
   */
  injectFault(body: unknown): void | Record<string, unknown> | Promise<void | Record<string, unknown>>;
  reset(): void;
  /** Stops timers and child processes and removes temporary files when the sandbox closes. */
  close?(): Promise<void> | void;
}

export async function readBody(req: IncomingMessage, limit = 30 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const raw = (await readBody(req)).toString('utf8');
  if (!raw) return undefined;
  return JSON.parse(raw);
}

/** Reads a JSON or form-urlencoded body into a plain object. */
export async function readFormOrJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const raw = (await readBody(req)).toString('utf8');
  const type = req.headers['content-type'] ?? '';
  if (type.includes('application/json')) return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
  return Object.fromEntries(new URLSearchParams(raw));
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': Buffer.byteLength(html) });
  res.end(html);
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Faults for the next N calls that match; each `take` uses one. */
export class FaultQueue<F extends { kind: string }> {
  private items: Array<{ fault: F; remaining: number }> = [];

  add(fault: F, count = 1): void {
    this.items.push({ fault, remaining: count });
  }

  take(match: (fault: F) => boolean = () => true): F | null {
    const item = this.items.find((i) => i.remaining > 0 && match(i.fault));
    if (!item) return null;
    item.remaining -= 1;
    this.items = this.items.filter((i) => i.remaining > 0);
    return item.fault;
  }

  pending(): F[] {
    return this.items.map((i) => i.fault);
  }

  clear(): void {
    this.items = [];
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
