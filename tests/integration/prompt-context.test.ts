import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, type TestStack } from '../helpers/stack.ts';
import type { TelegramEmulator } from '../../sandbox/telegram/index.ts';
import type { OpenAiEmulator } from '../../sandbox/openai/index.ts';
import { recentAlerts } from '../../src/lib/notify/alert-log.ts';

let stack: TestStack;
beforeAll(async () => {
  stack = await startStack({ env: { TELEGRAM_MIN_INTERVAL_MS: '0', ENHANCER_TIMEOUT_MS: '1500' } });
});
afterAll(() => stack.stop());

describe('prompt engine and notifier wired in the app context', () => {
  it('prepares a prompt through the sandbox model configured by SANDBOX_URL', async () => {
    const result = await stack.app.ctx.promptEngine.prepare({
      mode: 'prompt',
      prompt: 'Кроссовки на белом фоне, камера облетает вокруг',
      duration: 6,
      userId: 'u1',
      generationId: 'g1',
    });
    expect(result.fallbacks).toEqual([]);
    expect(result.cameraCommands).toEqual(['Truck left', 'Pan right']);
    expect(stack.sandbox.emulator<OpenAiEmulator>('openai').calls).toHaveLength(2);
  });

  it('sends a model failure to the operator chat and records it', async () => {
    stack.sandbox.emulator<OpenAiEmulator>('openai').injectFault({ kind: 'delay', ms: 5000, phase: 'enhancer' });
    const result = await stack.app.ctx.promptEngine.prepare({ mode: 'template', prompt: 'Бутылка лимонада', duration: 6, userId: 'u2', generationId: 'g2' });
    expect(result.fallbacks).toEqual(['enhancer', 'router']);
    await stack.app.ctx.notifier.flush();
    const inbox = stack.sandbox.emulator<TelegramEmulator>('telegram').messages;
    expect(inbox.at(-1)?.visible).toBe('⚠️ Beem Error\nStage: GPT_ENHANCE_TEMPLATE\nUser: u2\nGeneration: g2\nError: timeout (no answer within 1500 ms)');
    expect((await recentAlerts(stack.app.ctx.db, 1))[0]).toMatchObject({ stage: 'GPT_ENHANCE_TEMPLATE', delivery: 'sent' });
  });
});
