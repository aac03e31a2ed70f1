import { describe, expect, it } from 'vitest';
import { expectBilingual } from '../helpers/phrasebook.ts';
import {
  EXPORT_TARGETS,
  EXPORT_TARGET_IDS,
  MIN_FRAME_SHORT_SIDE,
  VIDEO_FORMATS,
  cropSize,
  exportFileName,
  exportFileNameRu,
  loopCount,
  planFirstFrame,
  placeCrop,
  roundFocus,
  type CropFormat,
} from '../../src/lib/video/formats.ts';
import { exportVideoArgs, fitFilter } from '../../src/lib/video/export-render.ts';
import { chooseFormat, parseFormatChoice } from '../../src/lib/video/format-choice.ts';
import { isAppError } from '../../src/lib/errors.ts';
import { t } from '../../src/lib/i18n/index.ts';
import { video } from '../../src/lib/i18n/messages/video.ts';

const PHOTOS = {
  portrait: { width: 1200, height: 1600 },
  landscape: { width: 1600, height: 1200 },
  square: { width: 1000, height: 1000 },
} as const;

const RATIO: Record<CropFormat, number> = { '3:4': 3 / 4, '9:16': 9 / 16, '1:1': 1, '16:9': 16 / 9 };

describe('the first frame of each format', () => {
  const cases = (['3:4', '9:16', '1:1', '16:9'] as const).flatMap((format) =>
    Object.entries(PHOTOS).map(([shape, photo]) => ({ format, shape, photo })),
  );

  it.each(cases)('$format from a $shape photo: the largest crop of that shape, inside the photo, not enlarged', ({ format, photo }) => {
    const plan = planFirstFrame(photo, format, null);
    if (!plan.ok) throw new Error(`refused: ${plan.code}`);
    expect(plan.output.width / plan.output.height).toBeCloseTo(RATIO[format], 2);
    // Largest: one side is the photo's own.
    expect(plan.crop.width === photo.width || plan.crop.height === photo.height).toBe(true);
    expect(plan.crop.left).toBeGreaterThanOrEqual(0);
    expect(plan.crop.top).toBeGreaterThanOrEqual(0);
    expect(plan.crop.left + plan.crop.width).toBeLessThanOrEqual(photo.width);
    expect(plan.crop.top + plan.crop.height).toBeLessThanOrEqual(photo.height);
    expect(plan.upscale).toBe(1);
    expect(plan.output).toEqual({ width: plan.crop.width, height: plan.crop.height });
  });

  it.each([
    ['3:4', { width: 1600, height: 1200 }, { width: 900, height: 1200 }],
    ['9:16', { width: 1600, height: 1200 }, { width: 675, height: 1200 }],
    ['16:9', { width: 1200, height: 1600 }, { width: 1200, height: 675 }],
    ['1:1', { width: 1200, height: 1600 }, { width: 1200, height: 1200 }],
    ['3:4', { width: 1000, height: 1000 }, { width: 750, height: 1000 }],
  ] as const)('%s of %o is %o', (format, photo, size) => {
    expect(cropSize(photo.width, photo.height, RATIO[format])).toEqual(size);
  });

  it('keeps the whole photo for «Как на фото»', () => {
    expect(planFirstFrame({ width: 800, height: 600 }, 'original', null)).toEqual({
      ok: true,
      crop: { left: 0, top: 0, width: 800, height: 600 },
      output: { width: 800, height: 600 },
      upscale: 1,
    });
  });

  it('centres the crop on the focus point and keeps it inside the photo', () => {
    const photo = { width: 1600, height: 1200 };
    expect(placeCrop(photo, { width: 900, height: 1200 }, { x: 0.5, y: 0.5 })).toEqual({ left: 350, top: 0, width: 900, height: 1200 });
    expect(placeCrop(photo, { width: 900, height: 1200 }, { x: 0.1, y: 0.5 })).toEqual({ left: 0, top: 0, width: 900, height: 1200 });
    expect(placeCrop(photo, { width: 900, height: 1200 }, { x: 0.95, y: 0.5 })).toEqual({ left: 700, top: 0, width: 900, height: 1200 });
    expect(placeCrop(photo, { width: 900, height: 1200 }, { x: 0.6, y: 0.9 })).toEqual({ left: 510, top: 0, width: 900, height: 1200 });
  });

  it('enlarges a crop under MiniMax’s minimum up to 2×, to exactly the minimum short side', () => {
    // 9:16 of 400×300: 169×300, short side 169 → ×1.78.
    const plan = planFirstFrame({ width: 400, height: 300 }, '9:16', null);
    if (!plan.ok) throw new Error('refused');
    expect(plan.crop).toMatchObject({ width: 169, height: 300 });
    expect(plan.upscale).toBeCloseTo(MIN_FRAME_SHORT_SIDE / 169, 5);
    expect(plan.output).toEqual({ width: MIN_FRAME_SHORT_SIDE, height: 535 });
  });

  it('refuses a crop that would need more than 2× and names the smallest photo that works', () => {
    // 16:9 of 260×400: 260×146, short side 146 < 150.5 (301 / 2).
    const plan = planFirstFrame({ width: 260, height: 400 }, '16:9', null);
    expect(plan).toEqual({
      ok: false,
      code: 'FORMAT_PHOTO_TOO_SMALL',
      params: { format: '16:9', width: 260, height: 400, cropWidth: 260, cropHeight: 146, minWidth: 269, minHeight: 413 },
    });
    // The named photo does work.
    expect(planFirstFrame({ width: 269, height: 413 }, '16:9', null).ok).toBe(true);
    const message = t('ru', `errors.${plan.ok ? '' : plan.code}`, plan.ok ? {} : plan.params);
    expect(message).toBe(
      'Фото 260×400 слишком маленькое для формата 16:9: после обрезки остаётся 260×146, а нейросети нужно больше 300 пикселей по меньшей стороне. Загрузите фото хотя бы 269×413 или выберите другой формат.',
    );
  });

  it.each(VIDEO_FORMATS.filter((f) => f !== 'original'))('accepts %s exactly at the 2× limit and refuses one pixel under', (format) => {
    const ratio = RATIO[format];
    // A photo whose crop has a short side of 151 (×1.99) and of 150 (×2.007).
    const photoFor = (short: number) => (ratio < 1 ? { width: short, height: Math.round(short / ratio) } : { width: Math.round(short * ratio), height: short });
    expect(planFirstFrame(photoFor(151), format, null).ok).toBe(true);
    expect(planFirstFrame(photoFor(150), format, null)).toMatchObject({ ok: false, code: 'FORMAT_PHOTO_TOO_SMALL' });
  });

  it.each([
    [{ width: 300, height: 900 }, 'IMAGE_TOO_SMALL'],
    [{ width: 1600, height: 600 }, 'IMAGE_BAD_ASPECT'],
    [{ width: 400, height: 1100 }, 'IMAGE_BAD_ASPECT'],
  ] as const)('refuses %o as it is («Как на фото») with %s and a Russian message', (photo, code) => {
    const plan = planFirstFrame(photo, 'original', null);
    expect(plan).toMatchObject({ ok: false, code });
    if (plan.ok) return;
    expect(t('ru', `errors.${code}`, plan.params)).toMatch(/^Фото слишком/);
  });

  it('crops a photo too extreme for MiniMax into a shape it takes', () => {
    // 1600×600 is beyond 5:2 as it is, but its 1:1 and 16:9 crops are fine.
    expect(planFirstFrame({ width: 1600, height: 600 }, '1:1', null)).toMatchObject({ ok: true, output: { width: 600, height: 600 } });
    expect(planFirstFrame({ width: 1600, height: 600 }, '16:9', null)).toMatchObject({ ok: true, output: { width: 1067, height: 600 } });
  });

  it('rounds the focus point to thousandths inside 0..1', () => {
    expect(roundFocus({ x: 0.12345, y: 0.9999 })).toEqual({ x: 0.123, y: 1 });
  });
});

