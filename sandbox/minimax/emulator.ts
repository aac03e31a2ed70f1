import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServerResponse } from 'node:http';
import send from 'send';
import { FaultQueue, readBody, sendJson, type Emulator, type SandboxRequest } from '../core.ts';
import type { SandboxContext } from '../index.ts';
import { SANDBOX_CREDENTIALS } from '../defaults.ts';
import { baseResp, MODELS, type Resolution, type TaskStatus, type VideoMode } from './catalog.ts';
import { postJson, verifyCallbackUrl, type ChallengeOutcome } from './callbacks.ts';
import { parseFaults, TASK_FAULT_KINDS, type CallFault, type Endpoint, type MinimaxFault, type MinimaxFaultInput, type TaskFault } from './faults.ts';
import { loadImage, type LoadedImage } from './image.ts';
import { renderVideo, RenderQueue, resolveFfmpeg, type FfmpegSetting, type RenderResult } from './render.ts';
import {
  decimalId,
  firstCameraMotion,
  outputDimensions,
  renderDimensions,
  validateTemplateRequest,
  validateVideoRequest,
  videoPriceUsd,
  type CameraMotion,
} from './rules.ts';

/**
 * The MiniMax (Hailuo) video API as reference/minimax-api.md describes it, under `/minimax`:
 * create / query / retrieve / retrieve_content, the template ("Video Agent") API, a CDN-like
 * download URL that expires, the task state machine, the challenge handshake and status pushes.
 * Business errors are HTTP 200 with a non-zero `base_resp`; every answer carries `Trace-Id`.
 */

export interface MinimaxOptions {
  /** Keys accepted in `Authorization: Bearer`. Tasks and files are visible only to their key. */
  apiKeys: string[];
  /** When a key has a GroupId here, a different `GroupId` query parameter answers 1004. */
  groupIds: Record<string, string>;
  /** Time spent in each state. Demo default: 1 s → 1 s → 4 s (the render runs meanwhile). */
  stepMs: { preparing: number; queueing: number; processing: number };
  /** Lifetime of `download_url` from retrieve (current docs: 1 h). */
  downloadUrlTtlMs: number;
  /** Lifetime of a template task's `video_url` (9 h). */
  templateUrlTtlMs: number;
  /** The receiver must echo the challenge within this time (3 s). */
  challengeTimeoutMs: number;
  pushTimeoutMs: number;
  /**
   * What a failed challenge does [U]: `reject` answers the create with 2013 "fail to check
   * callback url" (2024 docs); `accept_silently` makes the task and never calls back.
   */
  onFailedChallenge: 'reject' | 'accept_silently';
  /** `lower` = documented `processing|success|failed`; `query` = the query's `Processing|Success|Fail`. */
  callbackStatusCase: 'lower' | 'query';
  /** One push per internal state (Queueing, Processing) or only when the pushed status changes [U]. */
  pushEachInternalState: boolean;
  /** How a failed task reports why [U]: base_resp code, or base_resp 0 with an `error_message`. */
  failureReport: 'base_resp' | 'error_message';
  /** `bytes` in retrieve: real answers often say 0 for generated videos. */
  reportFileBytes: boolean;
  /**
   * Create calls per key within `rpmWindowMs` before 1002 (null: no limit). The default is
   * the reference's figure for a paid (pay-as-you-go) key, 20 per minute (reference §9; an
   * unpaid key gets 5); tests that do not study the limit switch it off (TEST_MINIMAX_OPTIONS).
   */
  rpmLimit: number | null;
  /** The limit's window: a minute for the real API; tests shorten it. */
  rpmWindowMs: number;
  /** Account balance in USD for 1008 simulation, charged on Success only (null: unlimited). */
  balanceUsd: number | null;
  /** 01-series rejects explicit duration/resolution [U]. */
  legacyRejectsExplicitSize: boolean;
  /** Template calls with more inputs than the template takes answer 2013 [U]. */
  strictTemplateInputs: boolean;
  render: { ffmpeg: FfmpegSetting; maxShortSide: number; fps: number; concurrency: number };
  /**
   * Benchmarks: grow every finished video to this many bytes (a sparse run of zeros after the
   * real MP4, which players skip), to measure downloads of full-size files. Null: as rendered.
   */
  padVideoToBytes: number | null;
  now: () => number;
}

export type MinimaxOptionsInput = Partial<Omit<MinimaxOptions, 'stepMs' | 'render'>> & {
  stepMs?: Partial<MinimaxOptions['stepMs']>;
  render?: Partial<MinimaxOptions['render']>;
};

