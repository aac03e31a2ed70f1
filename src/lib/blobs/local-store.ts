import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobStoreError, checkBlobKey, clipRange, type BlobInfo, type BlobRead, type BlobStore, type ByteRange } from './blob-store.ts';

/**
 * Blobs as files under `STORAGE_DIR` (today's layout: the key is the path below it). A write
 * goes to a temporary file beside its target (same folder, so the same file system), is
 * fsynced and renamed over the target: a reader sees the old file or the new one, never a
 * part, and a crash leaves at most a dot-named temporary file that no key can name.
 */
export function createLocalBlobStore(storageDir: string): BlobStore {
  const root = path.resolve(storageDir);
  const openedAt = Date.now();

  /** The file of a key; refuses a key that is malformed or would leave the storage folder. */
  const fileOf = (key: string): string => {
    checkBlobKey(key);
    const full = path.resolve(root, key);
    if (!full.startsWith(root + path.sep)) throw new BlobStoreError('BLOB_KEY_INVALID', key, `path outside storage: ${key}`);
    return full;
  };

  const failure = (operation: string, key: string, err: unknown): BlobStoreError => {
    if (err instanceof BlobStoreError) return err;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new BlobStoreError('BLOB_NOT_FOUND', key, `no stored file ${key}`, { cause: err });
    return new BlobStoreError('BLOB_STORAGE_FAILED', key, `${operation} ${key}: ${(err as Error).message}`, { cause: err });
  };

  const infoOf = (stat: fs.Stats): BlobInfo => ({
    size: stat.size,
    lastModified: stat.mtimeMs,
    // The same tag shape `send` gives files, so caches keep working across the switch.
    etag: `W/"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`,
  });

  /**
   * Writes through a temporary file: `write` fills it, then fsync and rename. A source that
   * failed (a download over its size cap, an ffmpeg run) throws its own error, which
   * `ownError` gives, not a storage failure.
   */
  const writeAtomically = async (key: string, write: (temporary: string) => Promise<void>, ownError: () => unknown = () => null): Promise<BlobInfo> => {
    const file = fileOf(key);
    const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.part`);
    try {
      await fs.promises.mkdir(path.dirname(file), { recursive: true });
      await removeAbandoned(file, openedAt);
      await write(temporary);
      const handle = await fs.promises.open(temporary, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.promises.rename(temporary, file);
      return infoOf(await fs.promises.stat(file));
    } catch (err) {
      // Never masks the failure itself (a folder that is a file makes rm fail too).
      await fs.promises.rm(temporary, { force: true }).catch(() => undefined);
      const own = ownError();
      if (own) throw own;
      // Not `failure`: a file missing here is no missing blob.
      if (err instanceof BlobStoreError) throw err;
      throw new BlobStoreError('BLOB_STORAGE_FAILED', key, `writing ${key}: ${(err as Error).message}`, { cause: err });
    }
  };

  const head = async (key: string): Promise<BlobInfo | null> => {
    try {
      const stat = await fs.promises.stat(fileOf(key));
      return stat.isFile() ? infoOf(stat) : null;
    } catch (err) {
      const failed = failure('reading', key, err);
      if (failed.code === 'BLOB_NOT_FOUND') return null;
      throw failed;
    }
  };

  return {
    kind: 'local',

    put: (key: string, body: Readable) =>
      writeAtomically(key, (temporary) => pipeline(body, fs.createWriteStream(temporary, { flags: 'wx' })), () => body.errored),

    async putFile(key: string, source: string): Promise<BlobInfo> {
      // A missing source is the caller's (ffmpeg made no output): its own error, as from a stream.
      await fs.promises.access(source, fs.constants.R_OK);
      return writeAtomically(key, (temporary) => fs.promises.copyFile(source, temporary));
    },

    async putMadeFile<T>(key: string, make: (file: string) => Promise<T>): Promise<{ made: T; info: BlobInfo }> {
      const outcome: { made?: T; failed?: { err: unknown } } = {};
      const write = async (temporary: string) => {
        try {
          outcome.made = await make(temporary);
        } catch (err) {
          outcome.failed = { err };
          throw err;
        }
      };
      const info = await writeAtomically(key, write, () => outcome.failed?.err);
      return { made: outcome.made as T, info };
    },

    head,

    exists: async (key: string) => (await head(key)) !== null,

    async openRead(key: string, range?: ByteRange): Promise<BlobRead> {
      let handle: fs.promises.FileHandle | null = null;
      try {
        // Size and bytes come from one open file: a rename over it meanwhile does not mix two versions.
        handle = await fs.promises.open(fileOf(key), 'r');
        const stat = await handle.stat();
        if (!stat.isFile()) throw new BlobStoreError('BLOB_NOT_FOUND', key, `no stored file ${key}`);
        const clipped = clipRange(range, stat.size);
        if (!clipped) throw new BlobStoreError('BLOB_RANGE_NOT_SATISFIABLE', key, `range starts past the end of ${key} (${stat.size} bytes)`);
        if (clipped.end < clipped.start) {
          await handle.close();
          return { body: Readable.from([]), info: infoOf(stat), ...clipped };
        }
        const body = handle.createReadStream({ start: clipped.start, end: clipped.end, autoClose: true });
        handle = null;
        return { body, info: infoOf(stat), ...clipped };
      } catch (err) {
        await handle?.close();
        throw failure('reading', key, err);
      }
    },

    async delete(key: string): Promise<void> {
      try {
        await fs.promises.rm(fileOf(key), { force: true });
      } catch (err) {
        throw failure('deleting', key, err);
      }
    },

    async withLocalFile<T>(key: string, fn: (file: string) => Promise<T>): Promise<T> {
      const file = fileOf(key);
      if ((await head(key)) === null) throw new BlobStoreError('BLOB_NOT_FOUND', key, `no stored file ${key}`);
      return fn(file);
    },

    async verify(): Promise<void> {
      const probe = path.join(root, `.probe-${randomBytes(6).toString('hex')}`);
      try {
        await fs.promises.mkdir(root, { recursive: true });
        await fs.promises.writeFile(probe, 'beem');
        if ((await fs.promises.readFile(probe, 'utf8')) !== 'beem') throw new Error('the probe file read back differently');
      } catch (err) {
        throw new BlobStoreError('BLOB_STORAGE_FAILED', '.probe', `STORAGE_DIR ${root} is not usable: ${(err as Error).message}`, { cause: err });
      } finally {
        await fs.promises.rm(probe, { force: true }).catch(() => undefined);
      }
    },

    close: () => undefined,
  };
}

/**
 * Removes temporary files of `file` a killed process left (a video cut off mid-download would
 * otherwise stay on disk): those last written before this store was opened. A live writer's
 * file is written to as it goes, so it is newer; one stalled since then fails its rename and
 * its caller tries again. Never throws: the write itself goes on.
 */
async function removeAbandoned(file: string, openedAt: number): Promise<void> {
  const prefix = `.${path.basename(file)}.`;
  const folder = path.dirname(file);
  const names = await fs.promises.readdir(folder).catch(() => [] as string[]);
  for (const name of names.filter((entry) => entry.startsWith(prefix) && entry.endsWith('.part'))) {
    const stale = path.join(folder, name);
    const stat = await fs.promises.stat(stale).catch(() => null);
    if (stat && stat.mtimeMs < openedAt) await fs.promises.rm(stale, { force: true }).catch(() => undefined);
  }
}