describe('the format choice of a generate request', () => {
  const photo = { width: 800, height: 600 };
  const refusal = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      if (isAppError(err)) return { code: err.code, field: err.field };
    }
    return null;
  };

  it('defaults to «Как на фото» without a focus', () => {
    expect(parseFormatChoice({})).toEqual({ format: 'original', focus: null });
    expect(parseFormatChoice({ format: '9:16' })).toEqual({ format: '9:16', focus: null });
    expect(parseFormatChoice({ format: '3:4', focus: { x: 0.25, y: 0.75 } })).toEqual({ format: '3:4', focus: { x: 0.25, y: 0.75 } });
  });

  it.each([[{ format: '4:5' }], [{ format: 34 }], [{ format: '' }]])('refuses an unknown format %o', (body) => {
    expect(refusal(() => parseFormatChoice(body))).toEqual({ code: 'FORMAT_INVALID', field: 'format' });
  });

  it.each([[{ x: 1.2, y: 0.5 }], [{ x: 0.5 }], ['middle'], [[0.5, 0.5]], [{ x: Number.NaN, y: 0 }]])('refuses a focus %o', (focus) => {
    expect(refusal(() => parseFormatChoice({ format: '1:1', focus }))).toEqual({ code: 'FOCUS_INVALID', field: 'focus' });
  });

  it('lets the template decide the shape in template mode', () => {
    expect(chooseFormat({ format: '9:16', focus: { x: 0.1, y: 0.1 } }, 'template', photo)).toEqual({ format: 'original', focus: null });
    expect(chooseFormat({ format: '9:16' }, 'prompt', photo)).toEqual({ format: '9:16', focus: null });
  });

  it('refuses a format the photo cannot give before any credit moves', () => {
    expect(refusal(() => chooseFormat({ format: '16:9' }, 'prompt', { width: 260, height: 400 }))).toEqual({ code: 'FORMAT_PHOTO_TOO_SMALL', field: 'format' });
  });
});

