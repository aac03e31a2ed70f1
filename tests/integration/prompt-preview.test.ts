import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../helpers/stack.ts';
import { apiFetch } from '../helpers/http.ts';
import { createSignedInUser } from '../helpers/users.ts';
import { balanceOf, FAST_QUEUE_ENV, generate, generationRow, uploadPhoto, waitForStatus } from '../helpers/generation.ts';
import { FAST_MINIMAX } from '../../sandbox/minimax/test-support.ts';
import type { MinimaxEmulator } from '../../sandbox/minimax/emulator.ts';
import type { OpenAiEmulator } from '../../sandbox/openai/index.ts';
import { TEMPLATE_IDS } from '../../src/lib/prompt/template-rules.ts';
import { CAMERA_COMMANDS } from '../../src/lib/prompt/camera-commands.ts';
import type { Clock } from '../../src/lib/clock.ts';
import { retryGenerationByAdmin } from '../../src/lib/admin/generations.ts';
import { cliActor } from '../../src/lib/admin/audit.ts';

/**
 * `POST /api/prompt-preview` and generating from a preview (issue 16, item 1), against the
 * real server, worker and sandbox. The sandbox model counts its calls: a preview asks it,
 * an edit, a cached repeat and a generation from a preview never do.
 */

/** Real time plus a shift the expiry test moves forward (the worker keeps running on it). */
const shift = { ms: 0 };
const clock: Clock = { now: () => Date.now() + shift.ms };

let stack: TestStack;
let openai: OpenAiEmulator;
let minimax: MinimaxEmulator;

beforeAll(async () => {
  // Generous model budgets: a cold first call on a loaded machine must not fall back by accident.
  const budgets = { ENHANCER_TIMEOUT_MS: '5000', CAMERA_COMPILER_TIMEOUT_MS: '5000', TEMPLATE_ROUTER_TIMEOUT_MS: '5000' };
  stack = await startStack({ background: true, clock, env: { ...FAST_QUEUE_ENV, ...budgets }, sandbox: { minimax: FAST_MINIMAX } });
  openai = stack.sandbox.emulator<OpenAiEmulator>('openai');
  minimax = stack.sandbox.emulator<MinimaxEmulator>('minimax');
});
afterAll(async () => {
  await stack.stop();
});
beforeEach(() => {
  shift.ms = 0;
});

const PERFUME = 'Флакон духов на мраморном столе, камера медленно приближается, потом панорама влево';

async function seller(balance = 10) {
  const { user, cookie } = createSignedInUser(stack.app.ctx, { balance });
  expect((await uploadPhoto(stack.app.url, cookie)).status).toBe(200);
  return { user, cookie };
}

function preview(cookie: string, body: unknown, headers: Record<string, string> = {}) {
  return apiFetch(stack.app.url, '/api/prompt-preview', { cookie, json: body, headers });
}

async function previewOk(cookie: string, body: unknown): Promise<Record<string, any>> {
  const res = await preview(cookie, body);
  const json = (await res.json()) as Record<string, any>;
  expect(res.status, JSON.stringify(json)).toBe(200);
  return json;
}

const modelCalls = () => openai.calls.length;

