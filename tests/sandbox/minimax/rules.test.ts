import { describe, expect, it } from 'vitest';
import { TEMPLATES } from '../../../sandbox/minimax/catalog.ts';
import {
  decimalId,
  firstCameraMotion,
  outputDimensions,
  renderDimensions,
  validateTemplateRequest,
  validateVideoRequest,
} from '../../../sandbox/minimax/rules.ts';

const IMAGE = 'data:image/jpeg;base64,AAAA';

describe('validateVideoRequest: the model × mode × resolution × duration matrix', () => {
  const cases: Array<[string, Record<string, unknown>, boolean]> = [
    ['Hailuo-2.3 T2V 768P 6 s', { model: 'MiniMax-Hailuo-2.3', prompt: 'x', resolution: '768P', duration: 6 }, true],
    ['Hailuo-2.3 T2V 768P 10 s', { model: 'MiniMax-Hailuo-2.3', prompt: 'x', resolution: '768P', duration: 10 }, true],
    ['Hailuo-2.3 1080P 6 s', { model: 'MiniMax-Hailuo-2.3', prompt: 'x', resolution: '1080P', duration: 6 }, true],
    ['Hailuo-2.3 1080P 10 s', { model: 'MiniMax-Hailuo-2.3', prompt: 'x', resolution: '1080P', duration: 10 }, false],
    ['Hailuo-2.3 720P', { model: 'MiniMax-Hailuo-2.3', prompt: 'x', resolution: '720P' }, false],
    ['Hailuo-2.3 512P I2V', { model: 'MiniMax-Hailuo-2.3', first_frame_image: IMAGE, resolution: '512P' }, false],
    ['Hailuo-2.3 duration 8', { model: 'MiniMax-Hailuo-2.3', prompt: 'x', duration: 8 }, false],
    ['Hailuo-2.3 defaults (768P, 6 s)', { model: 'MiniMax-Hailuo-2.3', prompt: 'x' }, true],
    ['2.3-Fast I2V', { model: 'MiniMax-Hailuo-2.3-Fast', first_frame_image: IMAGE, duration: 10 }, true],
    ['2.3-Fast without a first frame (T2V)', { model: 'MiniMax-Hailuo-2.3-Fast', prompt: 'x' }, false],
    ['Hailuo-02 512P I2V 10 s', { model: 'MiniMax-Hailuo-02', first_frame_image: IMAGE, resolution: '512P', duration: 10 }, true],
    ['Hailuo-02 512P T2V', { model: 'MiniMax-Hailuo-02', prompt: 'x', resolution: '512P' }, false],
    ['Hailuo-02 FL2V 768P', { model: 'MiniMax-Hailuo-02', first_frame_image: IMAGE, last_frame_image: IMAGE }, true],
    ['Hailuo-02 FL2V 512P', { model: 'MiniMax-Hailuo-02', first_frame_image: IMAGE, last_frame_image: IMAGE, resolution: '512P' }, false],
    ['Hailuo-2.3 FL2V (only 02 does it)', { model: 'MiniMax-Hailuo-2.3', first_frame_image: IMAGE, last_frame_image: IMAGE }, false],
    ['T2V-01-Director 720P 6 s', { model: 'T2V-01-Director', prompt: 'x', resolution: '720P', duration: 6 }, true],
    ['T2V-01 10 s', { model: 'T2V-01', prompt: 'x', duration: 10 }, false],
    ['I2V-01 768P', { model: 'I2V-01', first_frame_image: IMAGE, resolution: '768P' }, false],
    ['I2V-01 without image', { model: 'I2V-01', prompt: 'x' }, false],
    ['S2V-01 with one subject', { model: 'S2V-01', prompt: 'x', subject_reference: [{ type: 'character', image: [IMAGE] }] }, true],
    ['S2V-01 with two images', { model: 'S2V-01', prompt: 'x', subject_reference: [{ type: 'character', image: [IMAGE, IMAGE] }] }, false],
    ['unknown model', { model: 'Hailuo-9', prompt: 'x' }, false],
    ['missing model', { prompt: 'x' }, false],
    ['T2V with an empty prompt', { model: 'MiniMax-Hailuo-2.3', prompt: '  ' }, false],
    ['I2V with an empty prompt', { model: 'MiniMax-Hailuo-2.3', first_frame_image: IMAGE }, true],
    ['resolution in lower case', { model: 'MiniMax-Hailuo-2.3', prompt: 'x', resolution: '768p' }, false],
    ['duration as a string', { model: 'MiniMax-Hailuo-2.3', prompt: 'x', duration: '6' }, false],
    ['prompt_optimizer not a boolean', { model: 'MiniMax-Hailuo-2.3', prompt: 'x', prompt_optimizer: 'yes' }, false],
    ['callback_url not a url', { model: 'MiniMax-Hailuo-2.3', prompt: 'x', callback_url: 'nowhere' }, false],
  ];
  it.each(cases)('%s', (_name, body, ok) => {
    expect(validateVideoRequest(body).ok).toBe(ok);
  });

  it('infers the mode from the fields', () => {
    const mode = (body: Record<string, unknown>) => {
      const r = validateVideoRequest({ model: 'MiniMax-Hailuo-02', prompt: 'x', ...body });
      return r.ok ? r.mode : r.message;
    };
    expect(mode({})).toBe('T2V');
    expect(mode({ first_frame_image: IMAGE })).toBe('I2V');
    expect(mode({ first_frame_image: IMAGE, last_frame_image: IMAGE })).toBe('FL2V');
  });

  it('refuses a prompt over 2000 characters, counting characters rather than bytes', () => {
    const ok = validateVideoRequest({ model: 'MiniMax-Hailuo-2.3', prompt: 'я'.repeat(2000) });
    const long = validateVideoRequest({ model: 'MiniMax-Hailuo-2.3', prompt: 'я'.repeat(2001) });
    expect(ok.ok).toBe(true);
    expect(long).toMatchObject({ ok: false, message: expect.stringContaining('2000') });
  });

  it('can reject explicit sizes on the 01-series when switched on', () => {
    const body = { model: 'T2V-01', prompt: 'x', duration: 6 };
    expect(validateVideoRequest(body).ok).toBe(true);
    expect(validateVideoRequest(body, { legacyRejectsExplicitSize: true }).ok).toBe(false);
  });
});

