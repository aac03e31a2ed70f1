import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../sandbox/index.ts';
import type { OpenAiEmulator, OpenAiFault } from '../../sandbox/openai/index.ts';
import type { TelegramEmulator } from '../../sandbox/telegram/index.ts';
import { createTelegramClient } from '../../src/lib/providers/telegram/client.ts';
import { SANDBOX_CREDENTIALS } from '../../sandbox/defaults.ts';
import { migrate, openDatabase, type Db } from '../../src/lib/db/index.ts';
import { createLogger } from '../../src/lib/logger.ts';
import { ManualClock } from '../../src/lib/clock.ts';
import { createLlmClient, type JsonMode } from '../../src/lib/providers/llm/client.ts';
import { createTelegramNotifier, type TelegramNotifier } from '../../src/lib/notify/telegram-notifier.ts';
import { recentAlerts } from '../../src/lib/notify/alert-log.ts';
import { createPromptEngine } from '../../src/lib/prompt/engine.ts';
import { sanitizeDirectorPrompt } from '../../src/lib/prompt/camera-commands.ts';
import { TEMPLATE_IDS } from '../../src/lib/prompt/template-rules.ts';
import type { PreparedPrompt, PromptRequest } from '../../src/lib/prompt/types.ts';

let sandbox: Sandbox;
let emulator: OpenAiEmulator;
let db: Db;
let notifier: TelegramNotifier;
const log = createLogger('silent');
// Generous budgets so a loaded machine never times out by accident; a timeout case
// shortens only the budget of the phase it delays.
const BUDGETS = { enhancerMs: 5000, compilerMs: 5000, routerMs: 5000 };
const SHORT_MS = 300;

beforeAll(async () => {
  sandbox = await startSandbox();
  emulator = sandbox.emulator<OpenAiEmulator>('openai');
});
afterAll(() => sandbox.close());
beforeEach(() => {
  emulator.reset();
  db = openDatabase(':memory:');
  migrate(db);
  // Alerts are recorded as `disabled` here: the Telegram side has its own tests.
  notifier = createTelegramNotifier({ db, log, clock: new ManualClock(), telegram: null });
});

function engine(options: { jsonMode?: JsonMode; baseUrl?: string; timeouts?: Partial<typeof BUDGETS> } = {}) {
  const llm = createLlmClient({
    baseUrl: options.baseUrl ?? `${sandbox.url}/openai/v1`,
    apiKey: SANDBOX_CREDENTIALS.openaiApiKey,
    model: 'gpt-4o-mini',
    jsonMode: options.jsonMode ?? 'json_schema',
    log,
  });
  return createPromptEngine({ llm, notifier, log, timeouts: { ...BUDGETS, ...options.timeouts } });
}

const request = (mode: PromptRequest['mode'], prompt: string): PromptRequest => ({
  mode,
  prompt,
  duration: 6,
  userId: 'user_1',
  generationId: 'gen_1',
});

async function alerts() {
  await notifier.flush();
  return (await recentAlerts(db, 20)).map((a) => ({ stage: a.stage, error: a.message.split('\nError: ')[1] }));
}

const PERFUME = 'Флакон духов на мраморном столе, камера медленно приближается, потом панорама влево';

