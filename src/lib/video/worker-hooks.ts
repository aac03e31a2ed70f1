import type { Database } from '../db/database.ts';
import type { Logger } from '../logger.ts';
import { readBlobBytes, type BlobStore } from '../blobs/index.ts';
import { MAX_FRAME_BYTES } from './first-frame.ts';
import { firstFrameOf, getGenerationMedia, recordFirstFrame, recordVideoHeader } from './media.ts';
import type { DeliveredVideo, PosterTaker } from './posters.ts';

/**
 * What the generation worker asks of the video module, at three points: the first frame to send
 * (the photo cut to the chosen format), the facts of a saved video (size, length) before it is
 * marked done, and its poster once it is delivered.
 */
export interface VideoHooks {
  /** The bytes of the first frame of this generation, recorded as the frame that was sent. */
  firstFrame(generationId: string): Promise<Buffer | null>;
  /** Reads the saved MP4's size and length from its header; never throws. */
  videoSaved(video: { generationId: string; relativePath: string }): Promise<void>;
  /** The generation is a success: its poster is taken in the background; returns at once. */
  videoDelivered(video: DeliveredVideo): void;
}

export function createVideoHooks(deps: { db: Database; log: Logger; blobs: BlobStore; posters: PosterTaker }): VideoHooks {
  return {
    async firstFrame(generationId) {
      const media = await getGenerationMedia(deps.db, generationId);
      if (!media) return null;
      const frame = await firstFrameOf(deps.db, deps.blobs, media);
      if (!frame) return null;
      const bytes = await readBlobBytes(deps.blobs, frame, MAX_FRAME_BYTES);
      await recordFirstFrame(deps.db, generationId, frame);
      return bytes;
    },
    videoSaved: (video) => recordVideoHeader(deps, video),
    videoDelivered: (video) => deps.posters.take(video),
  };
}
