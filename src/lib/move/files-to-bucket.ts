import fs from 'node:fs';
import path from 'node:path';
import type { BlobStore } from '../blobs/index.ts';
import { checkBlobKey } from '../blobs/blob-store.ts';

/**
 * Copies a shop's files from STORAGE_DIR into its bucket (`npm run migrate:to-s3`). Keys are
 * the relative paths the database already stores (`users/<id>/uploads/<file>`,
 * `users/<id>/videos/<file>`), so the rows need no change. A file already in the bucket with
 * the same size is skipped (files never change once written: names are made per file), so
 * a re-run uploads only what is new or was cut short. Each upload streams from the disk
 * (multipart for large files) and is checked by the size S3 reports for it afterwards.
 * Temporary files (`*.part` of unfinished writes and downloads) and dot names are left out.
 */

export interface CopyFilesOptions {
  storageDir: string;
  store: BlobStore;
  /** Files uploaded at once (each holds at most the store's part size × its queue in memory). */
  concurrency?: number;
  /** Told each file as it is settled. */
  onFile?: (file: FileOutcome) => void;
}

export interface FileOutcome {
  key: string;
  outcome: 'uploaded' | 'replaced' | 'present' | 'failed';
  bytes: number;
  error?: string;
}

export interface FilesReport {
  /** Uploaded, the bucket had none under the key. */
  uploaded: number;
  /** Uploaded over an object of another size (an upload cut short before). */
  replaced: number;
  /** Already in the bucket with the same size. */
  present: number;
  bytesUploaded: number;
  /** Temporary files and dot names left out. */
  ignored: number;
  /** Files whose path is no storage key Beem makes (reported, not copied). */
  refused: string[];
  /** Files that could not be copied (see `failures` for the first of them). */
  failed: number;
  failures: Array<{ key: string; error: string }>;
}

export const DEFAULT_CONCURRENCY = 4;
/** Paths named in the report; the count says how many there are. */
const REPORT_LIMIT = 20;

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.mp4': 'video/mp4',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.webp': 'image/webp',
};

type Entry = { kind: 'file'; key: string; file: string; size: number } | { kind: 'ignored' } | { kind: 'refused'; key: string };

function isTemporary(name: string): boolean {
  return name.startsWith('.') || name.endsWith('.part');
}

/** Every file below `users/`, one at a time (a folder of any size is never listed whole). */
async function* userFiles(storageDir: string, folder = path.join(storageDir, 'users')): AsyncGenerator<Entry> {
  let dir: fs.Dir;
  try {
    dir = await fs.promises.opendir(folder);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for await (const entry of dir) {
    const full = path.join(folder, entry.name);
    if (isTemporary(entry.name)) {
      yield { kind: 'ignored' };
    } else if (entry.isDirectory()) {
      yield* userFiles(storageDir, full);
    } else if (entry.isFile()) {
      const key = path.relative(storageDir, full).split(path.sep).join('/');
      try {
        checkBlobKey(key);
      } catch {
        yield { kind: 'refused', key };
        continue;
      }
      // A file removed since the listing (Beem still running) is no longer the shop's.
      const stat = await fs.promises.stat(full).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return null;
        throw err;
      });
      if (stat) yield { kind: 'file', key, file: full, size: stat.size };
    }
  }
}

async function copyFile(store: BlobStore, entry: Extract<Entry, { kind: 'file' }>): Promise<FileOutcome> {
  const { key, file, size } = entry;
  try {
    const existing = await store.head(key);
    if (existing?.size === size) return { key, outcome: 'present', bytes: size };
    // putFile answers with the store's HEAD of the object after the upload.
    const stored = await store.putFile(key, file, { contentType: CONTENT_TYPES[path.extname(key).toLowerCase()] });
    if (stored.size !== size) return { key, outcome: 'failed', bytes: size, error: `the bucket holds ${stored.size} bytes, the file has ${size}` };
    return { key, outcome: existing ? 'replaced' : 'uploaded', bytes: size };
  } catch (err) {
    return { key, outcome: 'failed', bytes: size, error: (err as Error).message };
  }
}

export async function copyFilesToBucket(options: CopyFilesOptions): Promise<FilesReport> {
  const report: FilesReport = { uploaded: 0, replaced: 0, present: 0, bytesUploaded: 0, ignored: 0, refused: [], failed: 0, failures: [] };
  let refused = 0;
  const entries = userFiles(path.resolve(options.storageDir));
  // Workers share the one walk: an async generator hands each entry to one caller.
  const worker = async (): Promise<void> => {
    for (;;) {
      const next = await entries.next();
      if (next.done) return;
      const entry = next.value;
      if (entry.kind === 'ignored') {
        report.ignored += 1;
      } else if (entry.kind === 'refused') {
        refused += 1;
        if (report.refused.length < REPORT_LIMIT) report.refused.push(entry.key);
      } else {
        const result = await copyFile(options.store, entry);
        if (result.outcome === 'failed') {
          report.failed += 1;
          if (report.failures.length < REPORT_LIMIT) report.failures.push({ key: result.key, error: result.error! });
        } else if (result.outcome === 'present') report.present += 1;
        else {
          report[result.outcome] += 1;
          report.bytesUploaded += result.bytes;
        }
        options.onFile?.(result);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? DEFAULT_CONCURRENCY) }, worker));
  if (refused > REPORT_LIMIT) report.refused.push(`… and ${refused - REPORT_LIMIT} more`);
  return report;
}
