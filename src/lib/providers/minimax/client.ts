import type { z } from 'zod';
import { isMinimaxError, MinimaxError, type MinimaxOperation } from './errors.ts';
import {
  createTaskResponseSchema,
  envelopeSchema,
  queryTemplateResponseSchema,
  queryVideoResponseSchema,
  retrieveFileResponseSchema,
  type TaskState,
} from './schemas.ts';
import { getModelSpec, type Resolution } from './model-matrix.ts';
import type { Duration } from '../../model.ts';

/**
 * The only code that talks to MiniMax (reference/minimax-api.md). Every call has a
 * timeout, sends the Bearer key, validates the answer with zod, and turns business errors
 * (HTTP 200 with a non-zero `base_resp.status_code`), HTTP errors and network failures
 * into a `MinimaxError` that says whether a retry may help.
 */

export interface MinimaxClientOptions {
  apiBase: string;
  apiKey: string;
  timeoutMs: number;
  /** Told about every call when it ends (metrics); `code` is null on success, else the MinimaxError code. */
  onCall?: (call: { operation: MinimaxOperation; ms: number; code: string | null }) => void;
}

export interface CreateVideoTaskInput {
  model: string;
  prompt: string;
  /** `data:image/jpeg;base64,…` */
  firstFrameImage: string;
  duration: Duration;
  resolution: Resolution;
  callbackUrl: string | null;
}

export interface CreateTemplateTaskInput {
  templateId: string;
  mediaInputs: string[];
  textInputs: string[];
  callbackUrl: string | null;
}

export interface VideoTaskStatus {
  state: TaskState;
  fileId: string | null;
  width: number | null;
  height: number | null;
  /** MiniMax's code when the task failed (e.g. 1027 output moderation), else null. */
  failureCode: string | null;
}

export interface TemplateTaskStatus {
  state: TaskState;
  videoUrl: string | null;
  failureCode: string | null;
}

export interface RetrievedFile {
  fileId: string;
  downloadUrl: string;
  bytes: number | null;
}

export interface MinimaxClient {
  createVideoTask(input: CreateVideoTaskInput): Promise<{ taskId: string }>;
  queryVideoTask(taskId: string): Promise<VideoTaskStatus>;
  retrieveFile(fileId: string): Promise<RetrievedFile>;
  createTemplateTask(input: CreateTemplateTaskInput): Promise<{ taskId: string }>;
  queryTemplateTask(taskId: string): Promise<TemplateTaskStatus>;
}

export function imageDataUrl(jpeg: Uint8Array): string {
  return `data:image/jpeg;base64,${Buffer.from(jpeg).toString('base64')}`;
}

