import { beforeEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase, type Db } from '../../src/lib/db/index.ts';
import { loadConfig } from '../../src/lib/config.ts';
import { applyCreditChange, findLedgerMismatches, listLedgerEntries } from '../../src/lib/billing/ledger.ts';
import { createGeneration } from '../../src/lib/generation/create.ts';
import { upsertUserFromIdentity } from '../../src/lib/auth/users.ts';
import { seedUserWithPhoto } from '../helpers/seed.ts';
import { savePreview } from '../../src/lib/preview/preview-store.ts';
import type { CameraCommand } from '../../src/lib/prompt/camera-commands.ts';

/**
 * The credit hold taken when a generation is accepted, and the ledger guards under it,
 * called in this process (HTTP tests reach them through the built server's own copy).
 */

const { config } = loadConfig({ NODE_ENV: 'test' });
const T0 = Date.UTC(2026, 0, 1);
const VIDEO = { prompt: 'Флакон на столе, камера приближается', duration: 6, mode: 'prompt' } as const;

let db: Db;
let userId: string;

beforeEach(async () => {
  db = openDatabase(':memory:');
  migrate(db);
  userId = await seedUserWithPhoto(db, { now: T0, trialCredits: 1 });
});

const balance = async () => (await db.value('SELECT generation_balance FROM users WHERE id = ?', [userId])) as number;
const accept = (body: unknown, idempotencyKey: string | null = null) => createGeneration({ db, config, userId, body, idempotencyKey, now: T0 });

