import type { Command } from '../command.ts'

export interface CommandEntry {
  /** Its lines in the usage: the synopsis, and what it does (a `\n` continues it on the next line). */
  usage: readonly (readonly [synopsis: string, summary: string])[]
  /** It can work through a running server instead of the database: it also takes --url and --api-key. */
  remote?: true
  load(): Promise<Command>
}

// Each command's module is loaded when it runs: a long-running `serve` or `worker` process then
// holds in memory only what it uses (the import/export code, CSV parsers, ...).
export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  serve: {
    usage: [['serve [--demo]', 'run the API (every setting is also a flag: --port, --database-url, ...)']],
    load: () => import('./serve.ts').then((m) => m.command),
  },
  worker: {
    usage: [['worker', 'run a delivery worker alone (beside serve with WORKER=off)']],
    load: () => import('./worker.ts').then((m) => m.command),
  },
  migrate: {
    usage: [['migrate', 'bring the database schema up to date']],
    load: () => import('./migrate.ts').then((m) => m.command),
  },
  healthcheck: {
    usage: [
      [
        'healthcheck [--url URL]',
        "GET /healthz of this configuration's server or worker (or URL's); exit 0 on 200, else 1",
      ],
    ],
    load: () => import('./healthcheck.ts').then((m) => m.command),
  },
  keys: {
    usage: [
      ['keys create --name NAME', 'make a platform API key (printed once, alone on the last line)'],
      ['keys list', 'list the keys'],
      ['keys revoke ID', 'revoke a key by id or prefix'],
    ],
    load: () => import('./keys.ts').then((m) => m.command),
  },
  demo: {
    usage: [['demo', 'seed the demo account and print its API key']],
    load: () => import('./demo.ts').then((m) => m.command),
  },
  report: {
    usage: [['report [--format table|csv|json]', 'every account with a contact problem (health)']],
    remote: true,
    load: () => import('./report.ts').then((m) => m.command),
  },
  notify: {
    usage: [
      [
        'notify --account ID --category C --subject S --text T [--idempotency-key K]',
        'send one notification; prints its id and recipients',
      ],
    ],
    remote: true,
    load: () => import('./notify.ts').then((m) => m.command),
  },
  broadcast: {
    usage: [
      [
        'broadcast --category C --subject S --text T [--accounts ID,ID]',
        'one category to every account (or those), with progress',
      ],
      ['broadcast cancel ID', 'stop a broadcast and its mail not yet sent'],
    ],
    remote: true,
    load: () => import('./broadcast.ts').then((m) => m.command),
  },
  import: {
    usage: [
      [
        'import FILE.csv [--dry-run] [--rejects FILE] [--batch N] [--restart] [--encoding E]',
        'load a users or sheets CSV (docs/CSV.md); resumable; exit 3 when rows were rejected;\n' +
          'UTF-8 unless a byte-order mark or --encoding (windows-1252, utf-16le, ...) says otherwise',
      ],
    ],
    load: () => import('./import.ts').then((m) => m.command),
  },
  export: {
    usage: [
      ['export [--out FILE] [--format users|sheets]', "write every account's users (default) or contact sheet as CSV"],
    ],
    load: () => import('./export.ts').then((m) => m.command),
  },
}