export function createMinimaxClient(options: MinimaxClientOptions): MinimaxClient {
  const base = options.apiBase.replace(/\/$/, '');

  type CallInit = { method: 'GET' | 'POST'; body?: unknown; allowFailedTask?: boolean };

  async function call<T extends z.ZodType>(operation: MinimaxOperation, path: string, schema: T, init: CallInit): Promise<z.infer<T>> {
    const started = performance.now();
    const report = (code: string | null) => {
      try {
        options.onCall?.({ operation, ms: performance.now() - started, code });
      } catch {
        // An observer never breaks a call.
      }
    };
    try {
      const answer = await request(operation, path, schema, init);
      report(null);
      return answer;
    } catch (err) {
      report(isMinimaxError(err) ? err.code : 'INTERNAL');
      throw err;
    }
  }

  async function request<T extends z.ZodType>(operation: MinimaxOperation, path: string, schema: T, init: CallInit): Promise<z.infer<T>> {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method: init.method,
        headers: {
          Authorization: `Bearer ${options.apiKey}`,
          Accept: 'application/json',
          ...(init.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
        signal: AbortSignal.timeout(options.timeoutMs),
        redirect: 'error',
      });
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      throw new MinimaxError({
        code: timedOut ? 'TIMEOUT' : 'NETWORK',
        message: timedOut ? `no answer within ${options.timeoutMs} ms` : 'request failed',
        operation,
        cause: err,
      });
    }
    const traceId = response.headers.get('trace-id');
    let body: unknown;
    try {
      const text = await response.text();
      body = text ? JSON.parse(text) : undefined;
    } catch (err) {
      if (!response.ok) {
        throw new MinimaxError({ code: `HTTP_${response.status}`, message: 'non-JSON error body', operation, httpStatus: response.status, traceId });
      }
      throw new MinimaxError({ code: 'BAD_RESPONSE', message: 'answer is not JSON', operation, httpStatus: response.status, traceId, cause: err });
    }
    const envelope = envelopeSchema.safeParse(body);
    const businessCode = envelope.success ? envelope.data.base_resp?.status_code ?? 0 : 0;
    const businessMessage = envelope.success ? envelope.data.base_resp?.status_msg ?? '' : '';
    if (!response.ok) {
      const code = businessCode !== 0 ? String(businessCode) : `HTTP_${response.status}`;
      // A gateway may put a business code on a 4xx/5xx; HTTP 5xx/429 stay retryable either way.
      const retryable = response.status >= 500 || response.status === 429 || response.status === 408 ? true : undefined;
      throw new MinimaxError({ code, message: businessMessage || `HTTP ${response.status}`, operation, httpStatus: response.status, traceId, retryable });
    }
    // A failed task is reported through its status, possibly with the reason in base_resp.
    const failedTask =
      init.allowFailedTask === true &&
      typeof body === 'object' &&
      body !== null &&
      typeof (body as { status?: unknown }).status === 'string' &&
      /^fail/i.test((body as { status: string }).status);
    if (businessCode !== 0 && !failedTask) {
      throw new MinimaxError({ code: String(businessCode), message: businessMessage, operation, httpStatus: response.status, traceId });
    }
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      throw new MinimaxError({
        code: 'BAD_RESPONSE',
        message: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        operation,
        httpStatus: response.status,
        traceId,
      });
    }
    return parsed.data;
  }

  const failureCode = (status: TaskState, baseResp: { status_code: number } | undefined): string | null =>
    status === 'fail' ? (baseResp && baseResp.status_code !== 0 ? String(baseResp.status_code) : 'TASK_FAILED') : null;

  return {
    async createVideoTask(input) {
      const spec = getModelSpec(input.model);
      const body: Record<string, unknown> = {
        model: input.model,
        prompt: input.prompt,
        first_frame_image: input.firstFrameImage,
      };
      if (!spec?.omitDurationAndResolution) {
        body.duration = input.duration;
        body.resolution = input.resolution;
      }
      // MiniMax refuses the task (2013) when it cannot verify the URL: only send a real one.
      if (input.callbackUrl) body.callback_url = input.callbackUrl;
      const answer = await call('create', '/v1/video_generation', createTaskResponseSchema, { method: 'POST', body });
      return { taskId: answer.task_id };
    },

    async queryVideoTask(taskId) {
      const answer = await call(
        'query',
        `/v1/query/video_generation?task_id=${encodeURIComponent(taskId)}`,
        queryVideoResponseSchema,
        { method: 'GET', allowFailedTask: true },
      );
      if (answer.status === 'success' && !answer.file_id) {
        throw new MinimaxError({ code: 'BAD_RESPONSE', message: 'success without file_id', operation: 'query' });
      }
      return {
        state: answer.status,
        fileId: answer.file_id ?? null,
        width: answer.video_width ?? null,
        height: answer.video_height ?? null,
        failureCode: failureCode(answer.status, answer.base_resp),
      };
    },

    async retrieveFile(fileId) {
      const answer = await call(
        'retrieve',
        `/v1/files/retrieve?file_id=${encodeURIComponent(fileId)}`,
        retrieveFileResponseSchema,
        { method: 'GET' },
      );
      return {
        fileId: answer.file.file_id,
        downloadUrl: answer.file.download_url,
        bytes: answer.file.bytes ? answer.file.bytes : null,
      };
    },

    async createTemplateTask(input) {
      const body: Record<string, unknown> = { template_id: input.templateId };
      if (input.mediaInputs.length > 0) body.media_inputs = input.mediaInputs.map((value) => ({ value }));
      if (input.textInputs.length > 0) body.text_inputs = input.textInputs.map((value) => ({ value }));
      if (input.callbackUrl) body.callback_url = input.callbackUrl;
      const answer = await call('create_template', '/v1/video_template_generation', createTaskResponseSchema, {
        method: 'POST',
        body,
      });
      return { taskId: answer.task_id };
    },

    async queryTemplateTask(taskId) {
      const answer = await call(
        'query_template',
        `/v1/query/video_template_generation?task_id=${encodeURIComponent(taskId)}`,
        queryTemplateResponseSchema,
        { method: 'GET', allowFailedTask: true },
      );
      if (answer.status === 'success' && !answer.video_url) {
        throw new MinimaxError({ code: 'BAD_RESPONSE', message: 'success without video_url', operation: 'query_template' });
      }
      return {
        state: answer.status,
        videoUrl: answer.video_url ?? null,
        failureCode: failureCode(answer.status, answer.base_resp),
      };
    },
  };
}
