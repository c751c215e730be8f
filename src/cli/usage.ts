import type { OptionSpecs } from './command.ts'
import { type CommandEntry, COMMANDS } from './commands/index.ts'

/** Where a command's summary starts, after its synopsis. */
const SUMMARY_COLUMN = 30

/** `  synopsis   summary`, the summary on lines of its own when the synopsis is long. */
function usageLines(usage: CommandEntry['usage'], prefix = ''): string {
  const indent = ' '.repeat(SUMMARY_COLUMN)
  return usage
    .map(([synopsis, summary]) => {
      const head = `  ${prefix}${synopsis}`
      const body = summary.replaceAll('\n', `\n${indent}`)
      return head.length <= SUMMARY_COLUMN - 2 ? `${head.padEnd(SUMMARY_COLUMN)}${body}` : `${head}\n${indent}${body}`
    })
    .join('\n')
}

/** `a, b and c`. */
export const andList = (items: readonly string[]) =>
  items.length > 1 ? `${items.slice(0, -1).join(', ')} and ${items.at(-1)}` : (items[0] ?? '')

/** The commands that can work through a running server. */
export const REMOTE_COMMANDS = Object.keys(COMMANDS).filter((c) => COMMANDS[c]!.remote)

/** `account-contacts`, `account-contacts help` or `--help`: every command. */
export const USAGE = `Usage: account-contacts <command> [options]

Commands:
${Object.values(COMMANDS)
  .map((entry) => usageLines(entry.usage))
  .join('\n')}

The database is PostgreSQL when DATABASE_URL is set, else embedded PGlite in DATA_DIR (./data).
${andList(REMOTE_COMMANDS)} talk to a running server instead with --url URL --api-key KEY
(or ACCOUNT_CONTACTS_URL and ACCOUNT_CONTACTS_API_KEY), e.g. while it holds the embedded database.
Every command also takes its configuration as flags (--database-url, --data-dir, ...), and --help.
`

/** `account-contacts <command> --help`: its synopsis and the options it takes (`own`: all but the shared ones). */
export function commandHelp(name: string, entry: CommandEntry, own: OptionSpecs): string {
  const options = [
    ...Object.entries(own).map(([flag, o]) => [`--${flag}${o.value ? ` ${o.value}` : ''}`, o.help] as const),
    ['-h, --help', 'this help'] as const,
  ]
  const width = Math.max(...options.map(([flag]) => flag.length)) + 2
  return [
    `Usage of ${name}:\n${usageLines(entry.usage, 'account-contacts ')}`,
    `Options:\n${options.map(([flag, help]) => `  ${flag.padEnd(width)}${help}`).join('\n')}`,
    `Every configuration variable is also a flag: --database-url for DATABASE_URL, --data-dir for DATA_DIR, ...\n` +
      `(README, "Configuration"). The flag wins over the environment.`,
  ]
    .join('\n\n')
    .concat('\n')
}
