import { CONFIG_VARIABLES, ConfigError, loadConfig } from '../config/config.ts'
import { AppError } from '../lib/errors.ts'
import { CliError, UsageError } from './cli-error.ts'
import { COMMANDS } from './commands/index.ts'
import { flagOf, helpOf, parseCommandArgs } from './options.ts'
import { remoteFrom } from './remote.ts'
import { USAGE } from './usage.ts'

const HELP = new Set([undefined, 'help', '--help', '-h'])

/**
 * Runs `account-contacts <command> ...` with the process's environment `env`: reads the command's
 * own options (commands/index.ts lists them), merges the configuration flags over `env`, runs it.
 * Answers the exit code, or -1 for a command that keeps running (serve, worker).
 */
export async function runCli(argv: string[], env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const [name, ...args] = argv
  try {
    if (HELP.has(name)) {
      // `help keys`: the command's own help
      const about =
        name === 'help' && args[0] !== undefined && Object.hasOwn(COMMANDS, args[0]) ? COMMANDS[args[0]] : undefined
      process.stdout.write(about ? helpOf(args[0]!, about, await about.load()) : USAGE)
      return 0
    }
    const entry = Object.hasOwn(COMMANDS, name!) ? COMMANDS[name!] : undefined
    if (!entry) throw new CliError(`Unknown command "${name}".\n\n${USAGE}`)
    const command = await entry.load()
    const { values, positionals } = parseCommandArgs(name!, entry, command, args)
    if (values.help) {
      process.stdout.write(helpOf(name!, entry, command))
      return 0
    }
    const merged = { ...env }
    for (const v of CONFIG_VARIABLES) {
      const flag = values[flagOf(v)]
      if (typeof flag === 'string') merged[v] = flag
    }
    const config = loadConfig(merged)
    const remote = entry.remote ? remoteFrom(values as { url?: string; 'api-key'?: string }, env) : undefined
    return await command.run({ config, values, positionals, remote })
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`${e.message}\n${e.help ? `\n${e.help}` : ''}`)
      return 2
    }
    if (e instanceof CliError || e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`)
      return 1
    }
    // a service's refusal (no such account, ...) in a command that works on the database itself
    if (e instanceof AppError) {
      process.stderr.write(`${e.detail} (${e.code})\n`)
      return 1
    }
    throw e
  }
}
