import { z } from 'zod';

/**
 * Faults tests inject for the next `count` matching calls (default 1), in-process through
 * `emulator.injectFault(...)` or over HTTP with `POST /_sandbox/minimax/faults` (one fault or an array).
 *
 * Call faults hit an endpoint:
 *   error       → HTTP 200 with a non-zero base_resp (create errors 1002, 1008, 1026, 2013…, query or retrieve errors)
 *   http_error  → that HTTP status (500, 429, 502…) with a gateway-like body
 *   hang        → answer only after `ms` (default 120 s, longer than any client timeout); with
 *                 `createTask` a create still makes its task, as a real timed-out create may
 *   expired_download_url → the next retrieve hands out a download URL that has already expired
 *   slow_download        → the download trickles at `bytesPerSecond` after `firstByteDelayMs`
 * Task faults apply to the next created task(s):
 *   task_fail   → the task ends `Fail` with `code` (default 1027, output moderation)
 *   no_callback → the challenge is made, but no status push is ever sent
 *   duplicate_callbacks   → every push is delivered `copies` times (default 2)
 *   out_of_order_callbacks → pushes are held until the end, then delivered newest first
 */

export const ENDPOINTS = [
  'create',
  'query',
  'retrieve',
  'retrieve_content',
  'download',
  'template_create',
  'template_query',
] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

const count = z.number().int().min(1).max(10_000).default(1);
const endpoint = z.enum(ENDPOINTS);

export const minimaxFaultSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('error'), on: endpoint.default('create'), code: z.number().int(), message: z.string().optional(), count }),
  z.object({ kind: z.literal('http_error'), on: endpoint.default('create'), status: z.number().int().min(400).max(599), count }),
  z.object({
    kind: z.literal('hang'),
    on: endpoint.default('create'),
    ms: z.number().int().min(0).default(120_000),
    createTask: z.boolean().default(false),
    count,
  }),
  z.object({ kind: z.literal('expired_download_url'), count }),
  z.object({
    kind: z.literal('slow_download'),
    bytesPerSecond: z.number().int().min(1).default(16 * 1024),
    firstByteDelayMs: z.number().int().min(0).default(0),
    count,
  }),
  z.object({ kind: z.literal('task_fail'), code: z.number().int().default(1027), message: z.string().optional(), count }),
  z.object({ kind: z.literal('no_callback'), count }),
  z.object({ kind: z.literal('duplicate_callbacks'), copies: z.number().int().min(2).max(10).default(2), count }),
  z.object({ kind: z.literal('out_of_order_callbacks'), count }),
]);

export type MinimaxFault = z.infer<typeof minimaxFaultSchema>;
/** What callers write: defaults may be left out. */
export type MinimaxFaultInput = z.input<typeof minimaxFaultSchema>;

export function parseFaults(body: unknown): MinimaxFault[] {
  const list = Array.isArray(body) ? body : [body];
  return list.map((item) => {
    const parsed = minimaxFaultSchema.safeParse(item);
    if (!parsed.success) {
      throw new Error(`invalid minimax fault: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'fault'}: ${i.message}`).join('; ')}`);
    }
    if (parsed.data.kind === 'error' && parsed.data.on === 'download') {
      throw new Error('invalid minimax fault: the CDN has no base_resp; use http_error, hang or slow_download on download');
    }
    return parsed.data;
  });
}

export type CallFault = Extract<MinimaxFault, { kind: 'error' | 'http_error' | 'hang' }>;
export type TaskFault = Extract<MinimaxFault, { kind: 'task_fail' | 'no_callback' | 'duplicate_callbacks' | 'out_of_order_callbacks' }>;

export const TASK_FAULT_KINDS: ReadonlySet<string> = new Set(['task_fail', 'no_callback', 'duplicate_callbacks', 'out_of_order_callbacks']);