describe('prompt mode preview', () => {
  it('answers the exact MiniMax prompt, its camera moves in order, a Russian summary and the source', async () => {
    const { cookie } = await seller();
    const before = modelCalls();
    const answer = await previewOk(cookie, { mode: 'prompt', prompt: `  ${PERFUME}  `, duration: 6 });
    expect(answer).toMatchObject({ mode: 'prompt', source: 'model', prompt: PERFUME, duration: 6, previewId: expect.stringMatching(/^pvw_/) });
    expect(answer.cameraMoves).toEqual([['Push in'], ['Pan left']]);
    expect(answer.finalPrompt).toMatch(/^\[Push in\] .*perfume.*\[Pan left\]/);
    expect(answer.finalPrompt).not.toMatch(/\p{Script=Cyrillic}/u);
    expect(answer.summaryRu).toMatch(/^В ролике: Флакон духов на мраморном столе.*Камера: наезд, затем поворот влево\.$/);
    expect(modelCalls() - before).toBe(2);
  });

  it('caches an engine result per user and input for the hour: the same request asks no model', async () => {
    const { cookie } = await seller();
    const first = await previewOk(cookie, { mode: 'prompt', prompt: 'Белые кроссовки на подиуме, камера облетает вокруг', duration: 6 });
    const before = modelCalls();
    const again = await previewOk(cookie, { mode: 'prompt', prompt: 'Белые кроссовки на подиуме, камера облетает вокруг ', duration: 6 });
    expect(again).toEqual(first);
    expect(modelCalls()).toBe(before);
    // Another length is another input.
    const longer = await previewOk(cookie, { mode: 'prompt', prompt: 'Белые кроссовки на подиуме, камера облетает вокруг', duration: 10 });
    expect(longer.previewId).not.toBe(first.previewId);
    expect(modelCalls()).toBe(before + 2);
  });

  it('an alert raised while making a preview names the preview, labelled as one', async () => {
    const { user, cookie } = await seller();
    openai.injectFault({ kind: 'http_500', phase: 'compiler' });
    const answer = await previewOk(cookie, { mode: 'prompt', prompt: 'Тушь для ресниц на зеркале, камера приближается', duration: 6 });
    expect(answer.source).toBe('rules');
    await stack.app.ctx.notifier.flush();
    const alerts = stack.app.ctx.db.prepare('SELECT stage, generationId, message FROM operator_alerts WHERE userId = ?').all(user.id) as Array<Record<string, string>>;
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ stage: 'GPT_CAMERA_COMPILER', generationId: `preview:${answer.previewId}` });
    expect(alerts[0]?.message).toContain(`\nGeneration: preview:${answer.previewId}\n`);
  });

  it('does not cache a result of the local rules: the model is asked again next time', async () => {
    const { cookie } = await seller();
    openai.injectFault({ kind: 'http_500', phase: 'compiler' });
    const text = 'Помада на розовом фоне, камера приближается';
    const fallback = await previewOk(cookie, { mode: 'prompt', prompt: text, duration: 6 });
    expect(fallback.source).toBe('rules');
    expect(fallback.cameraMoves).toEqual([['Push in']]);
    const before = modelCalls();
    const retried = await previewOk(cookie, { mode: 'prompt', prompt: text, duration: 6 });
    expect(retried.source).toBe('model');
    expect(modelCalls()).toBe(before + 2);
  });

  it('an edit of the moves is a new preview with the rebuilt prompt, made without the model', async () => {
    const { cookie } = await seller();
    const base = await previewOk(cookie, { mode: 'prompt', prompt: PERFUME, duration: 6 });
    const before = modelCalls();
    const edited = await previewOk(cookie, { previewId: base.previewId, cameraMoves: [['Pan left', 'Pedestal up'], ['Zoom in']] });
    expect(edited.previewId).not.toBe(base.previewId);
    expect(edited.cameraMoves).toEqual([['Pan left', 'Pedestal up'], ['Zoom in']]);
    // Each edited bracket stands where the compiler's stood, before the same clause.
    const clauses = (text: string) => text.split(/\[[^\]]*\]/).map((s) => s.trim());
    expect(clauses(edited.finalPrompt)).toEqual(clauses(base.finalPrompt));
    expect(edited.finalPrompt).toMatch(/^\[Pan left, Pedestal up\] .*\[Zoom in\]/);
    expect(edited.summaryRu).toMatch(/Камера: поворот влево и подъём, затем зум ближе\./);
    // Removing every move leaves the description; the summary says the camera is free.
    const none = await previewOk(cookie, { previewId: edited.previewId, cameraMoves: [] });
    expect(none.cameraMoves).toEqual([]);
    expect(none.finalPrompt).not.toMatch(/\[/);
    expect(none.summaryRu).toMatch(/на усмотрение нейросети/);
    // Adding a third bracket opens a later sentence.
    const three = await previewOk(cookie, { previewId: base.previewId, cameraMoves: [['Push in'], ['Pan left'], ['Static shot']] });
    expect(three.cameraMoves).toEqual([['Push in'], ['Pan left'], ['Static shot']]);
    expect(modelCalls()).toBe(before);
  });

  it.each([
    ['a command that is not one of the 15', [['Orbit']], 'CAMERA_MOVES_INVALID'],
    ['four commands in one bracket', [['Push in', 'Pan left', 'Tilt up', 'Shake']], 'CAMERA_BRACKET_TOO_FULL'],
    ['an empty bracket', [['Push in'], []], 'CAMERA_BRACKET_EMPTY'],
    ['seven brackets', Array.from({ length: 7 }, () => ['Push in']), 'CAMERA_MOVES_TOO_MANY'],
    ['not a list', 'Push in', 'CAMERA_MOVES_INVALID'],
  ])('refuses %s with a Russian sentence and stores nothing', async (_name, cameraMoves, code) => {
    const { user, cookie } = await seller();
    const base = await previewOk(cookie, { mode: 'prompt', prompt: PERFUME, duration: 6 });
    const count = () => stack.app.ctx.db.prepare('SELECT COUNT(*) FROM prompt_previews WHERE userId = ?').pluck().get(user.id);
    const rows = count();
    const res = await preview(cookie, { previewId: base.previewId, cameraMoves });
    const body = (await res.json()) as { code: string; error: string };
    expect(res.status).toBe(400);
    expect(body.code).toBe(code);
    expect(body.error).toMatch(/\p{Script=Cyrillic}/u);
    expect(count()).toBe(rows);
  });

  it('validates like /api/generate, in the seller’s language', async () => {
    const { cookie } = await seller();
    const short = await preview(cookie, { mode: 'prompt', prompt: 'ab', duration: 6 });
    expect(short.status).toBe(400);
    expect(await short.json()).toMatchObject({ code: 'PROMPT_TOO_SHORT', field: 'prompt', error: expect.stringMatching(/хотя бы 3 символа/) });
    const english = await preview(cookie, { mode: 'video', prompt: 'Кроссовки', duration: 6 }, { 'accept-language': 'en' });
    expect(await english.json()).toMatchObject({ code: 'MODE_INVALID', error: expect.stringMatching(/^Choose a mode/) });
    expect((await preview(cookie, { mode: 'prompt', prompt: 'Кроссовки', duration: '6' })).status).toBe(400);
  });

  it('needs a session and a same-site request', async () => {
    const { cookie } = await seller();
    expect((await apiFetch(stack.app.url, '/api/prompt-preview', { json: { mode: 'prompt', prompt: PERFUME, duration: 6 } })).status).toBe(401);
    const crossSite = await apiFetch(stack.app.url, '/api/prompt-preview', {
      cookie,
      json: { mode: 'prompt', prompt: PERFUME, duration: 6 },
      sameOrigin: false,
      headers: { origin: 'https://evil.example' },
    });
    expect(crossSite.status).toBe(403);
  });
});