describe('the hold on an accepted generation', () => {
  it('takes the last credit: a balance equal to the cost is enough', async () => {
    expect(await accept(VIDEO)).toMatchObject({ cost: 1, balanceBefore: 1, balanceAfter: 0, status: 'queued' });
    expect(await balance()).toBe(0);
    expect((await listLedgerEntries(db, userId)).map((e) => [e.kind, e.delta])).toEqual([
      ['hold', -1],
      ['trial', 1],
    ]);
  });

  it('refuses a generation the balance cannot pay for, with what is required, holding nothing', async () => {
    await expect(async () => accept({ ...VIDEO, duration: 10 })).rejects.toThrow(
      expect.objectContaining({ code: 'INSUFFICIENT_BALANCE', status: 402, details: { required: 2, current: 1 } }),
    );
    expect(await balance()).toBe(1);
    expect(await db.value('SELECT COUNT(*) FROM generations')).toBe(0);
  });

  it('holds once for a repeated Idempotency-Key, and refuses the key for another request', async () => {
    await applyCreditChange(db, { userId, delta: 2, kind: 'admin_adjustment', reference: 'adj:top-up', now: T0 });
    const first = await accept(VIDEO, 'click-1');
    expect(await accept(VIDEO, 'click-1')).toMatchObject({ generationId: first.generationId, balanceBefore: 3, balanceAfter: 2 });
    await expect(async () => accept({ ...VIDEO, prompt: 'Другое описание ролика' }, 'click-1')).rejects.toThrow(expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED' }));
    expect((await accept(VIDEO, 'click-2')).generationId).not.toBe(first.generationId);
    expect(await balance()).toBe(1);
    expect(await findLedgerMismatches(db)).toEqual([]);
  });

  it('answers a repeat with the first generation only when it asks for the same shape, focus and photo', async () => {
    await applyCreditChange(db, { userId, delta: 5, kind: 'admin_adjustment', reference: 'adj:top-up', now: T0 });
    const tall = { ...VIDEO, format: '3:4', focus: { x: 0.3, y: 0.5 } };
    const first = await accept(tall, 'click-1');
    // The same body again: the same generation, one hold.
    expect(await accept({ ...tall }, 'click-1')).toMatchObject({ generationId: first.generationId, balanceAfter: 5 });
    expect(await balance()).toBe(5);
    // Another format, another focus, no focus, or the default format: another request under a reused key.
    for (const other of [
      { ...tall, format: '9:16' },
      { ...tall, focus: { x: 0.7, y: 0.5 } },
      { ...VIDEO, format: '3:4' },
      VIDEO,
    ]) {
      await expect(async () => accept(other, 'click-1')).rejects.toThrow(expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', status: 422 }));
    }
    // A new photo uploaded since: the first video is not of it.
    await db.run(`INSERT INTO uploads (id, userId, path, mime, width, height, bytes, createdAt) VALUES ('upl_new', ?, 'users/x/uploads/upl_2.jpg', 'image/jpeg', 640, 480, 10, ?)`, [userId, T0 + 1]);
    await expect(async () => accept(tall, 'click-1')).rejects.toThrow(expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED' }));
    expect(await balance()).toBe(5);
    expect(await db.value('SELECT COUNT(*) FROM generations')).toBe(1);
    expect(await findLedgerMismatches(db)).toEqual([]);
  });

  it('answers a repeat with the first generation only when it names the same preview', async () => {
    await applyCreditChange(db, { userId, delta: 5, kind: 'admin_adjustment', reference: 'adj:top-up', now: T0 });
    // Two edits of one preview: the same words, other camera moves.
    const edit = async (cameraMoves: CameraCommand[][]) =>
      (await savePreview(db, {
        userId,
        parentId: null,
        mode: 'prompt',
        duration: 6,
        prompt: VIDEO.prompt,
        source: 'rules',
        content: { mode: 'prompt', cinematic: 'A perfume bottle on a table', finalPrompt: 'A perfume bottle on a table [Push in]', cameraMoves, summaryRu: 'Наезд' },
        now: T0,
      })).id;
    const pushIn = await edit([['Push in']]);
    const panLeft = await edit([['Pan left']]);
    const first = await accept({ previewId: pushIn }, 'click-1');
    expect((await accept({ previewId: pushIn }, 'click-1')).generationId).toBe(first.generationId);
    for (const other of [{ previewId: panLeft }, VIDEO]) {
      await expect(async () => accept(other, 'click-1')).rejects.toThrow(expect.objectContaining({ code: 'IDEMPOTENCY_KEY_REUSED', status: 422 }));
    }
    expect(await balance()).toBe(5);
    expect(await db.value('SELECT COUNT(*) FROM generations')).toBe(1);
    expect(await findLedgerMismatches(db)).toEqual([]);
  });

  it('needs a current photo, a JSON object and a length the model offers', async () => {
    const stranger = (await upsertUserFromIdentity(
      db,
      { provider: 'oidc', subject: 'sub-nophoto', email: 'nophoto@example.ru', name: 'N', picture: null },
      { now: T0, trialCredits: 3, adminEmails: [] },
    )).user.id;
    await expect(async () => createGeneration({ db, config, userId: stranger, body: VIDEO, idempotencyKey: null, now: T0 })).rejects.toThrow(
      expect.objectContaining({ code: 'NO_IMAGE', status: 400 }),
    );
    for (const body of [null, 'text', [VIDEO]]) await expect(async () => accept(body)).rejects.toThrow(expect.objectContaining({ code: 'INVALID_JSON' }));
    const unoffered = loadConfig({ NODE_ENV: 'test', MINIMAX_MODEL: 'MiniMax-Hailuo-02', MINIMAX_RESOLUTION: '1080P' }).config;
    await expect(async () => createGeneration({ db, config: unoffered, userId, body: { ...VIDEO, duration: 10 }, idempotencyKey: null, now: T0 })).rejects.toThrow(
      expect.objectContaining({ code: 'DURATION_NOT_AVAILABLE', field: 'duration' }),
    );
    expect(await balance()).toBe(1);
  });
});

describe('ledger guards', () => {
  it('moves a balance to exactly zero, never below', async () => {
    expect(await applyCreditChange(db, { userId, delta: -1, kind: 'hold', reference: 'hold:a', now: T0 })).toEqual({ applied: true, balanceAfter: 0 });
    await expect(async () => applyCreditChange(db, { userId, delta: -1, kind: 'hold', reference: 'hold:b', now: T0 })).rejects.toThrow(
      expect.objectContaining({ code: 'INSUFFICIENT_BALANCE' }),
    );
  });

  it('refuses a change that is not a whole number of credits, or of nobody', async () => {
    for (const delta of [0, 0.5, Number.NaN]) {
      await expect(async () => applyCreditChange(db, { userId, delta, kind: 'admin_adjustment', reference: `adj:${delta}`, now: T0 })).rejects.toThrow(/non-zero integer/);
    }
    await expect(async () => applyCreditChange(db, { userId: 'usr_nobody', delta: 1, kind: 'admin_adjustment', reference: 'adj:x', now: T0 })).rejects.toThrow(
      expect.objectContaining({ code: 'USER_NOT_FOUND' }),
    );
    expect(await listLedgerEntries(db, userId)).toHaveLength(1);
  });
});
