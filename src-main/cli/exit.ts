/** cli/exit — a failure already explained to the user: print the message, exit with the code. */
export class CliExit extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
  }
}
