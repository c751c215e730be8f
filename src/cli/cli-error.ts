/** An error whose message is for the person at the terminal: printed alone, exit code 1. */
export class CliError extends Error {
  override name = 'CliError'
}
