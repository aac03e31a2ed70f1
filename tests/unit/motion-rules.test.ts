import { describe, expect, it } from 'vitest';
import { detectCameraMoves, placeCameraMoves } from '../../src/lib/prompt/motion-rules.ts';
import { sanitizeDirectorPrompt } from '../../src/lib/prompt/camera-commands.ts';

const cases: Array<[string, string[][]]> = [
  ['Камера приближается к флакону духов', [['Push in']]],
  ['Медленный наезд на кроссовки', [['Push in']]],
  ['Крупный план часов', [['Push in']]],
  ['Отъезд камеры от бутылки', [['Pull out']]],
  ['Камера отдаляется и показывает всю кухню', [['Pull out']]],
  ['Панорама влево по витрине', [['Pan left']]],
  ['панорама вправо', [['Pan right']]],
  ['Камера следует за девушкой', [['Tracking shot']]],
  ['камера следит за машиной', [['Tracking shot']]],
  ['Камера движется сверху вниз', [['Tilt down']]],
  ['Вид сверху на торт', [['Tilt down']]],
  ['Камера поднимается над столом', [['Pedestal up']]],
  ['Камера опускается к продукту', [['Pedestal down']]],
  ['Кадр трясётся, будто землетрясение', [['Shake']]],
  ['Телефон дрожит от вибрации', [['Shake']]],
  ['Статичный кадр, только пар от кофе', [['Static shot']]],
  ['Неподвижная камера', [['Static shot']]],
  ['Облёт вокруг флакона', [['Truck left', 'Pan right']]],
  ['Кроссовки вращаются на подиуме', [['Truck left', 'Pan right']]],
  ['Зум на логотип', [['Zoom in']]],
  ['Камера смещается вправо вдоль полки', [['Truck right']]],
  ['The camera pushes in on the bottle, then pans left', [['Push in'], ['Pan left']]],
  ['Slow orbit around the watch', [['Truck left', 'Pan right']]],
  ['Handheld shot following the runner', [['Shake'], ['Tracking shot']]],
  ['Наезд, затем панорама влево, потом камера поднимается', [['Push in'], ['Pan left'], ['Pedestal up']]],
  ['Наезд и ещё раз наезд', [['Push in']]],
  ['Красивая бутылка на столе', []],
];

describe('detectCameraMoves', () => {
  it.each(cases)('%s', (text, expected) => {
    expect(detectCameraMoves(text)).toEqual(expected);
  });
});

describe('placeCameraMoves', () => {
  it('leads with the first move and opens later sentences with the next ones', () => {
    const text = placeCameraMoves('A bottle on marble. Light plays on the glass.', [['Push in'], ['Pan left']]);
    expect(text).toBe('[Push in] A bottle on marble. [Pan left] Light plays on the glass.');
  });

  it('appends moves beyond the sentences, in order', () => {
    expect(placeCameraMoves('A bottle.', [['Push in'], ['Pan left'], ['Static shot']])).toBe(
      '[Push in] A bottle. [Pan left] [Static shot]',
    );
  });

  it('uses a push-in when no move was asked for', () => {
    expect(placeCameraMoves('A bottle.', [])).toBe('[Push in] A bottle.');
  });

  it('always yields a prompt the sanitiser leaves unchanged', () => {
    const text = placeCameraMoves('One. Two. Three.', [['Truck left', 'Pan right'], ['Tilt down']]);
    expect(sanitizeDirectorPrompt(text).text).toBe(text);
  });
});
