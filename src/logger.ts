/**
 * Winston logs, in one of two formats (LOG_FORMAT): JSON lines where logs are collected, and one readable line a
 * record on a terminal (`12:00:01 info  listening url=http://127.0.0.1:8008`), the default when stderr is one.
 * Keys and signatures are never logged: callers pass only what they mean to show.
 */
import type { Writable } from 'node:stream';
import winston from 'winston';

export type Logger = winston.Logger;

export type LogFormat = 'json' | 'pretty';

/** Pretty on a terminal, JSON otherwise (a file, a pipe, a container's log collector). */
export function defaultLogFormat(stream: { isTTY?: boolean } = process.stderr): LogFormat {
  return stream.isTTY === true ? 'pretty' : 'json';
}

/** Logs to stderr, or to `stream` when one is given (tests read the lines back); JSON lines unless told otherwise. */
export function createLogger(level: string, silent = false, stream?: Writable, format: LogFormat = 'json'): Logger {
  return winston.createLogger({
    level,
    silent,
    format: winston.format.combine(winston.format.timestamp(), format === 'pretty' ? prettyLine : winston.format.json()),
    transports: [
      stream
        ? new winston.transports.Stream({ stream })
        : new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] }),
    ],
  });
}

/** `HH:MM:SS level message key=value ...`: the time of day (UTC), then the fields a record carries. */
const prettyLine = winston.format.printf((info) => {
  const { level, message, timestamp, ...fields } = info;
  const time = typeof timestamp === 'string' ? timestamp.slice(11, 19) : '';
  const rest = Object.entries(fields).map(([key, value]) => ` ${key}=${prettyValue(value)}`).join('');
  return `${time} ${level.padEnd(5)} ${String(message)}${rest}`;
});

/** A string as it is when it reads unambiguously after `key=`, else (and anything else) as JSON. */
function prettyValue(value: unknown): string {
  if (typeof value === 'string' && /^[^\s"=]+$/.test(value)) return value;
  return JSON.stringify(value) ?? String(value);
}