describe('prompt engine, model answering', () => {
  it.each<JsonMode>(['json_schema', 'json_object'])('prompt mode (%s): Russian in, English director prompt with the asked moves out', async (jsonMode) => {
    const result = await engine({ jsonMode }).prepare(request('prompt', PERFUME));
    expect(result.fallbacks).toEqual([]);
    expect(result.cinematic).toMatch(/perfume/i);
    expect(result.cinematic).not.toMatch(/\p{Script=Cyrillic}/u);
    expect(result.cameraCommands).toEqual(['Push in', 'Pan left']);
    expect(result.director).toMatch(/^\[Push in\] .*\[Pan left\]/);
    expect(result.finalPrompt).toBe(result.director);
    expect(sanitizeDirectorPrompt(result.finalPrompt).text).toBe(result.finalPrompt);
    expect(result.stages.map((s) => [s.stage, s.source])).toEqual([
      ['enhancer', 'model'],
      ['compiler', 'model'],
    ]);
    // Both phases ask the model at once, so the calls may finish in either order.
    expect(emulator.calls.map((c) => [c.phase, c.maxTokens]).sort()).toEqual([
      ['compiler', 600],
      ['enhancer_prompt', 500],
    ]);
    expect(await alerts()).toEqual([]);
  });

  it('template mode: picks a catalogue template and fills its text input', async () => {
    const result = await engine().prepare(request('template', 'Мой кот убегает от тигра'));
    expect(result.fallbacks).toEqual([]);
    expect(result.template).toEqual({ templateId: TEMPLATE_IDS.runForLife, templateName: 'Run for Life', textInputs: ['Tiger'], usesImage: true });
    expect(result.director).toBeNull();
    expect(emulator.calls.map((c) => [c.phase, c.maxTokens])).toEqual([
      ['enhancer_template', 300],
      ['router', 300],
    ]);
  });

  it('template mode: a drink goes to Drinkfall', async () => {
    const result = await engine().prepare(request('template', 'Апельсиновый сок в стеклянной бутылке'));
    expect(result.template?.templateId).toBe(TEMPLATE_IDS.drinkfall);
    expect(result.template?.textInputs).toEqual([]);
  });

  it('keeps the valid commands of a messy answer and drops the rest without falling back', async () => {
    emulator.injectFault({ kind: 'invalid_commands' });
    const result = await engine().prepare(request('prompt', PERFUME));
    expect(result.fallbacks).toEqual([]);
    expect(result.director).toMatch(/^\[Push in, Zoom in, Tilt down\] /);
    expect(result.director).not.toMatch(/Orbit|Fly through|Pan left|推进/);
    expect(result.director).toMatch(/\[Push in\]$/);
  });
});

type FaultCase = {
  name: string;
  mode: PromptRequest['mode'];
  fault: Partial<OpenAiFault>;
  fallbacks: string[];
  alerts: Array<{ stage: string; error: RegExp }>;
};