export const DEFAULT_MINIMAX_OPTIONS: MinimaxOptions = {
  apiKeys: [SANDBOX_CREDENTIALS.minimaxApiKey],
  groupIds: {},
  stepMs: { preparing: 1000, queueing: 1000, processing: 4000 },
  downloadUrlTtlMs: 60 * 60 * 1000,
  templateUrlTtlMs: 9 * 60 * 60 * 1000,
  challengeTimeoutMs: 3000,
  pushTimeoutMs: 5000,
  onFailedChallenge: 'reject',
  callbackStatusCase: 'lower',
  pushEachInternalState: true,
  failureReport: 'base_resp',
  reportFileBytes: false,
  rpmLimit: 20,
  rpmWindowMs: 60_000,
  balanceUsd: null,
  legacyRejectsExplicitSize: false,
  strictTemplateInputs: false,
  render: { ffmpeg: 'auto', maxShortSide: 480, fps: 24, concurrency: 1 },
  padVideoToBytes: null,
  now: () => Date.now(),
};

/**
 * Timings for tests: a task settles in well under a second, with a small, quick render, and
 * no rate limit (tests of the limit set one themselves).
 */
export const TEST_MINIMAX_OPTIONS: MinimaxOptionsInput = {
  rpmLimit: null,
  stepMs: { preparing: 20, queueing: 20, processing: 30 },
  render: { maxShortSide: 120, fps: 12 },
};

/** `options` on top of the test timings (nested `stepMs` and `render` merged too). */
export function withTestTimings(options: MinimaxOptionsInput = {}): MinimaxOptionsInput {
  return {
    ...TEST_MINIMAX_OPTIONS,
    ...options,
    stepMs: { ...TEST_MINIMAX_OPTIONS.stepMs, ...options.stepMs },
    render: { ...TEST_MINIMAX_OPTIONS.render, ...options.render },
  };
}

function mergeOptions(base: MinimaxOptions, input: MinimaxOptionsInput): MinimaxOptions {
  return {
    ...base,
    ...input,
    stepMs: { ...base.stepMs, ...input.stepMs },
    render: { ...base.render, ...input.render },
  };
}

export interface CallbackDelivery {
  status: string;
  copy: number;
  httpStatus: number | null;
  error: string | null;
  at: number;
}

interface Task {
  id: string;
  kind: 'video' | 'template';
  apiKey: string;
  model: string | null;
  mode: VideoMode | 'template';
  templateId: string | null;
  templateName: string | null;
  prompt: string;
  texts: string[];
  resolution: Resolution | null;
  duration: number;
  motion: CameraMotion | null;
  nominal: { width: number; height: number };
  status: TaskStatus;
  history: Array<{ status: TaskStatus; at: number }>;
  createdAt: number;
  callbackUrl: string | null;
  challenge: Omit<ChallengeOutcome, 'value'> | null;
  callbacks: 'normal' | 'none' | 'duplicate' | 'out_of_order';
  copies: number;
  deliveries: CallbackDelivery[];
  heldPushes: unknown[];
  lastPushed: string | null;
  pushChain: Promise<void>;
  failWith: { code: number; message: string } | null;
  failure: { code: number; message: string } | null;
  priceUsd: number;
  image: LoadedImage | null;
  render: Promise<RenderResult> | null;
  rendered: (RenderResult & { width: number; height: number; fps: number }) | { error: string } | null;
  fileId: number | null;
  videoUrl: string | null;
}

interface StoredFile {
  fileId: number;
  taskId: string;
  apiKey: string;
  path: string;
  bytes: number;
  createdAt: number;
  filename: string;
}

interface DownloadLink {
  token: string;
  fileId: number;
  expiresAt: number;
}

export type TaskView = ReturnType<MinimaxEmulator['viewTask']>;

const TERMINAL: ReadonlySet<TaskStatus> = new Set(['Success', 'Fail']);

export class MinimaxEmulator implements Emulator {
  readonly prefix = '/minimax';
  readonly pages = [{ title: 'video tasks (JSON)', path: '/_sandbox/minimax/state' }];
  private options: MinimaxOptions;
  private readonly initialOptions: MinimaxOptions;
  private readonly taskMap = new Map<string, Task>();
  private readonly files = new Map<number, StoredFile>();
  private readonly links = new Map<string, DownloadLink>();
  private readonly faults = new FaultQueue<MinimaxFault>();
  private readonly requestCounts: Record<string, number> = {};
  private readonly createTimes = new Map<string, number[]>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly events = new EventEmitter();
  private readonly rendering = new Set<Promise<unknown>>();
  private spentUsd = 0;
  /** Downloads that came over https (the test CA), of `requestCounts.download`. */
  private secureDownloads = 0;
  private videoDir: string | null = null;
  private ffmpegPath: string | null | undefined;
  private renderQueue: RenderQueue;

