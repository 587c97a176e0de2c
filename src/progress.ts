/**
 * Progress of long work (import, generate) on stderr: a live display through listr2 when stderr is a terminal,
 * plain lines every few seconds when it is not (a log file or CI keeps simple, stable output).
 */
import { Listr, ListrLogger, PRESET_TIMER, ProcessOutput } from 'listr2';

export interface Progress {
  /** What is done so far, e.g. "12000 events, 6100 events/s". */
  readonly text: string;
  /** How much of the step is done, 0 to 1, when its size is known. */
  readonly fraction?: number;
}

export type Report = (progress: Progress) => void;

export interface Step {
  /** What the step does, shown on a terminal: "Importing room.jsonl". */
  readonly title: string;
  run(report: Report): Promise<void>;
}

export interface ProgressOptions {
  /** Where progress goes; process.stderr by default. */
  readonly stream?: NodeJS.WriteStream;
  /** A live display; by default when the stream is a terminal (of some width). */
  readonly live?: boolean;
  /** Where the plain lines' text goes instead of the stream (a service's log, when it logs JSON). */
  readonly log?: (text: string) => void;
  readonly now?: () => number;
}

/** Seconds between two plain progress lines, as the importer always wrote them. */
const PLAIN_INTERVAL_MS = 2000;
/** Redraws of a live display at most this often; the spinner redraws it anyway. */
const LIVE_INTERVAL_MS = 100;
const BAR_WIDTH = 30;

/** Runs the steps one after the other; a step's failure stops the rest and is thrown. */
export async function runSteps(steps: readonly Step[], options: ProgressOptions = {}): Promise<void> {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? Date.now;
  // A terminal of no width (a pseudo-terminal nobody sized) would wrap the display at every character.
  if (options.log === undefined && (options.live ?? (stream.isTTY === true && stream.columns > 0))) await runLive(steps, stream, now);
  else await runPlain(steps, options.log ?? ((text) => stream.write(`... ${text}\n`)), now);
}

/** The plain lines: "... TEXT" at most every two seconds, the first two seconds after the start. */
async function runPlain(steps: readonly Step[], write: (text: string) => void, now: () => number): Promise<void> {
  let last = now();
  const report: Report = ({ text }) => {
    const time = now();
    if (time - last < PLAIN_INTERVAL_MS) return;
    last = time;
    write(text);
  };
  for (const step of steps) await step.run(report);
}

async function runLive(steps: readonly Step[], stream: NodeJS.WriteStream, now: () => number): Promise<void> {
  // listr2 draws on stdout by default; both of its outputs go to our stream, so stdout stays for results. Lines
  // written to the stream meanwhile (the importer's problems) are held and printed when the display ends.
  const logger = new ListrLogger({ processOutput: new ProcessOutput(stream, stream) });
  const list = new Listr(
    steps.map((step) => ({
      title: step.title,
      task: async (_context: unknown, task: { output: string }) => {
        let last = 0;
        // listr2 tears a task's output down when the task ends: a report that arrives later (work the step
        // started that finishes in the next one) must not reach it, or listr2 throws reading its gone stream.
        let running = true;
        try {
          await step.run((progress) => {
            const time = now();
            if (!running || time - last < LIVE_INTERVAL_MS) return;
            last = time;
            task.output = liveLine(progress);
          });
        } finally {
          running = false;
        }
      },
    })),
    {
      // listr2 would fall back to its line renderer when stdout is not a terminal; our display is on stderr.
      renderer: 'default',
      fallbackRenderer: 'default',
      rendererOptions: { logger, timer: PRESET_TIMER },
      fallbackRendererOptions: { logger, timer: PRESET_TIMER },
      exitOnError: true,
    },
  );
  await list.run();
}

/** "[#########.....................]  30% TEXT", or TEXT alone when the size is not known. */
export function liveLine({ text, fraction }: Progress): string {
  if (fraction === undefined || !Number.isFinite(fraction)) return text;
  const done = Math.min(1, Math.max(0, fraction));
  const filled = Math.round(done * BAR_WIDTH);
  return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${String(Math.floor(done * 100)).padStart(3)}% ${text}`;
}
