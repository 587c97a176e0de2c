/**
 * What every command shares: a usage error (a bad option or argument: exit code 2, as commander's own parse errors
 * here) and the way a command runs as a program, alone (`npm run import`) or under `maxtryx`.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';

/** A mistake in how the command was called; its message says what to do instead. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE_EXIT_CODE = 2;

/**
 * Parses `argv` (process.argv's shape) and runs the command. Usage errors print their message and exit with 2; any
 * other failure prints "NAME failed: message" and exits with 1.
 */
export async function runProgram(program: Command, argv: readonly string[] = process.argv): Promise<void> {
  exitOverrideAll(program);
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed its message (or the help, exit code 0) already.
      process.exit(error.exitCode === 0 ? 0 : USAGE_EXIT_CODE);
    }
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(USAGE_EXIT_CODE);
    }
    process.stderr.write(`${commandName(program, argv)} failed: ${(error as Error).message}\n`);
    process.exit(1);
  }
}

function exitOverrideAll(command: Command): void {
  command.exitOverride();
  command.showHelpAfterError('(add --help for the options)');
  for (const sub of command.commands) exitOverrideAll(sub);
}

/** The subcommand that ran (`maxtryx import ...` -> import), or the program's own name. */
function commandName(program: Command, argv: readonly string[]): string {
  const sub = program.commands.find((command) => argv.slice(2).includes(command.name()));
  return (sub ?? program).name();
}

/** For a repeatable option: each use adds its value. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** An option whose value must be an integer of at least `min`. */
export function integerOption(min: number): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(number)) throw new InvalidArgumentError('not an integer.');
    if (number < min) throw new InvalidArgumentError(`must be at least ${min}.`);
    return number;
  };
}