  constructor(
    private readonly sandbox: SandboxContext,
    options: MinimaxOptionsInput = {},
  ) {
    this.options = mergeOptions(DEFAULT_MINIMAX_OPTIONS, options);
    this.initialOptions = this.options;
    this.renderQueue = new RenderQueue(this.options.render.concurrency);
    this.events.setMaxListeners(0);
  }

  /** Changes options at run time (tests shorten timings); `reset()` restores the initial ones. */
  configure(options: MinimaxOptionsInput): void {
    this.options = mergeOptions(this.options, options);
    if (options.render) {
      this.ffmpegPath = undefined;
      this.renderQueue = new RenderQueue(this.options.render.concurrency);
    }
  }

  /** ffmpeg found on this machine (null: a still clip of the first frame is served). */
  ffmpeg(): string | null {
    if (this.ffmpegPath === undefined) this.ffmpegPath = resolveFfmpeg(this.options.render.ffmpeg);
    return this.ffmpegPath;
  }

  injectFault(body: MinimaxFaultInput | MinimaxFaultInput[]): void {
    for (const fault of parseFaults(body)) this.faults.add(fault, fault.count);
  }

  tasks(): TaskView[] {
    return [...this.taskMap.values()].map((t) => this.viewTask(t));
  }

  task(id: string): TaskView | null {
    const task = this.taskMap.get(id);
    return task ? this.viewTask(task) : null;
  }

