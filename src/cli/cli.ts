import { parseArgs } from 'node:util'

import { CONFIG_VARIABLES, ConfigError, loadConfig } from '../config/config.ts'
import { AppError } from '../lib/errors.ts'
import { CliError } from './cli-error.ts'
import { openDatabase } from './open-database.ts'

// Each command's module is loaded when it runs: a long-running `serve` or `worker` process then
// holds in memory only what it uses (the import/export code, CSV parsers, ...).
const load = {
  broadcast: () => import('./commands/broadcast.ts').then((m) => m.broadcast),
  demo: () => import('./commands/demo.ts').then((m) => m.demo),
  exportCommand: () => import('./commands/export.ts').then((m) => m.exportCommand),
  healthcheck: () => import('./commands/healthcheck.ts').then((m) => m.healthcheck),
  importCommand: () => import('./commands/import.ts').then((m) => m.importCommand),
  keys: () => import('./commands/keys.ts').then((m) => m.keys),
  notify: () => import('./commands/notify.ts').then((m) => m.notify),
  report: () => import('./commands/report.ts').then((m) => m.report),
  serve: () => import('./commands/serve.ts').then((m) => m.serve),
  worker: () => import('./commands/worker.ts').then((m) => m.worker),
}
import { REMOTE_COMMANDS, remoteFrom } from './remote.ts'

const USAGE = `Usage: account-contacts <command> [options]

Commands:
  serve [--demo]              run the API (every setting is also a flag: --port, --database-url, ...)
  worker                      run a delivery worker alone (beside serve with WORKER=off)
  migrate                     bring the database schema up to date
  healthcheck [--url URL]     GET /healthz of this configuration's server or worker (or URL's); exit 0 on 200, else 1
  keys create --name NAME     make a platform API key (printed once, alone on the last line)
  keys list                   list the keys
  keys revoke ID              revoke a key by id or prefix
  demo                        seed the demo account and print its API key
  report [--format table|csv|json]
                              every account with a contact problem (health)
  notify --account ID --category C --subject S --text T [--idempotency-key K]
                              send one notification; prints its id and recipients
  broadcast --category C --subject S --text T [--accounts ID,ID]
                              one category to every account (or those), with progress
  broadcast cancel ID         stop a broadcast and its mail not yet sent
  import FILE.csv [--dry-run] [--rejects FILE] [--batch N] [--restart] [--encoding E]
                              load a users or sheets CSV (docs/CSV.md); resumable; exit 3 when rows were rejected;
                              UTF-8 unless a byte-order mark or --encoding (windows-1252, utf-16le, ...) says otherwise
  export [--out FILE] [--format users|sheets]
                              write every account's users (default) or contact sheet as CSV

The database is PostgreSQL when DATABASE_URL is set, else embedded PGlite in DATA_DIR (./data).
report, notify and broadcast talk to a running server instead with --url URL --api-key KEY
(or ACCOUNT_CONTACTS_URL and ACCOUNT_CONTACTS_API_KEY), e.g. while it holds the embedded database.
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
        url: { type: 'string' },
        'api-key': { type: 'string' },
        format: { type: 'string' },
        account: { type: 'string' },
        accounts: { type: 'string' },
        category: { type: 'string' },
        subject: { type: 'string' },
        text: { type: 'string' },
        'idempotency-key': { type: 'string' },
        out: { type: 'string' },
        rejects: { type: 'string' },
        batch: { type: 'string' },
        'dry-run': { type: 'boolean' },
        restart: { type: 'boolean' },
        encoding: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    })
    if (!command || values.help || command === 'help' || command === '--help' || command === '-h') {
      process.stdout.write(USAGE)
      return 0
    }
    const merged = { ...env }
    for (const v of CONFIG_VARIABLES) {
      const flag = (values as Record<string, unknown>)[flagOf(v)]
      if (typeof flag === 'string') merged[v] = flag
    }
    const config = loadConfig(merged)
    if (values.url !== undefined && !REMOTE_COMMANDS.includes(command) && command !== 'healthcheck') {
      throw new CliError(
        `${command} works on the database itself; --url is for ${REMOTE_COMMANDS.join(', ')} and healthcheck.`,
      )
    }
    const remote = REMOTE_COMMANDS.includes(command) ? remoteFrom(values, env) : undefined
    switch (command) {
      case 'serve':
        await (
          await load.serve()
        )(config, { demo: values.demo ? 'always' : values['demo-if-empty'] ? 'if-empty' : 'never' })
        return -1 // keeps running
      case 'worker':
        await (
          await load.worker()
        )(config)
        return -1 // keeps running
      case 'migrate': {
        const handle = await openDatabase(config, 'account-contacts migrate', { migrate: 'always' })
        await handle.close()
        process.stdout.write(`The schema of ${handle.where} is up to date.\n`)
        return 0
      }
      case 'healthcheck':
        return await (
          await load.healthcheck()
        )(config, { url: values.url })
      case 'keys':
        await (
          await load.keys()
        )(config, { sub: positionals[0], name: values.name, id: positionals[1] })
        return 0
      case 'demo':
        await (
          await load.demo()
        )(config)
        return 0
      case 'report':
        await (
          await load.report()
        )(config, remote, { format: values.format })
        return 0
      case 'notify':
        await (
          await load.notify()
        )(config, remote, { ...values, idempotencyKey: values['idempotency-key'] })
        return 0
      case 'broadcast':
        await (
          await load.broadcast()
        )(config, remote, { ...values, sub: positionals[0], id: positionals[1] })
        return 0
      case 'import':
        return await (
          await load.importCommand()
        )(config, {
          file: positionals[0],
          rejects: values.rejects,
          batch: values.batch,
          dryRun: values['dry-run'],
          restart: values.restart,
          encoding: values.encoding,
        })
      case 'export':
        await (
          await load.exportCommand()
        )(config, { out: values.out, format: values.format })
        return 0
      default:
        throw new CliError(`Unknown command "${command}".\n\n${USAGE}`)
    }
  } catch (e) {
    if (e instanceof CliError || e instanceof ConfigError) {
      process.stderr.write(`${e.message}\n`)
      return 1
    }
    // a service's refusal (no such account, ...) in a command that works on the database itself
    if (e instanceof AppError) {
      process.stderr.write(`${e.detail} (${e.code})\n`)
      return 1
    }
    if (e instanceof TypeError && (e as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`${e.message}\n\n${USAGE}`)
      return 2
    }
    throw e
  }
}
