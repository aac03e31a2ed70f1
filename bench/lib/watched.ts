import { startBenchServer, waitFor, type BenchServer } from './stack.ts';
import { createBenchUser, requestGeneration, uploadPhoto, type BenchUser } from './fixtures.ts';

/**
 * A server with one signed-in user whose generation is being rendered by MiniMax: the state
 * a status request usually sees (the worker polls the sandbox meanwhile, as in production).
 */
export interface WatchedGeneration {
  server: BenchServer;
  user: BenchUser;
  generationId: string;
  statusUrl: string;
  stop(): Promise<void>;
}

export async function startWatchedGeneration(options: { databaseUrl?: string } = {}): Promise<WatchedGeneration> {
  const server = await startBenchServer({
    env: { POLL_INTERVAL_MS: '2000' },
    databaseUrl: options.databaseUrl,
    // The render never finishes within a benchmark: the generation stays `processing`.
    minimax: { stepMs: { preparing: 50, queueing: 50, processing: 3_600_000 }, render: { maxShortSide: 120, fps: 12 } },
  });
  try {
    const db = server.openDatabase();
    const user = await createBenchUser(db, 10);
    await uploadPhoto(server.url, user);
    const { status, generationId } = await requestGeneration(server.url, user);
    if (status !== 200 || !generationId) throw new Error(`generate answered ${status}`);
    await waitFor(
      async () => (await db.value(`SELECT status FROM generations WHERE id = ?`, [generationId])) === 'processing',
      30_000,
      'the generation to reach processing',
    );
    await db.end();
    return {
      server,
      user,
      generationId,
      statusUrl: `${server.url}/api/status?generationId=${generationId}`,
      stop: () => server.stop(),
    };
  } catch (err) {
    await server.stop();
    throw err;
  }
}