describe('previews belong to their user and last an hour', () => {
  it('another seller can neither edit nor generate from it', async () => {
    const owner = await seller();
    const other = await seller();
    const base = await previewOk(owner.cookie, { mode: 'prompt', prompt: PERFUME, duration: 6 });
    const edit = await preview(other.cookie, { previewId: base.previewId, cameraMoves: [['Zoom in']] });
    expect(edit.status).toBe(404);
    expect(await edit.json()).toMatchObject({ code: 'PREVIEW_NOT_FOUND', error: expect.stringMatching(/Предпросмотр не найден/) });
    const res = await generate(stack.app.url, other.cookie, { previewId: base.previewId } as never);
    expect(res.status).toBe(404);
    expect(await balanceOf(stack.app.ctx, other.user.id)).toBe(10);
  });

  it('expires after an hour: editing and generating are refused, nothing is charged', async () => {
    const { user, cookie } = await seller();
    const base = await previewOk(cookie, { mode: 'prompt', prompt: PERFUME, duration: 6 });
    shift.ms = 59 * 60 * 1000;
    expect((await preview(cookie, { previewId: base.previewId, cameraMoves: [['Zoom in']] })).status).toBe(200);
    shift.ms = 60 * 60 * 1000 + 1;
    expect((await preview(cookie, { previewId: base.previewId, cameraMoves: [['Zoom in']] })).status).toBe(404);
    const res = await generate(stack.app.url, cookie, { previewId: base.previewId } as never);
    expect(res.status).toBe(404);
    expect(await balanceOf(stack.app.ctx, user.id)).toBe(10);
  });

  it('unknown ids are a clear 404', async () => {
    const { cookie } = await seller();
    expect((await preview(cookie, { previewId: 'pvw_nope', cameraMoves: [] })).status).toBe(404);
    expect((await preview(cookie, { previewId: 42, cameraMoves: [] })).status).toBe(400);
  });
});

