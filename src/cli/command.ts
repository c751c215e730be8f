import type { Config } from '../config/config.ts'
import type { Remote } from './remote.ts'

/** One option of a command: how `parseArgs` reads it, and its line in `--help`. */
export interface OptionSpec {
  type: 'string' | 'boolean'
  short?: string
  /** What `--help` shows after a string option's name: `--name NAME`. */
  value?: string
  help: string
}

export type OptionSpecs = Record<string, OptionSpec>

/** What `parseArgs` answers for these options: a string or a boolean each, absent when not given. */
export type OptionValues<O extends OptionSpecs> = {
  [K in keyof O]?: O[K]['type'] extends 'boolean' ? boolean : O[K]['type'] extends 'string' ? string : string | boolean
}

export interface CommandInput<O extends OptionSpecs> {
  config: Config
  values: OptionValues<O>
  positionals: string[]
  /** The server to work through (`--url`), for a command that can; undefined: open the database. */
  remote: Remote | undefined
}

/** A command's own options and what it does with them. The options every command takes are in cli.ts. */
export interface Command<O extends OptionSpecs = OptionSpecs> {
  options: O
  /** How many arguments it takes besides the options (`keys revoke ID`: 2); none when absent. */
  maxPositionals?: number
  /** Runs it, and answers the exit code, or -1 for a process that keeps running (serve, worker). */
  run(input: CommandInput<O>): Promise<number>
}

/** Types a command's `run` by its options. */
export const defineCommand = <O extends OptionSpecs>(command: Command<O>): Command<O> => command
