/**
 * The import's progress line (src/importer/import-files.ts): events, not bytes, with the total a file is expected to
 * hold (from the bytes a line so far) or the total a Synapse database counted, the rate and an ETA.
 */
import { duration, progressOf, type Reading } from '../../src/importer/import-files';
import type { ImportSummary } from '../../src/importer/importer';

function summary(stored: number, seconds: number): ImportSummary {
  return { stored, unchanged: 0, skipped: 0, hashMismatches: 0, rejected: 0, softFailed: 0, statePending: 0, rooms: 1, seconds };
}

test('a file: the events it is expected to hold from the bytes a line so far, the rate and the time left', () => {
  // 100,000 lines of 1,000 bytes; 96,000 read ahead of the 94,000 written: the bar follows the events written.
  const reading: Reading = { source: { lines: [], bytes: 100_000_000 }, before: 0, lines: 96_000, bytes: 96_000_000, notJson: 0 };
  expect(progressOf(summary(94_000, 47), 94_000, reading)).toEqual({
    text: '94,000 of ~100,000 events, 2,000 events/s, ETA 3 s',
    fraction: 0.94,
  });
  // Read to its end: the number of lines is known.
  expect(progressOf(summary(99_000, 50), 99_000, { ...reading, lines: 100_000, bytes: 100_000_000 })).toEqual({
    text: '99,000 of 100,000 events, 1,980 events/s, ETA 1 s',
    fraction: 0.99,
  });
});

test('a later source counts its own events; a counted source is exact; standard input has no total', () => {
  const synapse: Reading = { source: { lines: [], events: () => 250_000 }, before: 10_000, lines: 0, bytes: 0, notJson: 0 };
  expect(progressOf(summary(60_000, 25), 60_000, synapse)).toEqual({ text: '50,000 of 250,000 events, 2,400 events/s, ETA 1 min 23 s', fraction: 0.2 });
  const stdin: Reading = { source: { lines: [] }, before: 0, lines: 5, bytes: 5_000, notJson: 0 };
  expect(progressOf(summary(4_000, 2), 4_000, stdin)).toEqual({ text: '4,000 events, 2,000 events/s' });
  expect(progressOf(summary(4_000, 2), 4_000, undefined)).toEqual({ text: '4,000 events, 2,000 events/s' });
});

test('durations', () => {
  expect([0.4, 42, 185, 3_725].map(duration)).toEqual(['0 s', '42 s', '3 min 05 s', '1 h 02 min']);
});
