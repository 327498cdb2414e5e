import pino from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/**
 * One logger shape for every process. Credentials and anything that may carry personal data
 * (request bodies, mail addresses) are redacted; code should not log them in the first place.
 */
export function createLogger(
  name: string,
  level: string = process.env.LOG_LEVEL ?? 'info',
): Logger {
  return pino({
    name,
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'req.headers["x-api-key"]',
        'res.headers["set-cookie"]',
        '*.password',
        '*.email',
        '*.to',
        // Positions of check-ins (签到) are personal: never in a log line, whatever carries them.
        '*.checkIn',
      ],
      censor: '[redacted]',
    },
  });
}
