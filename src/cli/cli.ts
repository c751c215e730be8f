import { parseArgs } from 'node:util'
import { CONFIG_VARIABLES, ConfigError, loadConfig } from '../config/config.ts'
import { CliError } from './cli-error.ts'
import { demo } from './commands/demo.ts'
import { keys } from './commands/keys.ts'
import { serve } from './commands/serve.ts'
import { worker } from './commands/worker.ts'
import { openDatabase } from './open-database.ts'

const USAGE = `Usage: account-contacts <command> [options]

Commands:
  serve [--demo]              run the API (every setting is also a flag: --port, --database-url, ...)
  worker                      run a delivery worker alone (beside serve with WORKER=off)
  migrate                     bring the database schema up to date
  keys create --name NAME     make a platform API key (printed once, alone on the last line)
  keys list                   list the keys
  keys revoke ID              revoke a key by id or prefix
  demo                        seed the demo account and print its API key

The database is PostgreSQL when DATABASE_URL is set, else embedded PGlite in DATA_DIR (./data).
`

/** `DATABASE_URL` → `database-url`: each configuration variable is also a flag. */
const flagOf = (variable: string) => variable.toLowerCase().replaceAll('_', '-')

/** Parses argv, merges flags over the environment, runs the command. Returns the exit code. */
export async function runCli(argv: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const [command, ...rest] = argv
  const options = Object.fromEntries(CONFIG_VARIABLES.map((v) => [flagOf(v), { type: 'string' as const }]))
  try {
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        ...options,
        demo: { type: 'boolean' },
        'demo-if-empty': { type: 'boolean' },
        name: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    })
    if (!command || values.help || command === 'help') {
      process.stdout.write(USAGE)
      return 0
    }
    const merged = { ...env }
    for (const v of CONFIG_VARIABLES) {
      const flag = (values as Record<string, unknown>)[flagOf(v)]
      if (typeof flag === 'string') merged[v] = flag
    }
    const config = loadConfig(merged)
    switch (command) {
      case 'serve':
        await serve(config, { demo: values.demo ? 'always' : values['demo-if-empty'] ? 'if-empty' : 'never' })
        return -1 // keeps running
      case 'worker':
        await worker(config)
        return -1 // keeps running
      case 'migrate': {
        const handle = await openDatabase(config, 'account-contacts migrate')
        await handle.close()
        process.stdout.write(`The schema of ${handle.where} is up to date.\n`)
        return 0
      }
      case 'keys':
        await keys(config, { sub: positionals[0], name: values.name, id: positionals[1] })
        return 0
      case 'demo':
        await demo(config)
        return 0
      default:
        throw new CliError(`Unknown command "${command}".\n\n${USAGE}`)
    }
  } catch (e) {
    if (e instanceof CliError || e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`)
      return 1
    }
    if (e instanceof TypeError && (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${e.message}\n\n${USAGE}`)
      return 2
    }
    throw e
  }
}
