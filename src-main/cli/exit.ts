/**
 * cli/exit — how the command ends when something went wrong: a failure already explained to the
 * user (CliExit) prints its message and exits with its code; any other error prints its message
 * only and exits with 1. The JavaScript stack trace is for developers: `--debug` prints it.
 */
import { isDiskFull, writeFailure } from '../core/atomic';

export class CliExit extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
  }
}

/** Errors that mean a bug in ESM Studio rather than a problem with the user's input or machine. */
const PROGRAMMING_ERRORS = [TypeError, ReferenceError, SyntaxError, EvalError];

/** `--debug` anywhere on the command line (it is a global option). */
export function debugRequested(argv: readonly string[] = process.argv): boolean {
  return argv.includes('--debug');
}

/** What to print for `error` and the exit code; the stack only when `debug`. */
export function describeFailure(error: unknown, debug: boolean): { text: string; code: number } {
  if (error instanceof CliExit) return { text: debug && error.stack ? error.stack : error.message, code: error.code };
  if (!(error instanceof Error)) return { text: String(error), code: 1 };
  const shown = isDiskFull(error) ? writeFailure((error as NodeJS.ErrnoException).path ?? 'a file', error) : error;
  if (debug) return { text: shown.stack ?? shown.message, code: 1 };
  const internal = PROGRAMMING_ERRORS.some((kind) => error instanceof kind);
  const hint = internal ? '\n(This is an error inside ESM Studio. Run the command again with --debug for the details, and report it.)' : '';
  return { text: `${shown.message}${hint}`, code: 1 };
}

/** Prints the failure to stderr and ends the process with its code. */
export function exitWithFailure(error: unknown, argv: readonly string[] = process.argv): never {
  const { text, code } = describeFailure(error, debugRequested(argv));
  console.error(text);
  process.exit(code);
}