const faultCases: FaultCase[] = [
  {
    // The compiler runs beside the enhancer (issue 16, item 6): its model answer still counts.
    name: 'enhancer timeout (prompt mode) keeps the compiler answered beside it',
    mode: 'prompt',
    fault: { kind: 'delay', ms: 1500, phase: 'enhancer' },
    fallbacks: ['enhancer'],
    alerts: [{ stage: 'GPT_ENHANCE_PROMPT', error: /^timeout \(no answer within 300 ms\)$/ }],
  },
  {
    name: 'enhancer HTTP 500',
    mode: 'prompt',
    fault: { kind: 'http_500', phase: 'enhancer' },
    fallbacks: ['enhancer'],
    alerts: [{ stage: 'GPT_ENHANCE_PROMPT', error: /HTTP 500/ }],
  },
  {
    name: 'enhancer answer not in English',
    mode: 'prompt',
    fault: { kind: 'wrong_language' },
    fallbacks: ['enhancer'],
    alerts: [{ stage: 'GPT_ENHANCE_PROMPT', error: /not in English/ }],
  },
  {
    name: 'compiler 429 rate limit',
    mode: 'prompt',
    fault: { kind: 'rate_limit', phase: 'compiler' },
    fallbacks: ['compiler'],
    alerts: [{ stage: 'GPT_CAMERA_COMPILER', error: /rate limit/ }],
  },
  {
    name: 'compiler timeout',
    mode: 'prompt',
    fault: { kind: 'delay', ms: 1500, phase: 'compiler' },
    fallbacks: ['compiler'],
    alerts: [{ stage: 'GPT_CAMERA_COMPILER', error: /timeout/ }],
  },
  {
    name: 'compiler invalid JSON',
    mode: 'prompt',
    fault: { kind: 'invalid_json', phase: 'compiler' },
    fallbacks: ['compiler'],
    alerts: [{ stage: 'GPT_CAMERA_COMPILER', error: /invalid JSON/ }],
  },
  {
    name: 'compiler truncated JSON',
    mode: 'prompt',
    fault: { kind: 'truncated', phase: 'compiler' },
    fallbacks: ['compiler'],
    alerts: [{ stage: 'GPT_CAMERA_COMPILER', error: /finish_reason=length/ }],
  },
  {
    name: 'compiler refusal',
    mode: 'prompt',
    fault: { kind: 'refusal', phase: 'compiler' },
    fallbacks: ['compiler'],
    alerts: [{ stage: 'GPT_CAMERA_COMPILER', error: /refused/ }],
  },
  {
    name: 'compiler answer with no valid command',
    mode: 'prompt',
    fault: { kind: 'no_commands' },
    fallbacks: ['compiler'],
    alerts: [{ stage: 'GPT_CAMERA_COMPILER', error: /no valid camera command; dropped Fly through/ }],
  },
  {
    name: 'enhancer quota (template mode) skips the router model',
    mode: 'template',
    fault: { kind: 'insufficient_quota', phase: 'enhancer' },
    fallbacks: ['enhancer', 'router'],
    alerts: [{ stage: 'GPT_ENHANCE_TEMPLATE', error: /quota exceeded/ }],
  },
  {
    name: 'router unknown template id',
    mode: 'template',
    fault: { kind: 'unknown_template' },
    fallbacks: ['router'],
    alerts: [{ stage: 'TEMPLATE_ROUTER', error: /unknown template id "999999999999999999"/ }],
  },
  {
    // Issue 16, item 3: the model may only pick a template the seller has the inputs for.
    name: 'router picks a template the request has no inputs for',
    mode: 'template',
    fault: { kind: 'unfit_template' },
    fallbacks: ['router'],
    alerts: [{ stage: 'TEMPLATE_ROUTER', error: /template 397017167949312007 does not fit the request/ }],
  },
  {
    name: 'router timeout',
    mode: 'template',
    fault: { kind: 'delay', ms: 1500, phase: 'router' },
    fallbacks: ['router'],
    alerts: [{ stage: 'TEMPLATE_ROUTER', error: /timeout/ }],
  },
  {
    name: 'router invalid JSON',
    mode: 'template',
    fault: { kind: 'invalid_json', phase: 'router' },
    fallbacks: ['router'],
    alerts: [{ stage: 'TEMPLATE_ROUTER', error: /invalid JSON/ }],
  },
];

describe('prompt engine, model failing', () => {
  it.each(faultCases)('$name → local rules and an alert', async ({ mode, fault, fallbacks, alerts: expected }) => {
    emulator.injectFault(fault);
    const prompt = mode === 'prompt' ? PERFUME : 'Кот убегает от тигра';
    const budget = { enhancer: 'enhancerMs', compiler: 'compilerMs', router: 'routerMs' } as const;
    const timeouts = fault.kind === 'delay' && fault.phase && fault.phase in budget ? { [budget[fault.phase as keyof typeof budget]]: SHORT_MS } : {};
    const result = await engine({ timeouts }).prepare(request(mode, prompt));
    expect(result.fallbacks).toEqual(fallbacks);
    const recorded = await alerts();
    expect(recorded).toHaveLength(expected.length);
    expected.forEach((e, i) => {
      expect(recorded[i]?.stage).toBe(e.stage);
      expect(recorded[i]?.error).toMatch(e.error);
    });
    if (mode === 'prompt') {
      // The user's own moves survive any failure: the rules read the Russian text.
      expect(result.cameraCommands).toEqual(['Push in', 'Pan left']);
      expect(result.finalPrompt.length).toBeLessThanOrEqual(2000);
    } else {
      expect(result.template).toMatchObject({ templateId: TEMPLATE_IDS.runForLife, textInputs: ['Tiger'] });
    }
  });

  it('works with the model unreachable, both modes, within the budgets', async () => {
    const down = engine({ baseUrl: 'http://127.0.0.1:9/v1' });
    const prompt = await down.prepare(request('prompt', 'Кроссовки вращаются на подиуме'));
    const template = await down.prepare(request('template', 'Красное вечернее платье'));
    // Within the budgets by construction: the refused connection fails the first phase at
    // once (no timeout waited out); in template mode the router does not ask the model again,
    // in prompt mode the compiler asked at the same moment as the enhancer.
    const refused = 'connection failed: fetch failed';
    const outcomes = (stages: PreparedPrompt['stages']) => stages.map((s) => [s.stage, s.source, s.error]);
    expect(outcomes(prompt.stages)).toEqual([
      ['enhancer', 'fallback', refused],
      ['compiler', 'fallback', refused],
    ]);
    expect(outcomes(template.stages)).toEqual([
      ['enhancer', 'fallback', refused],
      ['router', 'fallback', `skipped: ${refused}`],
    ]);
    expect(prompt.director).toMatch(/^\[Truck left, Pan right\] Cinematic product shot: sneakers/);
    expect(template.template?.templateId).toBe(TEMPLATE_IDS.femaleTryOn);
    // One alert per generation for the outage, as before the phases ran side by side.
    expect((await alerts()).map((a) => a.stage).sort()).toEqual(['GPT_ENHANCE_PROMPT', 'GPT_ENHANCE_TEMPLATE']);
  });

  it('falls back to a push-in when the text asks for no move', async () => {
    emulator.injectFault({ kind: 'http_500', phase: 'compiler' });
    const result = await engine().prepare(request('prompt', 'Красивая бутылка вина'));
    expect(result.fallbacks).toEqual(['compiler']);
    expect(result.director).toMatch(/^\[Push in\] /);
  });
});

