import { z } from 'zod';

/** `base_resp` is on every answer; a non-zero code is an error even with HTTP 200. */
export const baseRespSchema = z.object({
  status_code: z.coerce.number().int(),
  status_msg: z.string().nullish(),
});
export type BaseResp = z.infer<typeof baseRespSchema>;

export const envelopeSchema = z.object({ base_resp: baseRespSchema.optional() }).loose();

/** Task ids are decimal strings; tolerate numbers. */
const idSchema = z.union([z.string().min(1), z.number().int().nonnegative()]).transform((v) => String(v));

export const createTaskResponseSchema = z.object({ task_id: idSchema, base_resp: baseRespSchema.optional() });

/** Normalised task state: MiniMax capitalises (`Success`, `Fail`) in queries and not in callbacks. */
export const TASK_STATES = ['preparing', 'queueing', 'processing', 'success', 'fail'] as const;
export type TaskState = (typeof TASK_STATES)[number];

export const taskStateSchema = z
  .string()
  .transform((v) => v.trim().toLowerCase())
  .transform((v) => (v === 'failed' ? 'fail' : v))
  .pipe(z.enum(TASK_STATES));

export const queryVideoResponseSchema = z.object({
  task_id: idSchema.optional(),
  status: taskStateSchema,
  file_id: idSchema.nullish(),
  video_width: z.coerce.number().int().nullish(),
  video_height: z.coerce.number().int().nullish(),
  base_resp: baseRespSchema.optional(),
});

export const queryTemplateResponseSchema = z.object({
  task_id: idSchema.optional(),
  status: taskStateSchema,
  video_url: z.string().nullish(),
  base_resp: baseRespSchema.optional(),
});

export const retrieveFileResponseSchema = z.object({
  file: z.object({
    file_id: idSchema,
    bytes: z.coerce.number().int().nonnegative().nullish(),
    created_at: z.coerce.number().nullish(),
    filename: z.string().nullish(),
    purpose: z.string().nullish(),
    download_url: z.url(),
  }),
  base_resp: baseRespSchema.optional(),
});

/** What arrives at /minimax_callback: a challenge to echo… */
export const callbackChallengeSchema = z.object({ challenge: z.string().min(1).max(500) });
/** …or a status push shaped like a query answer (only its task id is used). */
export const callbackPushSchema = z.object({ task_id: idSchema, status: z.string().max(40).optional() }).loose();
