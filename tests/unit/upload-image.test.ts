import { describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { checkImageDimensions, detectImageType, normaliseImage } from '../../src/lib/uploads/image.ts';

const solid = (width: number, height: number) =>
  sharp({ create: { width, height, channels: 3, background: { r: 180, g: 90, b: 30 } } });

describe('image checks', () => {
  it('detects JPEG, PNG and WebP by their bytes only', async () => {
    expect(detectImageType(await solid(10, 10).jpeg().toBuffer())).toBe('jpeg');
    expect(detectImageType(await solid(10, 10).png().toBuffer())).toBe('png');
    expect(detectImageType(await solid(10, 10).webp().toBuffer())).toBe('webp');
    expect(detectImageType(await solid(10, 10).gif().toBuffer())).toBeNull();
    expect(detectImageType(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeNull();
  });

  it.each([
    [301, 301, null],
    [300, 800, 'IMAGE_TOO_SMALL'],
    [1000, 400, null],
    [1001, 400, 'IMAGE_BAD_ASPECT'],
    [400, 1001, 'IMAGE_BAD_ASPECT'],
  ])('%i×%i → %s', (w, h, code) => {
    expect(checkImageDimensions(w, h)?.code ?? null).toBe(code);
  });

  it('applies EXIF rotation, strips metadata and scales very large photos down', async () => {
    const rotated = await solid(800, 400)
      .jpeg()
      .withMetadata({ orientation: 6, exif: { IFD0: { Copyright: 'secret-camera' } } })
      .toBuffer();
    const out = await normaliseImage(rotated);
    expect([out.width, out.height]).toEqual([400, 800]);
    const meta = await sharp(out.jpeg).metadata();
    expect(meta.orientation).toBeUndefined();
    expect(meta.exif).toBeUndefined();
    expect(out.jpeg.includes(Buffer.from('secret-camera'))).toBe(false);

    const big = await normaliseImage(await solid(4000, 3000).png().toBuffer());
    expect([big.width, big.height]).toEqual([2048, 1536]);
  });

  it('judges the size of the upright photo, not of the stored pixels', async () => {
    // Stored 1000×350 (too wide), but orientation 6 makes it 350×1000: still 1:2.86 → refused.
    const tall = await solid(1000, 350).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    await expect(normaliseImage(tall)).rejects.toMatchObject({ code: 'IMAGE_BAD_ASPECT' });
  });

  it('refuses a file that starts like a JPEG but is not one', async () => {
    const liar = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(5000, 7)]);
    await expect(normaliseImage(liar)).rejects.toMatchObject({ code: 'IMAGE_UNREADABLE', status: 400 });
  });
});
