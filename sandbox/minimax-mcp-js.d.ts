/**
 * The API client inside MiniMax's official MCP package (`minimax-mcp-js`, plain JavaScript
 * without type declarations): only what tests/sandbox/real-clients.test.ts uses of it.
 */
declare module 'minimax-mcp-js/build/utils/api.js' {
  export class MiniMaxAPI {
    constructor(config: { apiKey: string; apiHost?: string; resourceMode?: 'url' | 'local' | 'base64' });
    get(endpoint: string, params?: Record<string, unknown>): Promise<Record<string, unknown>>;
    post(endpoint: string, data?: Record<string, unknown>): Promise<Record<string, unknown>>;
    downloadFile(url: string, outputPath: string): Promise<void>;
  }
}

declare module 'minimax-mcp-js/build/api/video.js' {
  import type { MiniMaxAPI } from 'minimax-mcp-js/build/utils/api.js';
  export class VideoAPI {
    constructor(api: MiniMaxAPI);
    generateVideo(request: {
      prompt: string;
      model?: string;
      firstFrameImage?: string;
      duration?: number;
      resolution?: string;
      asyncMode?: boolean;
    }): Promise<{ task_id: string; video_url?: string }>;
    queryVideoGeneration(request: { taskId: string }): Promise<{ status: string; video_url?: string; task_id?: string }>;
  }
}