describe('marketplace export targets', () => {
  it('has the issue’s sizes, each inside Ozon’s long side of 1080–1920 px', () => {
    expect(Object.fromEntries(EXPORT_TARGET_IDS.map((id) => [id, `${EXPORT_TARGETS[id].width}×${EXPORT_TARGETS[id].height}`]))).toEqual({
      wildberries: '1080×1440',
      ozon: '1080×1440',
      'ozon-cover': '1080×1440',
      clips: '1080×1920',
      square: '1080×1080',
      wide: '1920×1080',
    });
    for (const id of EXPORT_TARGET_IDS) expect(EXPORT_TARGETS[id].source).not.toBe('');
  });

  it.each([
    ['ozon', 6, 2],
    ['ozon', 10, 1],
    ['ozon', 4, 2],
    ['ozon', 3.9, 3],
    ['wildberries', 6, 1],
    ['ozon-cover', 6, 1],
  ] as const)('%s plays a %f s clip %i times', (target, seconds, plays) => {
    expect(loopCount(EXPORT_TARGETS[target], seconds)).toBe(plays);
  });

  it('names downloads in ASCII with a Russian alternative', () => {
    expect(exportFileName(EXPORT_TARGETS.wildberries, 'video')).toBe('beem-3x4-wildberries.mp4');
    expect(exportFileName(EXPORT_TARGETS.clips, 'cover')).toBe('beem-9x16-clips-cover.jpg');
    expect(exportFileNameRu(EXPORT_TARGETS.ozon, 'video')).toBe('beem-ролик-3x4-ozon.mp4');
    expect(exportFileNameRu(EXPORT_TARGETS.square, 'cover')).toBe('beem-обложка-1x1-square.jpg');
  });

  it('loops Ozon’s product video, cuts and silences its cover, and keeps audio elsewhere', () => {
    const job = (target: keyof typeof EXPORT_TARGETS) =>
      exportVideoArgs({ input: 'in.mp4', output: 'out.mp4', target: EXPORT_TARGETS[target], fit: 'blur', clipSeconds: 6, threads: 1 });
    expect(job('ozon').slice(0, 2)).toEqual(['-stream_loop', '1']);
    expect(job('wildberries')).not.toContain('-stream_loop');
    expect(job('ozon-cover')).toContain('-an');
    expect(job('ozon-cover').join(' ')).toContain('-t 8');
    expect(job('clips')).not.toContain('-an');
    expect(job('clips').join(' ')).toContain('-map 0:a:0?');
    for (const target of EXPORT_TARGET_IDS) {
      const args = job(target).join(' ');
      expect(args).toContain('-c:v libx264 -profile:v high -pix_fmt yuv420p');
      expect(args).toContain('-movflags +faststart');
    }
  });

  it('never stretches: blur fits the picture inside, crop fills and cuts', () => {
    expect(fitFilter('crop', 1080, 1920)).toContain('force_original_aspect_ratio=increase,crop=1080:1920');
    expect(fitFilter('blur', 1080, 1920)).toContain('[fgsrc]scale=1080:1920:force_original_aspect_ratio=decrease');
    expect(fitFilter('blur', 1080, 1920)).toContain('overlay=(W-w)/2:(H-h)/2');
  });
});

describe('the video texts', () => {
  it('has every key in Russian and English, with the same placeholders', () => {
    expectBilingual(video);
  });

  it('names every target and format the page offers', () => {
    for (const id of EXPORT_TARGET_IDS) expect(video.ru[`ui.video.target.${id}`]).toBeTruthy();
    for (const format of VIDEO_FORMATS) expect(video.ru[`ui.video.format.${format.replace(':', 'x')}`]).toBeTruthy();
  });
});