describe('validateTemplateRequest', () => {
  it('knows all 22 template ids of both official lists', () => {
    expect(new Set(TEMPLATES.map((t) => t.id)).size).toBe(22);
    for (const t of TEMPLATES) expect(t.id).toMatch(/^\d{18}$/);
  });

  it('requires the inputs each template lists', () => {
    const media = [{ value: IMAGE }];
    const text = [{ value: 'Lion' }];
    expect(validateTemplateRequest({ template_id: '392747428568649728', media_inputs: media }).ok).toBe(true);
    expect(validateTemplateRequest({ template_id: '392747428568649728' }).ok).toBe(false);
    expect(validateTemplateRequest({ template_id: '393769180141805569', media_inputs: media }).ok).toBe(false);
    expect(validateTemplateRequest({ template_id: '393769180141805569', media_inputs: media, text_inputs: text }).ok).toBe(true);
    expect(validateTemplateRequest({ template_id: '394875727173492739', text_inputs: text }).ok).toBe(true);
    expect(validateTemplateRequest({ template_id: '999', media_inputs: media }).ok).toBe(false);
    expect(validateTemplateRequest({ template_id: '392747428568649728', media_inputs: [{ url: IMAGE }] }).ok).toBe(false);
  });

  it('accepts extra inputs unless strict counts are switched on', () => {
    const body = { template_id: '392747428568649728', media_inputs: [{ value: IMAGE }], text_inputs: [{ value: 'extra' }] };
    expect(validateTemplateRequest(body).ok).toBe(true);
    expect(validateTemplateRequest(body, { strictInputCounts: true }).ok).toBe(false);
  });
});

describe('outputDimensions', () => {
  it.each([
    ['720P', null, 1280, 720],
    ['768P', null, 1366, 768],
    ['1080P', null, 1920, 1080],
    ['1080P', 9 / 16, 1080, 1920],
    ['768P', 1, 768, 768],
    ['768P', 4 / 3, 1024, 768],
    ['512P', 16 / 9, 910, 512],
  ] as const)('%s with aspect %s → %i×%i', (resolution, aspect, width, height) => {
    expect(outputDimensions(resolution, aspect)).toEqual({ width, height });
  });

  it('caps the rendered size at the short side, keeping even numbers', () => {
    expect(renderDimensions({ width: 1920, height: 1080 }, 480)).toEqual({ width: 854, height: 480 });
    expect(renderDimensions({ width: 768, height: 1366 }, 480)).toEqual({ width: 480, height: 854 });
    expect(renderDimensions({ width: 640, height: 360 }, 480)).toEqual({ width: 640, height: 360 });
  });
});

describe('firstCameraMotion', () => {
  it.each([
    ['A man picks up a book [Pedestal up], then reads [Static shot].', 'pedestal_up'],
    ['[Push in] A lamb stands on the grass', 'push_in'],
    ['[Pan left, Pedestal up] a city', 'pan_left'],
    ['[slowly, Truck right] bottle', 'truck_right'],
    ['[tracking shot] runner', 'tracking'],
    ['[变焦推近] 产品', 'zoom_in'],
    ['[晃动]', 'shake'],
    ['[Zoom out]', 'zoom_out'],
    ['[Tilt down]', 'tilt_down'],
    ['[Pull out]', 'pull_out'],
    ['[golden hour] product on a table [Zoom in]', 'zoom_in'],
    ['no commands at all', null],
  ])('%s → %s', (prompt, motion) => {
    expect(firstCameraMotion(prompt)).toBe(motion);
  });
});

describe('decimalId', () => {
  it('makes decimal strings of the requested length that never start with 0', () => {
    for (const digits of [15, 18]) {
      const id = decimalId(digits);
      expect(id).toMatch(new RegExp(`^[1-9]\\d{${digits - 1}}$`));
    }
    expect(Number.isSafeInteger(Number(decimalId(15)))).toBe(true);
  });
});
