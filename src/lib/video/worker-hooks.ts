import fs from 'node:fs';
import type { Db } from '../db/index.ts';
import type { Logger } from '../logger.ts';
import { resolveStored } from '../storage.ts';
import type { Ffmpeg } from './ffmpeg.ts';
import { describeSavedVideo, firstFrameOf, getGenerationMedia, recordFirstFrame } from './media.ts';

/**
 * What the generation worker asks of the video module, at two points: the first frame to send
 * (the photo cut to the chosen format) and the facts of a saved video (size, length, poster).
 */
export interface VideoHooks {
  /** The bytes of the first frame of this generation, recorded as the frame that was sent. */
  firstFrame(generationId: string): Promise<Buffer | null>;
  /** Reads the saved MP4's size and length and takes its poster; never throws. */
  videoSaved(video: { generationId: string; userId: string; relativePath: string }): Promise<void>;
}

export function createVideoHooks(deps: { db: Db; log: Logger; ffmpeg: Ffmpeg; storageDir: string; posterTimeoutMs: number }): VideoHooks {
  return {
    async firstFrame(generationId) {
      const media = getGenerationMedia(deps.db, generationId);
      if (!media) return null;
      const frame = await firstFrameOf(deps.db, deps.storageDir, media);
      if (!frame) return null;
      const bytes = await fs.promises.readFile(resolveStored(deps.storageDir, frame));
      recordFirstFrame(deps.db, generationId, frame);
      return bytes;
    },
    videoSaved: (video) => describeSavedVideo(deps, video),
  };
}
