import { parseArgs } from 'node:util'

import { CONFIG_VARIABLES } from '../config/config.ts'
import { CliError, UsageError } from './cli-error.ts'
import type { Command, OptionSpecs } from './command.ts'
import type { CommandEntry } from './commands/index.ts'
import { andList, commandHelp, REMOTE_COMMANDS } from './usage.ts'

/** `DATABASE_URL` → `database-url`: each configuration variable is also a flag. */
export const flagOf = (variable: string) => variable.toLowerCase().replaceAll('_', '-')

/** `account-contacts <command> --help`. */
export const helpOf = (name: string, entry: CommandEntry, command: Command) =>
  commandHelp(name, entry, ownOptions(entry, command))

type ParserOptions = Record<string, { type: 'string' | 'boolean'; short?: string }>

/** The options every command takes (usage.ts describes them): each configuration variable as a flag, and --help. */
export const SHARED_OPTIONS: ParserOptions = {
  ...Object.fromEntries(CONFIG_VARIABLES.map((v) => [flagOf(v), { type: 'string' as const }])),
  help: { type: 'boolean', short: 'h' },
}

/** The options of a command that can work through a running server (`remote` in the registry). */
export const REMOTE_OPTIONS: OptionSpecs = {
  url: {
    type: 'string',
    value: 'URL',
    help: 'work through the server at URL instead of opening the database (or ACCOUNT_CONTACTS_URL)',
  },
  'api-key': { type: 'string', value: 'KEY', help: 'a platform API key of that server (or ACCOUNT_CONTACTS_API_KEY)' },
}

/** What a message says, for the commands that send one (`notify`, `broadcast`). */
export const MESSAGE_OPTIONS = {
  category: { type: 'string', value: 'C', help: 'what it is about, which decides who receives it' },
  subject: { type: 'string', value: 'S', help: 'the subject line' },
  text: { type: 'string', value: 'T', help: 'the message' },
} as const satisfies OptionSpecs

/** The options the command takes besides the shared ones: its own, and the remote ones if it has them. */
const ownOptions = (entry: CommandEntry, command: Command): OptionSpecs => ({
  ...command.options,
  ...(entry.remote ? REMOTE_OPTIONS : {}),
})

const isParseError = (e: unknown): e is TypeError & { code: string } =>
  e instanceof TypeError && String((e as NodeJS.ErrnoException).code).startsWith('ERR_PARSE_ARGS')

/**
 * Reads the command's arguments against the options it takes and no others (`strict`), so that
 * one it does not take (`keys list --dry-run`) stops it, by name, instead of being ignored.
 */
export function parseCommandArgs(name: string, entry: CommandEntry, command: Command, args: string[]) {
  const own = ownOptions(entry, command)
  const options: ParserOptions = {
    ...Object.fromEntries(
      Object.entries(own).map(([flag, o]) => [flag, o.short ? { type: o.type, short: o.short } : { type: o.type }]),
    ),
    ...SHARED_OPTIONS,
  }
  const help = () => helpOf(name, entry, command)
  let parsed
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true })
  } catch (e) {
    if (!isParseError(e)) throw e
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') notTaken(name, args, options)
    throw new UsageError(e.message, help())
  }
  const max = command.maxPositionals ?? 0
  const extra = parsed.positionals[max]
  if (extra !== undefined) {
    const takes = max === 0 ? 'takes no arguments' : `takes at most ${max} argument(s)`
    throw new UsageError(`${name} ${takes}; "${extra}" is one too many.`, help())
  }
  return { values: parsed.values as Record<string, string | boolean | undefined>, positionals: parsed.positionals }
}

/** Names the first option in `args` that the command does not take, and throws. */
function notTaken(name: string, args: string[], options: ParserOptions): never {
  // the same arguments read leniently, to find which one it was without matching Node's message
  const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true })
  const unknown = tokens.find((t) => t.kind === 'option' && !Object.hasOwn(options, t.name))
  const flag = unknown?.kind === 'option' ? unknown.rawName : 'an option'
  // a server's address and key given to a command that opens the database: say which commands take them
  if (flag === '--url' || (flag === '--api-key' && !Object.hasOwn(options, 'url'))) {
    // healthcheck takes a --url of its own, the address to ask, but no key
    const takers = flag === '--url' ? [...REMOTE_COMMANDS, 'healthcheck'] : REMOTE_COMMANDS
    throw new CliError(`${name} works on the database itself; ${flag} is for ${andList(takers)}.`)
  }
  const own = Object.keys(options).filter((o) => !Object.hasOwn(SHARED_OPTIONS, o))
  const list =
    own.length > 0 ? `its options are ${own.map((o) => `--${o}`).join(', ')}` : 'it has no options of its own'
  throw new UsageError(`${name} does not take ${flag}: ${list} (account-contacts ${name} --help).`)
}