  /** Resolves when the task reaches one of `statuses` (default: a final one). */
  waitForTask(id: string, statuses: TaskStatus[] = ['Success', 'Fail'], timeoutMs = 10_000): Promise<TaskView> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const task = this.taskMap.get(id);
        if (task && statuses.includes(task.status)) {
          cleanup();
          resolve(this.viewTask(task));
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`task ${id} did not reach ${statuses.join('|')} within ${timeoutMs} ms`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.events.off('change', check);
      };
      this.events.on('change', check);
      check();
    });
  }

  /** Resolves once every status push queued so far has been delivered (or failed). */
  async callbacksSettled(id: string): Promise<CallbackDelivery[]> {
    const task = this.taskMap.get(id);
    if (!task) return [];
    await task.pushChain;
    return task.deliveries;
  }

  state() {
    return {
      options: { ...this.options, now: undefined },
      ffmpeg: this.ffmpeg(),
      videoDir: this.videoDir,
      tasks: this.tasks(),
      files: [...this.files.values()].map(({ path: _path, ...file }) => file),
      downloadLinks: this.links.size,
      requestCounts: { ...this.requestCounts },
      pendingFaults: this.faults.pending(),
      spentUsd: this.spentUsd,
      secureDownloads: this.secureDownloads,
    };
  }

  reset(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.taskMap.clear();
    this.files.clear();
    this.links.clear();
    this.faults.clear();
    this.createTimes.clear();
    for (const key of Object.keys(this.requestCounts)) delete this.requestCounts[key];
    this.spentUsd = 0;
    this.secureDownloads = 0;
    this.options = this.initialOptions;
    this.ffmpegPath = undefined;
    this.renderQueue = new RenderQueue(this.options.render.concurrency);
    this.removeVideos();
  }

  /** Forgets everything, and waits for renders still running so their files are removed too. */
  async close(): Promise<void> {
    this.reset();
    await Promise.allSettled(this.rendering);
    this.events.removeAllListeners();
  }

  async handle(r: SandboxRequest): Promise<boolean> {
    r.res.setHeader('Trace-Id', randomBytes(16).toString('hex'));
    const route = `${r.method} ${r.path}`;
    const download = /^\/files\/([A-Za-z0-9_-]+)\/[\w.-]+$/.exec(r.path);
    const endpoint: Endpoint | null = download && (r.method === 'GET' || r.method === 'HEAD')
      ? 'download'
      : ({
          'POST /v1/video_generation': 'create',
          'GET /v1/query/video_generation': 'query',
          'GET /v1/files/retrieve': 'retrieve',
          'GET /v1/files/retrieve_content': 'retrieve_content',
          'POST /v1/video_template_generation': 'template_create',
          'GET /v1/query/video_template_generation': 'template_query',
        } as Record<string, Endpoint>)[route] ?? null;
    if (!endpoint) return false;
    this.requestCounts[endpoint] = (this.requestCounts[endpoint] ?? 0) + 1;

    if (endpoint === 'download') {
      if ((r.req.socket as { encrypted?: boolean }).encrypted) this.secureDownloads += 1;
      await this.serveDownload(r, download?.[1] ?? '');
      return true;
    }
    const apiKey = this.authenticate(r);
    if (apiKey === null) return true;
    const fault = this.faults.take((f) => (f.kind === 'error' || f.kind === 'http_error' || f.kind === 'hang') && f.on === endpoint) as CallFault | null;
    if (fault && (await this.applyCallFault(r, fault, endpoint))) return true;
    const answer = await this.answer(r, endpoint, apiKey);
    // A create that "timed out" after making its task: the answer comes too late for the client.
    if (fault?.kind === 'hang' && fault.createTask) await this.waitOrClose(r.res, fault.ms);
    if (!r.res.writableEnded && !r.res.destroyed) sendJson(r.res, 200, answer);
    return true;
  }

  private answer(r: SandboxRequest, endpoint: Endpoint, apiKey: string): Promise<unknown> | unknown {
    switch (endpoint) {
      case 'create':
        return this.createVideoTask(r, apiKey);
      case 'template_create':
        return this.createTemplateTask(r, apiKey);
      case 'query':
        return this.queryTask(r.url.searchParams.get('task_id') ?? '', apiKey, 'video');
      case 'template_query':
        return this.queryTask(r.url.searchParams.get('task_id') ?? '', apiKey, 'template');
      case 'retrieve':
        return this.retrieveFile(r, apiKey);
      default:
        return this.retrieveContent(r, apiKey);
    }
  }

  // --- authentication and faults -------------------------------------------------------

  private authenticate(r: SandboxRequest): string | null {
    const header = r.req.headers.authorization ?? '';
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (!match) {
      sendJson(r.res, 200, { base_resp: baseResp(1004, 'cookie is missing, log in again') });
      return null;
    }
    const key = (match[1] ?? '').trim();
    if (!this.options.apiKeys.includes(key)) {
      sendJson(r.res, 200, { base_resp: baseResp(2049) });
      return null;
    }
    const group = r.url.searchParams.get('GroupId');
    const expected = this.options.groupIds[key];
    if (group && expected && group !== expected) {
      sendJson(r.res, 200, { base_resp: baseResp(1004, 'token not match group') });
      return null;
    }
    return key;
  }

  /** True when the fault answered (or dropped) the request by itself. */
  private async applyCallFault(r: SandboxRequest, fault: CallFault, endpoint: Endpoint): Promise<boolean> {
    if (fault.kind === 'error') {
      const body: Record<string, unknown> = { base_resp: baseResp(fault.code, fault.message) };
      if (endpoint === 'create' || endpoint === 'template_create') body.task_id = '';
      sendJson(r.res, 200, body);
      return true;
    }
    if (fault.kind === 'http_error') {
      sendHttpError(r.res, fault.status);
      return true;
    }
    const creates = endpoint === 'create' || endpoint === 'template_create';
    if (creates && !fault.createTask) {
      await this.waitOrClose(r.res, fault.ms);
      r.res.destroy();
      return true;
    }
    if (!creates) await this.waitOrClose(r.res, fault.ms);
    return false;
  }

  /** Waits `ms`, or less when the client goes away or the sandbox closes. */
  private waitOrClose(res: ServerResponse, ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (res.destroyed) return resolve();
      const done = () => {
        clearTimeout(timer);
        this.timers.delete(timer);
        res.off('close', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      this.timers.add(timer);
      res.on('close', done);
    });
  }

  // --- task creation ------------------------------------------------------------------------

  private async readJson(r: SandboxRequest): Promise<unknown> {
    try {
      return JSON.parse((await readBody(r.req)).toString('utf8') || 'null');
    } catch {
      return undefined;
    }
  }

  private rateLimited(apiKey: string): boolean {
    const limit = this.options.rpmLimit;
    if (limit === null) return false;
    const now = this.options.now();
    const recent = (this.createTimes.get(apiKey) ?? []).filter((t) => t > now - this.options.rpmWindowMs);
    if (recent.length >= limit) {
      this.createTimes.set(apiKey, recent);
      return true;
    }
    recent.push(now);
    this.createTimes.set(apiKey, recent);
    return false;
  }

  private outOfBalance(priceUsd: number): boolean {
    return this.options.balanceUsd !== null && this.spentUsd + priceUsd > this.options.balanceUsd;
  }

  private async createVideoTask(r: SandboxRequest, apiKey: string): Promise<unknown> {
    const body = await this.readJson(r);
    if (this.rateLimited(apiKey)) return { task_id: '', base_resp: baseResp(1002) };
    const request = validateVideoRequest(body, { legacyRejectsExplicitSize: this.options.legacyRejectsExplicitSize });
    if (!request.ok) return { task_id: '', base_resp: baseResp(2013, request.message) };

    let image: LoadedImage | null = null;
    const sources: Array<[string, string | null]> = [
      ['first_frame_image', request.firstFrame],
      ['last_frame_image', request.lastFrame],
      ['subject_reference.image', request.subjectImage],
    ];
    for (const [field, source] of sources) {
      if (source === null) continue;
      const loaded = await loadImage(source, field);
      if (!loaded.ok) return { task_id: '', base_resp: baseResp(2013, loaded.message) };
      image ??= loaded.image;
    }
    const priceUsd = videoPriceUsd(request.model, request.resolution, request.duration);
    if (this.outOfBalance(priceUsd)) return { task_id: '', base_resp: baseResp(1008) };

    const challenge = await this.checkCallback(request.callbackUrl);
    if (challenge === 'reject') return { task_id: '', base_resp: baseResp(2013, 'fail to check callback url') };

    const aspect = request.mode === 'I2V' || request.mode === 'FL2V' ? image && image.width / image.height : null;
    const task = this.newTask({
      kind: 'video',
      apiKey,
      model: request.model,
      mode: request.mode,
      prompt: request.prompt,
      resolution: request.resolution,
      duration: request.duration,
      motion: MODELS[request.model]?.cameraCommands ? firstCameraMotion(request.prompt) : null,
      nominal: outputDimensions(request.resolution, aspect ?? null),
      callbackUrl: request.callbackUrl,
      challenge,
      priceUsd,
      image,
    });
    return { task_id: task.id, base_resp: baseResp(0) };
  }

  private async createTemplateTask(r: SandboxRequest, apiKey: string): Promise<unknown> {
    const body = await this.readJson(r);
    const request = validateTemplateRequest(body, { strictInputCounts: this.options.strictTemplateInputs });
    if (!request.ok) return { task_id: '', base_resp: baseResp(2013, request.message) };
    let image: LoadedImage | null = null;
    for (const [index, source] of request.media.entries()) {
      const loaded = await loadImage(source, `media_inputs[${index}]`);
      if (!loaded.ok) return { task_id: '', base_resp: baseResp(2013, loaded.message) };
      image ??= loaded.image;
    }
    const priceUsd = request.template.priceUsd ?? 0;
    if (this.outOfBalance(priceUsd)) return { task_id: '', base_resp: baseResp(1008) };
    const challenge = await this.checkCallback(request.callbackUrl);
    if (challenge === 'reject') return { task_id: '', base_resp: baseResp(2013, 'fail to check callback url') };

    const task = this.newTask({
      kind: 'template',
      apiKey,
      model: null,
      mode: 'template',
      templateId: request.template.id,
      templateName: request.template.name,
      prompt: '',
      texts: request.texts,
      resolution: null,
      duration: 6,
      motion: null,
      nominal: outputDimensions('720P', image ? image.width / image.height : null),
      callbackUrl: request.callbackUrl,
      challenge,
      priceUsd,
      image,
    });
    return { task_id: task.id, base_resp: baseResp(0) };
  }

  /** null: no callback_url; 'reject': creation must fail; otherwise the handshake outcome. */
  private async checkCallback(url: string | null): Promise<Task['challenge'] | 'reject'> {
    if (url === null) return null;
    const { value: _value, ...outcome } = await verifyCallbackUrl(url, this.options.challengeTimeoutMs);
    if (!outcome.passed && this.options.onFailedChallenge === 'reject') return 'reject';
    return outcome;
  }

  private newTask(
    fields: Pick<
      Task,
      'kind' | 'apiKey' | 'model' | 'mode' | 'prompt' | 'resolution' | 'duration' | 'motion' | 'nominal' | 'callbackUrl' | 'challenge' | 'priceUsd' | 'image'
    > &
      Partial<Pick<Task, 'templateId' | 'templateName' | 'texts'>>,
  ): Task {
    let id = decimalId(fields.kind === 'video' ? 15 : 18);
    while (this.taskMap.has(id)) id = decimalId(fields.kind === 'video' ? 15 : 18);
    const now = this.options.now();
    const take = (kind: TaskFault['kind']) => this.faults.take((f) => f.kind === kind) as TaskFault | null;
    const fail = take('task_fail');
    const callbackFault = take('no_callback') ?? take('duplicate_callbacks') ?? take('out_of_order_callbacks');
    const callbacksOn = fields.callbackUrl !== null && fields.challenge?.passed === true;
    const task: Task = {
      templateId: null,
      templateName: null,
      texts: [],
      ...fields,
      id,
      status: 'Preparing',
      history: [{ status: 'Preparing', at: now }],
      createdAt: now,
      callbacks: !callbacksOn
        ? 'none'
        : callbackFault?.kind === 'no_callback'
          ? 'none'
          : callbackFault?.kind === 'duplicate_callbacks'
            ? 'duplicate'
            : callbackFault?.kind === 'out_of_order_callbacks'
              ? 'out_of_order'
              : 'normal',
      copies: callbackFault?.kind === 'duplicate_callbacks' ? callbackFault.copies : 1,
      deliveries: [],
      heldPushes: [],
      lastPushed: null,
      pushChain: Promise.resolve(),
      failWith: fail?.kind === 'task_fail' ? { code: fail.code, message: fail.message ?? baseResp(fail.code).status_msg } : null,
      failure: null,
      render: null,
      rendered: null,
      fileId: null,
      videoUrl: null,
    };
    this.taskMap.set(id, task);
    if (!task.failWith) task.render = this.startRender(task);
    this.schedule(task, this.options.stepMs.preparing, () => this.advance(task));
    this.events.emit('change');
    return task;
  }

  // --- state machine -------------------------------------------------------------------------

  private schedule(task: Task, ms: number, step: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.taskMap.get(task.id) === task) step();
    }, ms);
    timer.unref();
    this.timers.add(timer);
  }

  private advance(task: Task): void {
    if (task.status === 'Preparing' && task.kind === 'video') {
      this.setStatus(task, 'Queueing');
      this.schedule(task, this.options.stepMs.queueing, () => this.advance(task));
    } else if (task.status === 'Preparing' || task.status === 'Queueing') {
      this.setStatus(task, 'Processing');
      this.schedule(task, this.options.stepMs.processing, () => void this.finish(task));
    }
  }

  /** Success only once the video file exists: a slow render keeps the task in Processing. */
  private async finish(task: Task): Promise<void> {
    if (task.failWith) {
      this.failTask(task, task.failWith);
      return;
    }
    try {
      await task.render;
    } catch (err) {
      if (this.taskMap.get(task.id) !== task) return;
      task.rendered = { error: err instanceof Error ? err.message : String(err) };
      this.failTask(task, { code: 1000, message: baseResp(1000).status_msg });
      return;
    }
    if (this.taskMap.get(task.id) !== task) return;
    const file = this.storeFile(task);
    task.fileId = file.fileId;
    if (task.kind === 'template') task.videoUrl = this.downloadUrl(file.fileId, this.options.templateUrlTtlMs, false);
    this.spentUsd += task.priceUsd;
    this.setStatus(task, 'Success');
  }

  private failTask(task: Task, failure: { code: number; message: string }): void {
    task.failure = failure;
    this.setStatus(task, 'Fail');
  }

  private setStatus(task: Task, status: TaskStatus): void {
    task.status = status;
    task.history.push({ status, at: this.options.now() });
    if (TERMINAL.has(status)) task.image = null;
    this.pushStatus(task);
    this.events.emit('change');
  }

  // --- callbacks --------------------------------------------------------------------------------

  private pushStatus(task: Task): void {
    if (task.callbacks === 'none' || !task.callbackUrl) return;
    const body = this.taskBody(task, 'callback') as { status: string };
    if (!this.options.pushEachInternalState && body.status === task.lastPushed) return;
    task.lastPushed = body.status;
    if (task.callbacks === 'out_of_order') {
      task.heldPushes.push(body);
      if (TERMINAL.has(task.status)) for (const held of task.heldPushes.splice(0).reverse()) this.deliver(task, held);
      return;
    }
    this.deliver(task, body);
  }

  /** Pushes go out one after another per task, in the order they were queued. */
  private deliver(task: Task, body: unknown): void {
    const url = task.callbackUrl;
    if (!url) return;
    for (let copy = 1; copy <= task.copies; copy += 1) {
      task.pushChain = task.pushChain.then(async () => {
        const result = await postJson(url, body, this.options.pushTimeoutMs);
        task.deliveries.push({
          status: (body as { status: string }).status,
          copy,
          httpStatus: result.httpStatus,
          error: result.error,
          at: this.options.now(),
        });
        this.events.emit('change');
      });
    }
  }

  // --- query, files, downloads ---------------------------------------------------------------------

  private callbackStatus(status: TaskStatus): string {
    if (this.options.callbackStatusCase === 'query') return status;
    return status === 'Success' ? 'success' : status === 'Fail' ? 'failed' : 'processing';
  }

  /** The query answer; callbacks carry the same shape with their own status spelling and no size (§4). */
  private taskBody(task: Task, audience: 'query' | 'callback'): Record<string, unknown> {
    const body: Record<string, unknown> = {
      task_id: task.id,
      status: audience === 'query' ? task.status : this.callbackStatus(task.status),
    };
    if (task.status === 'Success') {
      if (task.kind === 'video') {
        body.file_id = String(task.fileId);
        if (audience === 'query') {
          body.video_width = task.nominal.width;
          body.video_height = task.nominal.height;
        }
      } else {
        body.video_url = task.videoUrl;
      }
    }
    if (task.status === 'Fail' && task.failure) {
      if (this.options.failureReport === 'base_resp') {
        body.base_resp = baseResp(task.failure.code, task.failure.message);
        return body;
      }
      body.error_message = task.failure.message;
    }
    body.base_resp = baseResp(0);
    return body;
  }

  private queryTask(taskId: string, apiKey: string, kind: Task['kind']): unknown {
    const task = this.taskMap.get(taskId);
    if (!task || task.apiKey !== apiKey || task.kind !== kind) {
      return { task_id: taskId, base_resp: baseResp(2013, 'invalid params, task not found') };
    }
    return this.taskBody(task, 'query');
  }

  private findFile(r: SandboxRequest, apiKey: string): StoredFile | null {
    const raw = r.url.searchParams.get('file_id') ?? '';
    const file = /^\d{1,16}$/.test(raw) ? this.files.get(Number(raw)) : undefined;
    return file && file.apiKey === apiKey ? file : null;
  }

  private retrieveFile(r: SandboxRequest, apiKey: string): unknown {
    const file = this.findFile(r, apiKey);
    if (!file) return { base_resp: baseResp(2013, 'invalid params, file not found') };
    const expired = this.faults.take((f) => f.kind === 'expired_download_url') !== null;
    return {
      file: {
        file_id: file.fileId,
        bytes: this.options.reportFileBytes ? file.bytes : 0,
        created_at: Math.floor(file.createdAt / 1000),
        filename: file.filename,
        purpose: 'video_generation',
        download_url: this.downloadUrl(file.fileId, this.options.downloadUrlTtlMs, expired),
      },
      base_resp: baseResp(0),
    };
  }

  private async retrieveContent(r: SandboxRequest, apiKey: string): Promise<unknown> {
    const file = this.findFile(r, apiKey);
    if (!file) return { base_resp: baseResp(2013, 'invalid params, file not found') };
    r.res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': file.bytes });
    await streamFile(file.path, r.res, null);
    return null;
  }

  private downloadUrl(fileId: number, ttlMs: number, alreadyExpired: boolean): string {
    const token = randomBytes(18).toString('base64url');
    const now = this.options.now();
    this.links.set(token, { token, fileId, expiresAt: alreadyExpired ? now - 1000 : now + ttlMs });
    return `${this.sandbox.filesUrl}${this.prefix}/files/${token}/output.mp4`;
  }

  /** The CDN: no auth, 403 once the link expired, Range and HEAD like a static file server. */
  private async serveDownload(r: SandboxRequest, token: string): Promise<void> {
    const fault = this.faults.take((f) => (f.kind === 'http_error' || f.kind === 'hang') && f.on === 'download') as CallFault | null;
    if (fault?.kind === 'http_error') return sendHttpError(r.res, fault.status);
    if (fault?.kind === 'hang') await this.waitOrClose(r.res, fault.ms);
    const link = this.links.get(token);
    const file = link ? this.files.get(link.fileId) : undefined;
    if (!link || !file || !fs.existsSync(file.path)) return sendCdnError(r.res, 404, 'NoSuchKey', 'The specified key does not exist.');
    if (link.expiresAt <= this.options.now()) return sendCdnError(r.res, 403, 'AccessDenied', 'Request has expired.');
    const slow = this.faults.take((f) => f.kind === 'slow_download');
    if (slow?.kind === 'slow_download') {
      r.res.writeHead(200, { 'Content-Type': 'video/mp4', 'Content-Length': file.bytes });
      if (r.method === 'HEAD') return void r.res.end();
      await this.waitOrClose(r.res, slow.firstByteDelayMs);
      await streamFile(file.path, r.res, slow.bytesPerSecond);
      return;
    }
    await new Promise<void>((resolve) => {
      send(r.req, file.path, { acceptRanges: true, cacheControl: false, etag: true, lastModified: true })
        .on('headers', (res: ServerResponse) => res.setHeader('Content-Type', 'video/mp4'))
        .on('error', (err: { status?: number }) => {
          sendCdnError(r.res, err.status ?? 500, 'InternalError', 'Read failed.');
          resolve();
        })
        .on('end', () => resolve())
        .on('close', () => resolve())
        .pipe(r.res);
      r.res.on('close', () => resolve());
    });
  }

  // --- rendering ------------------------------------------------------------------------------------

  private videoDirectory(): string {
    if (!this.videoDir || !fs.existsSync(this.videoDir)) {
      this.videoDir = fs.mkdtempSync(path.join(os.tmpdir(), 'beem-sandbox-minimax-'));
    }
    return this.videoDir;
  }

  private removeVideos(): void {
    if (this.videoDir) fs.rmSync(this.videoDir, { recursive: true, force: true });
    this.videoDir = null;
  }

  private startRender(task: Task): Promise<RenderResult> {
    const { fps, maxShortSide } = this.options.render;
    const size = renderDimensions(task.nominal, maxShortSide);
    const outputFile = path.join(this.videoDirectory(), `${task.id}.mp4`);
    const label =
      task.kind === 'template'
        ? [task.templateName, ...task.texts].filter(Boolean).join(' · ')
        : task.image
          ? null
          : task.prompt.replace(/\[[^\]]*\]/g, '').trim().slice(0, 80) || null;
    const image = task.image?.bytes ?? null;
    const dir = path.dirname(outputFile);
    const forgotten = () => this.taskMap.get(task.id) !== task;
    const render = this.renderQueue
      .run(async () => {
        // A reset while the job waited for its turn: no point spending the CPU.
        if (forgotten()) throw new Error('task was reset before its render started');
        return renderVideo(this.ffmpeg(), { image, motion: task.motion, durationSec: task.duration, ...size, fps, label, outputFile });
      })
      .then((result) => {
        task.rendered = { ...result, ...size, fps };
        return result;
      });
    const settled = render
      .catch(() => undefined) // the state machine handles a failure; never an unhandled rejection
      .finally(() => {
        this.rendering.delete(settled);
        // The folder was dropped by reset() while ffmpeg still wrote into it.
        if (this.videoDir !== dir) fs.rmSync(dir, { recursive: true, force: true });
      });
    this.rendering.add(settled);
    return render;
  }

  private storeFile(task: Task): StoredFile {
    let fileId = Number(decimalId(15));
    while (this.files.has(fileId)) fileId = Number(decimalId(15));
    const filePath = path.join(this.videoDirectory(), `${task.id}.mp4`);
    const pad = this.options.padVideoToBytes;
    if (pad !== null && fs.statSync(filePath).size < pad) fs.truncateSync(filePath, pad);
    const file: StoredFile = {
      fileId,
      taskId: task.id,
      apiKey: task.apiKey,
      path: filePath,
      bytes: fs.statSync(filePath).size,
      createdAt: this.options.now(),
      filename: 'output.mp4',
    };
    this.files.set(fileId, file);
    return file;
  }

  viewTask(task: Task) {
    return {
      id: task.id,
      kind: task.kind,
      model: task.model,
      mode: task.mode,
      templateId: task.templateId,
      templateName: task.templateName,
      prompt: task.prompt,
      texts: task.texts,
      resolution: task.resolution,
      duration: task.duration,
      motion: task.motion,
      videoWidth: task.nominal.width,
      videoHeight: task.nominal.height,
      status: task.status,
      history: task.history,
      createdAt: task.createdAt,
      callbackUrl: task.callbackUrl,
      challenge: task.challenge,
      callbackMode: task.callbacks,
      callbacks: task.deliveries,
      failure: task.failure,
      fileId: task.fileId,
      videoUrl: task.videoUrl,
      video: task.rendered,
      priceUsd: task.priceUsd,
    };
  }
}

