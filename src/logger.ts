/** Winston JSON lines. Keys and signatures are never logged: callers pass only what they mean to show. */
import type { Writable } from 'node:stream';
import winston from 'winston';

export type Logger = winston.Logger;

/** Logs to stderr, or to `stream` when one is given (tests read the lines back). */
export function createLogger(level: string, silent = false, stream?: Writable): Logger {
  return winston.createLogger({
    level,
    silent,
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [
      stream
        ? new winston.transports.Stream({ stream })
        : new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] }),
    ],
  });
}