describe('generating from a preview', () => {
  it('sends exactly the previewed prompt, asks the model zero times and records the preview', async () => {
    const { user, cookie } = await seller();
    const base = await previewOk(cookie, { mode: 'prompt', prompt: PERFUME, duration: 6 });
    const edited = await previewOk(cookie, { previewId: base.previewId, cameraMoves: [['Truck right'], ['Tilt down', 'Zoom out']] });
    const before = modelCalls();
    const tasksBefore = minimax.tasks().length;
    const res = await generate(stack.app.url, cookie, { previewId: edited.previewId, prompt: PERFUME, mode: 'prompt', duration: 6 } as never);
    const created = (await res.json()) as { generationId: string; balanceAfter: number };
    expect(res.status).toBe(200);
    expect(created.balanceAfter).toBe(10 - stack.app.ctx.config.pricing.generation.prompt[6]);
    const done = await waitForStatus(stack.app.url, cookie, created.generationId);
    expect(done.status).toBe('success');
    const task = minimax.tasks().slice(tasksBefore).find((t) => t.prompt === edited.finalPrompt);
    expect(task?.prompt).toBe(edited.finalPrompt);
    expect(modelCalls()).toBe(before);
    const row = await generationRow(stack.app.ctx, created.generationId);
    expect(row).toMatchObject({ preview_id: edited.previewId, prompt_final: edited.finalPrompt, prompt: PERFUME });
    const events = stack.app.ctx.db.prepare('SELECT detail FROM generation_events WHERE generationId = ? AND kind = ?').pluck().all(created.generationId, 'prepared');
    expect(events).toEqual([`from preview ${edited.previewId}`]);
    expect(JSON.parse(row.camera_commands as string)).toEqual(['Truck right', 'Tilt down', 'Zoom out']);
    expect(await balanceOf(stack.app.ctx, user.id)).toBe(created.balanceAfter);
  });

  it('refuses a preview whose text, mode or length changed since (stale), holding nothing', async () => {
    const { user, cookie } = await seller();
    const base = await previewOk(cookie, { mode: 'prompt', prompt: PERFUME, duration: 6 });
    for (const change of [{ prompt: `${PERFUME}, и дым` }, { mode: 'template' }, { duration: 10 }]) {
      const res = await generate(stack.app.url, cookie, { previewId: base.previewId, prompt: PERFUME, mode: 'prompt', duration: 6, ...change } as never);
      expect(res.status).toBe(409);
      expect(await res.json()).toMatchObject({ code: 'PREVIEW_STALE', error: expect.stringMatching(/изменились после предпросмотра/) });
    }
    expect(await balanceOf(stack.app.ctx, user.id)).toBe(10);
  });

  it('a retry of a failed generation from a preview sends the previewed prompt again, asking no model', async () => {
    const { user, cookie } = await seller();
    const base = await previewOk(cookie, { mode: 'prompt', prompt: PERFUME, duration: 6 });
    const edited = await previewOk(cookie, { previewId: base.previewId, cameraMoves: [['Truck left'], ['Pedestal down']] });
    minimax.injectFault({ kind: 'task_fail', code: 1027 });
    const res = await generate(stack.app.url, cookie, { previewId: edited.previewId } as never);
    const failed = (await res.json()) as { generationId: string };
    expect((await waitForStatus(stack.app.url, cookie, failed.generationId)).status).toBe('failed');

    const before = modelCalls();
    const tasksBefore = minimax.tasks().length;
    const retried = retryGenerationByAdmin(stack.app.ctx, { id: failed.generationId, free: true, reason: 'сбой MiniMax', actor: cliActor });
    expect((await waitForStatus(stack.app.url, cookie, retried.generationId)).status).toBe('success');
    expect(minimax.tasks().slice(tasksBefore).map((t) => t.prompt)).toEqual([edited.finalPrompt]);
    expect(modelCalls()).toBe(before);
    expect(await generationRow(stack.app.ctx, retried.generationId)).toMatchObject({ preview_id: edited.previewId, prompt_final: edited.finalPrompt });
    const events = stack.app.ctx.db.prepare('SELECT detail FROM generation_events WHERE generationId = ? AND kind = ?').pluck().all(retried.generationId, 'prepared');
    expect(events).toEqual([`from preview ${edited.previewId} (retry of ${failed.generationId})`]);
    expect(await balanceOf(stack.app.ctx, user.id)).toBe(10);
  });

  it('support sees it: the admin generation page says it came from a preview, in Russian and English', async () => {
    const { cookie } = await seller();
    const admin = createSignedInUser(stack.app.ctx, { role: 'admin' });
    const base = await previewOk(cookie, { mode: 'prompt', prompt: PERFUME, duration: 6 });
    const res = await generate(stack.app.url, cookie, { previewId: base.previewId } as never);
    const created = (await res.json()) as { generationId: string };
    const page = (locale: string) =>
      apiFetch(stack.app.url, `/admin/generations/${created.generationId}`, { cookie: `${admin.cookie}; beem_lang=${locale}` }).then((r) => r.text());
    const label = (html: string) => html.match(/<dt>([^<]*)<\/dt><dd data-testid="gen-preview"[^>]*>([^<]*)<\/dd>/)?.slice(1);
    expect(label(await page('ru'))).toEqual(['Из предпросмотра', base.previewId]);
    expect(label(await page('en'))).toEqual(['From a preview', base.previewId]);
    // A generation made without a preview says nothing of the kind.
    const plain = await generate(stack.app.url, cookie, { prompt: PERFUME, mode: 'prompt', duration: 6 });
    const plainId = ((await plain.json()) as { generationId: string }).generationId;
    const html = await apiFetch(stack.app.url, `/admin/generations/${plainId}`, { cookie: admin.cookie }).then((r) => r.text());
    expect(label(html)).toBeUndefined();
    expect(html).toContain(plainId);
  });

  it('a retry of a template generation from a preview, after the preview expired, sends the same template', async () => {
    const { cookie } = await seller();
    const base = await previewOk(cookie, { mode: 'template', prompt: 'Апельсиновый сок в стеклянной бутылке', duration: 6 });
    const switched = await previewOk(cookie, { previewId: base.previewId, templateId: base.alternatives[0].id });
    minimax.injectFault({ kind: 'task_fail', code: 1027 });
    const res = await generate(stack.app.url, cookie, { previewId: switched.previewId } as never);
    const failed = (await res.json()) as { generationId: string };
    expect((await waitForStatus(stack.app.url, cookie, failed.generationId)).status).toBe('failed');

    shift.ms = 2 * 60 * 60 * 1000;
    const before = modelCalls();
    const tasksBefore = minimax.tasks().length;
    const retried = retryGenerationByAdmin(stack.app.ctx, { id: failed.generationId, free: true, reason: 'сбой MiniMax', actor: cliActor });
    expect((await waitForStatus(stack.app.url, cookie, retried.generationId)).status).toBe('success');
    expect(minimax.tasks().slice(tasksBefore).map((t) => t.templateId)).toEqual([switched.template.id]);
    expect(modelCalls()).toBe(before);
  });

  it('generating without a preview still runs the engine as before', async () => {
    const { cookie } = await seller();
    const before = modelCalls();
    const res = await generate(stack.app.url, cookie, { prompt: PERFUME, mode: 'prompt', duration: 6 });
    const created = (await res.json()) as { generationId: string };
    expect((await waitForStatus(stack.app.url, cookie, created.generationId)).status).toBe('success');
    expect(modelCalls() - before).toBe(2);
    expect((await generationRow(stack.app.ctx, created.generationId)).preview_id).toBeNull();
  });
});

