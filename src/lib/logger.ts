import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * One logger for the process: JSON lines on stdout with level, time and message.
 * Subsystems take a child (`logger.child({ mod: 'worker' })`); requests carry `reqId`.
 * Errors are logged under `err` so pino serialises their stack and `cause`.
 */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.errWithCause },
      redact: {
        paths: ['*.authorization', '*.Authorization', '*.apiKey', '*.secret', '*.token', '*.password'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
