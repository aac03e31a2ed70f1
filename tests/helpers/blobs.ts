import fs from 'node:fs';
import path from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { AppContext } from '../../src/lib/context.ts';
import { readBlobBytes } from '../../src/lib/blobs/index.ts';

/**
 * What an app has stored, seen through its own store (STORAGE_DIR or the bucket), so a test
 * asserts the same thing on either storage.
 */

/** Larger than any file a test makes (the sandbox's clips are a few hundred KB). */
const MAX_TEST_FILE_BYTES = 64 * 1024 * 1024;

export function storedBytes(ctx: AppContext, key: string): Promise<Buffer> {
  return readBlobBytes(ctx.blobs, key, MAX_TEST_FILE_BYTES);
}

/** Every stored key under `prefix` (a folder such as `users/<id>/`), sorted; temporary files are not keys. */
export async function storedKeys(ctx: AppContext, prefix: string): Promise<string[]> {
  const { storage, paths } = ctx.config;
  if (storage.backend === 'local') {
    const folder = path.join(paths.storageDir, prefix);
    if (!fs.existsSync(folder)) return [];
    return (fs.readdirSync(folder, { recursive: true, withFileTypes: true }) as fs.Dirent[])
      .filter((entry) => entry.isFile() && !entry.name.startsWith('.'))
      .map((entry) => path.relative(paths.storageDir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/'))
      .sort();
  }
  const client = new S3Client({
    endpoint: storage.s3.endpoint,
    region: storage.s3.region,
    forcePathStyle: storage.s3.forcePathStyle,
    credentials: { accessKeyId: storage.s3.accessKeyId, secretAccessKey: ctx.secrets.s3SecretAccessKey },
  });
  // s3rver checks a bucket-level request's signature on `/<bucket>`, the SDK signs `/<bucket>/`.
  client.middlewareStack.add(
    (next) => (args) => {
      const request = args.request as { path?: string };
      if (request.path) request.path = request.path.replace(/\/$/, '');
      return next(args);
    },
    { step: 'build', name: 'bucketPathWithoutSlash' },
  );
  try {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: storage.s3.bucket, Prefix: prefix, ContinuationToken: token }));
      keys.push(...(page.Contents ?? []).map((object) => object.Key!));
      token = page.NextContinuationToken;
    } while (token);
    return keys.sort();
  } finally {
    client.destroy();
  }
}