function sendHttpError(res: ServerResponse, status: number): void {
  if (status === 429) {
    sendJson(res, 429, { base_resp: baseResp(1002) }, { 'Retry-After': '1' });
    return;
  }
  const html = `<html>\r\n<head><title>${status} Error</title></head>\r\n<body>\r\n<center><h1>${status} Error</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`;
  res.writeHead(status, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(html) });
  res.end(html);
}

/** Object-storage style error (the real CDN is Aliyun OSS / CloudFront). */
function sendCdnError(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>\n`;
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(xml) });
  res.end(xml);
}

/** Streams a file, optionally throttled to `bytesPerSecond` (the slow-download fault). */
async function streamFile(filePath: string, res: ServerResponse, bytesPerSecond: number | null): Promise<void> {
  const chunkSize = bytesPerSecond ? Math.max(1, Math.min(64 * 1024, Math.ceil(bytesPerSecond / 10))) : 64 * 1024;
  const stream = fs.createReadStream(filePath, { highWaterMark: chunkSize });
  try {
    for await (const chunk of stream) {
      if (res.destroyed) break;
      if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
      if (bytesPerSecond) await new Promise((resolve) => setTimeout(resolve, ((chunk as Buffer).length / bytesPerSecond) * 1000));
    }
  } finally {
    stream.destroy();
    if (!res.destroyed) res.end();
  }
}

export function createMinimaxEmulator(sandbox: SandboxContext, options: MinimaxOptionsInput = {}): MinimaxEmulator {
  return new MinimaxEmulator(sandbox, options);
}
