import { createLogger, type Logger } from '../../src/lib/logger.ts';

/** A logger at `level` whose JSON lines a test can read back, parsed. */
export function capturedLog(level = 'info'): { log: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return { lines, log: createLogger(level, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) }) };
}
