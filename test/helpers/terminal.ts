/**
 * A program on a real terminal for the tests: util-linux's script(1) gives it a pseudo-terminal of the size asked
 * for, so it draws as it would for a user (listr2's live display, npm's spinner).
 */
import { execFile } from 'node:child_process';

/** Runs `command` (a shell line) in a pseudo-terminal; resolves with its exit code and everything it printed. */
export function onTerminal(
  command: string,
  options: { cwd: string; env?: NodeJS.ProcessEnv; columns?: number; rows?: number },
): Promise<{ code: number; output: string }> {
  const { cwd, env = process.env, columns = 120, rows = 40 } = options;
  return new Promise((resolve) => {
    execFile('script', ['-qec', `stty cols ${columns} rows ${rows}; ${command}`, '/dev/null'], { cwd, env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: stdout });
    });
  });
}

/** The text of a terminal's output: ANSI codes and carriage returns taken out. */
export function withoutAnsi(output: string): string {
  return output.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, '');
}
