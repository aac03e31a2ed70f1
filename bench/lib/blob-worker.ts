import { Readable } from 'node:stream';
import { createLocalBlobStore } from '../../src/lib/blobs/local-store.ts';
import { createS3BlobStore } from '../../src/lib/blobs/s3-store.ts';
import type { BlobStore } from '../../src/lib/blobs/blob-store.ts';

/**
 * The process whose memory the `blobs` benchmark watches: one blob store, driven over IPC
 * (`put`, `get`, `local-file`), so the S3 server and the harness are not in the figure.
 * Settings come as JSON in BLOB_WORKER.
 */

export interface BlobWorkerSettings {
  backend: 'local' | 's3';
  storageDir: string;
  s3?: { endpoint: string; region: string; bucket: string; accessKeyId: string; secretAccessKey: string };
}

export type BlobWorkerCommand = { op: 'put' | 'get' | 'local-file' | 'settle'; key: string; bytes: number };

const settings = JSON.parse(process.env.BLOB_WORKER ?? '{}') as BlobWorkerSettings;
const store: BlobStore =
  settings.backend === 'local'
    ? createLocalBlobStore(settings.storageDir)
    : createS3BlobStore({ ...settings.s3!, forcePathStyle: true, scratchDir: `${settings.storageDir}/.scratch` });

const CHUNK = Buffer.alloc(64 * 1024, 7);
const COLLECT_EVERY = 8 * 1024 * 1024;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('the blob worker needs --expose-gc');

/**
 * Collects garbage every 8 MB that passes: the 64 KB chunks a stream leaves behind would
 * otherwise show as 20-40 MB of RSS that V8 frees when it likes, and hide the one thing
 * measured here, what the store holds at once.
 */
function collector(): (bytes: number) => void {
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since >= COLLECT_EVERY) {
      since = 0;
      gc!();
    }
  };
}

/**
 * A stream of 64 KB chunks that allocates nothing itself (it hands out the same chunk again):
 * what the figure then shows is what the store holds, not the garbage of a data source.
 */
function generated(bytes: number): Readable {
  const passed = collector();
  return Readable.from(
    (function* () {
      for (let sent = 0; sent < bytes; sent += CHUNK.length) {
        passed(CHUNK.length);
        yield bytes - sent >= CHUNK.length ? CHUNK : CHUNK.subarray(0, bytes - sent);
      }
    })(),
  );
}

async function drain(body: Readable): Promise<number> {
  const passed = collector();
  let bytes = 0;
  for await (const chunk of body) {
    bytes += (chunk as Buffer).length;
    passed((chunk as Buffer).length);
  }
  return bytes;
}

async function run(command: BlobWorkerCommand): Promise<number> {
  switch (command.op) {
    case 'put':
      return (await store.put(command.key, generated(command.bytes))).size;
    case 'get':
      return drain((await store.openRead(command.key)).body);
    case 'local-file':
      return store.withLocalFile(command.key, async (file) => drain((await import('node:fs')).createReadStream(file)));
    case 'settle':
      // Between measurements: collect what the last one left, so the next idle is idle.
      gc!();
      return 0;
  }
}

process.on('message', (command: BlobWorkerCommand) => {
  run(command).then(
    (bytes) => process.send!({ ok: true, bytes }),
    (err: unknown) => process.send!({ ok: false, error: err instanceof Error ? err.message : String(err) }),
  );
});
process.send!({ ready: true });
