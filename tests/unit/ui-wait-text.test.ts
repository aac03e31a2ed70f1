import { describe, expect, it } from 'vitest';
import { waiting } from '../../src/lib/i18n/messages/waiting.ts';
import { createTranslator } from '../../src/scripts/translator.ts';
import { remainingText, waitText } from '../../src/scripts/wait-text.ts';
import { expectBilingual } from '../helpers/phrasebook.ts';

/** The waiting line in both languages (issue 16 §5): nothing rather than a made-up number. */

const ru = createTranslator('ru', waiting.ru);
const en = createTranslator('en', waiting.en);

describe('waiting text', () => {
  it('has every phrase in Russian and English with the same placeholders', () => {
    expectBilingual(waiting);
  });

  it.each([
    [ru, 150_000, 0, 'Осталось примерно 3 минуты.'],
    [ru, 300_000, 0, 'Осталось примерно 5 минут.'],
    [ru, 61_000, 0, 'Осталось примерно 2 минуты.'],
    [ru, 60_000, 0, 'Осталась примерно 1 минута.'],
    [ru, 59_000, 0, 'Осталось меньше минуты.'],
    [ru, 150_000, 100_000, 'Осталось меньше минуты.'],
    [en, 60_001, 0, 'About 2 minutes left.'],
    [en, 30_000, 0, 'Less than a minute left.'],
  ])('counts the estimate down (%#)', (tr, etaMs, since, text) => {
    expect(remainingText(tr, etaMs, since)).toBe(text);
  });

  it('says nothing without an estimate, or once it is used up', () => {
    expect(remainingText(ru, null, 0)).toBe('');
    expect(remainingText(ru, undefined, 0)).toBe('');
    expect(remainingText(ru, 40_000, 40_000)).toBe('');
  });

  it('names the videos ahead only where the stage does not already', () => {
    const view = { queuePosition: 3, etaMs: 200_000 };
    expect(waitText(ru, view, { sinceAnswerMs: 0, withQueue: true })).toBe('Перед вами 2 ролика. Осталось примерно 4 минуты.');
    expect(waitText(en, view, { sinceAnswerMs: 0, withQueue: true })).toBe('2 videos ahead of yours. About 4 minutes left.');
    expect(waitText(ru, view, { sinceAnswerMs: 0, withQueue: false })).toBe('Осталось примерно 4 минуты.');
    expect(waitText(ru, { queuePosition: 1, etaMs: null }, { sinceAnswerMs: 0, withQueue: true })).toBe('');
  });
});