describe('template mode preview', () => {
  it('names the chosen template in Russian with up to 3 alternatives, its inputs, and why', async () => {
    const { cookie } = await seller();
    const answer = await previewOk(cookie, { mode: 'template', prompt: 'Апельсиновый сок в стеклянной бутылке', duration: 6 });
    expect(answer).toMatchObject({
      mode: 'template',
      source: 'model',
      template: { id: TEMPLATE_IDS.drinkfall, nameRu: 'Водопад напитка', nameEn: 'Drinkfall', descriptionRu: expect.stringMatching(/льётся/), descriptionEn: expect.stringMatching(/pours/), suitsRu: 'напитки в бутылке, банке или стакане', suitsEn: expect.any(String) },
      inputs: { photo: true, text: [] },
      promptMode: null,
    });
    expect(answer.alternatives.length).toBeGreaterThan(0);
    expect(answer.alternatives.length).toBeLessThanOrEqual(3);
    for (const alt of answer.alternatives) {
      expect(alt).toEqual({ id: expect.any(String), nameRu: expect.stringMatching(/\p{Script=Cyrillic}/u), nameEn: expect.any(String), descriptionRu: expect.any(String), descriptionEn: expect.any(String), suitsRu: expect.any(String), suitsEn: expect.any(String) });
    }
    expect(answer.summaryRu).toMatch(/^Шаблон «Водопад напитка»: .* Выбран, потому что в описании есть «сок/);
  });

  it('never offers a template the seller has no input for (sneakers are not a miniature or a pet)', async () => {
    const { cookie } = await seller();
    const answer = await previewOk(cookie, { mode: 'template', prompt: 'Кроссовки на беговой дорожке', duration: 6 });
    const offered = [answer.template.id, ...answer.alternatives.map((a: { id: string }) => a.id)];
    expect(offered).not.toContain(TEMPLATE_IDS.miniatureSet);
    expect(offered).not.toContain(TEMPLATE_IDS.runForLife);
    expect(offered).toContain(TEMPLATE_IDS.characterPresentation);
  });

  it('switching to an offered template is a new preview made without the model; others are refused', async () => {
    const { cookie } = await seller();
    const base = await previewOk(cookie, { mode: 'template', prompt: 'Апельсиновый сок в стеклянной бутылке', duration: 6 });
    const target = base.alternatives[0] as { id: string; nameRu: string };
    const before = modelCalls();
    const switched = await previewOk(cookie, { previewId: base.previewId, templateId: target.id });
    expect(switched.previewId).not.toBe(base.previewId);
    expect(switched.template.id).toBe(target.id);
    expect(switched.alternatives.map((a: { id: string }) => a.id)).toContain(TEMPLATE_IDS.drinkfall);
    expect(switched.summaryRu).toContain(`«${target.nameRu}»`);
    const refused = await preview(cookie, { previewId: base.previewId, templateId: TEMPLATE_IDS.petPilot });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ code: 'TEMPLATE_NOT_OFFERED' });
    const wrongKind = await preview(cookie, { previewId: base.previewId, cameraMoves: [['Push in']] });
    expect(await wrongKind.json()).toMatchObject({ code: 'PREVIEW_MODE_MISMATCH' });
    expect(modelCalls()).toBe(before);

    // Generating sends that template, and asks no model.
    const tasksBefore = minimax.tasks().length;
    const res = await generate(stack.app.url, cookie, { previewId: switched.previewId } as never);
    const created = (await res.json()) as { generationId: string };
    expect(res.status).toBe(200);
    expect((await waitForStatus(stack.app.url, cookie, created.generationId)).status).toBe('success');
    const task = minimax.tasks().slice(tasksBefore).find((t) => t.kind === 'template');
    expect(task?.templateId).toBe(target.id);
    expect(modelCalls()).toBe(before);
  });

  it('says when no template fits and offers prompt mode with its price; generating from it is refused', async () => {
    const { user, cookie } = await seller();
    const before = modelCalls();
    const answer = await previewOk(cookie, { mode: 'template', prompt: 'Сделай красиво и быстро', duration: 6 });
    const cost = stack.app.ctx.config.pricing.generation.prompt[6];
    expect(answer).toMatchObject({ template: null, alternatives: [], inputs: null, promptMode: { cost } });
    expect(answer.summaryRu).toMatch(/Ни один шаблон не подходит.*«Свободный сценарий»/);
    // Only the enhancer asked: there was nothing for the router to choose from.
    expect(modelCalls() - before).toBe(1);
    const res = await generate(stack.app.url, cookie, { previewId: answer.previewId } as never);
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({ code: 'PREVIEW_NO_TEMPLATE' });
    expect(await balanceOf(stack.app.ctx, user.id)).toBe(10);
  });
});

describe('the preview rate limit', () => {
  it('allows 20 previews a minute per seller, then 429, without touching the generate budget', async () => {
    const { cookie } = await seller();
    for (let i = 0; i < 20; i += 1) expect((await preview(cookie, { mode: 'prompt', prompt: PERFUME, duration: 6 })).status).toBe(200);
    const limited = await preview(cookie, { mode: 'prompt', prompt: PERFUME, duration: 6 });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await generate(stack.app.url, cookie, { prompt: PERFUME, mode: 'prompt', duration: 6 })).status).toBe(200);
  });
});

it('every command in an answer is one of the 15', async () => {
  const { cookie } = await seller();
  const answer = await previewOk(cookie, { mode: 'prompt', prompt: 'Часы на запястье, вид сверху, потом камера отъезжает', duration: 6 });
  for (const group of answer.cameraMoves as string[][]) for (const c of group) expect(CAMERA_COMMANDS).toContain(c);
});
