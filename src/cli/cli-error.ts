/** An error whose message is for the person at the terminal: printed alone, exit code 1. */
export class CliError extends Error {
  override name = 'CliError'
}

/**
 * A command line that cannot be read (an option the command does not take, a value missing):
 * printed with the command's help when there is one, exit code 2.
 */
export class UsageError extends Error {
  override name = 'UsageError'
  constructor(
    message: string,
    readonly help?: string,
  ) {
    super(message)
  }
}