describe('operator alerts in an outage (prompt mode)', () => {
  function engineAlertingTelegram(baseUrl?: string) {
    const client = createTelegramClient({ apiBase: `${sandbox.url}/telegram`, botToken: SANDBOX_CREDENTIALS.telegramBotToken, timeoutMs: 2000 });
    // No cooldown: every alert raised reaches the chat, so the count is the engine's own.
    notifier = createTelegramNotifier({ db, log, clock: new ManualClock(), telegram: { client, chatId: SANDBOX_CREDENTIALS.telegramChatId }, cooldownMs: 0, minIntervalMs: 0 });
    return engine(baseUrl ? { baseUrl } : {});
  }
  const telegram = () => sandbox.emulator<TelegramEmulator>('telegram');
  const sentTexts = () => telegram().messages.map((m) => m.visible);

  it.each([
    ['model unreachable', 'http://127.0.0.1:9/v1', null, /^connection failed: fetch failed \(camera compiler fell back too\)$/],
    ['model answering HTTP 500', undefined, { kind: 'http_500', count: 4 } as Partial<OpenAiFault>, /HTTP 500.*\(camera compiler fell back too\)$/],
  ] as const)('%s: one Telegram message per generation, naming both stages', async (_name, baseUrl, fault, error) => {
    telegram().reset();
    const down = engineAlertingTelegram(baseUrl ?? undefined);
    if (fault) emulator.injectFault(fault);
    const first = await down.prepare(request('prompt', PERFUME));
    const second = await down.prepare({ ...request('prompt', PERFUME), generationId: 'gen_2' });
    for (const result of [first, second]) expect(result.fallbacks).toEqual(['enhancer', 'compiler']);
    await notifier.flush();
    expect(sentTexts()).toHaveLength(2);
    sentTexts().forEach((text, i) => {
      const lines = text.split('\n');
      expect(lines.slice(0, 4)).toEqual(['⚠️ Beem Error', 'Stage: GPT_ENHANCE_PROMPT', 'User: user_1', `Generation: ${['gen_1', 'gen_2'][i]}`]);
      expect(lines[4]?.replace(/^Error: /, '')).toMatch(error);
    });
  });

  it('different failures of the two stages are two problems: two messages', async () => {
    telegram().reset();
    const down = engineAlertingTelegram();
    emulator.injectFault({ kind: 'wrong_language' });
    emulator.injectFault({ kind: 'invalid_json', phase: 'compiler' });
    const result = await down.prepare(request('prompt', PERFUME));
    expect(result.fallbacks).toEqual(['enhancer', 'compiler']);
    await notifier.flush();
    expect(sentTexts().map((t) => t.split('\n')[1]).sort()).toEqual(['Stage: GPT_CAMERA_COMPILER', 'Stage: GPT_ENHANCE_PROMPT']);
  });
});
