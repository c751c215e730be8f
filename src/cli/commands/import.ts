import fs from 'node:fs'
import path from 'node:path'

import { servicesFor } from '../../app/runtime.ts'
import type { Config } from '../../config/config.ts'
import { CsvFormatError } from '../../import/csv-formats.ts'
import { importCsv, type ImportSummary } from '../../import/import.service.ts'
import { encodingNamed } from '../../import/text-encoding.ts'
import { CliError } from '../cli-error.ts'
import { defineCommand } from '../command.ts'
import { openDatabase } from '../open-database.ts'
import { createProgress } from '../progress.ts'

/** Exit code of an import that finished with rejected rows (the rest landed). */
const EXIT_REJECTED = 3

const fmt = (n: number) => n.toLocaleString('en-US')

function report(file: string, s: ImportSummary): string {
  const verb = s.dryRun ? 'would change' : 'changed'
  const lines = [
    `${s.dryRun ? 'Dry run of' : 'Imported'} ${file} (${s.format} file): ${fmt(s.rows)} rows, ${fmt(s.changed)} ${verb}, ${fmt(s.unchanged)} unchanged, ${fmt(s.rejected)} rejected.`,
    s.format === 'users'
      ? `  accounts: ${fmt(s.tally.accountsCreated)} created, ${fmt(s.tally.accountsUpdated)} updated, ${fmt(s.tally.parentsSet)} given another parent; users: ${fmt(s.tally.usersCreated)} created, ${fmt(s.tally.usersUpdated)} updated`
      : `  contact sheets: ${fmt(s.tally.sheetsChanged)} ${verb}`,
  ]
  if (s.unreadable > 0) {
    const where =
      s.unreadableLines.length > 0
        ? ` (line${s.unreadableLines.length > 1 ? 's' : ''} ${s.unreadableLines.map(fmt).join(', ')}${s.unreadable > s.unreadableLines.length ? ', ...' : ''})`
        : ''
    lines.push(`  ${fmt(s.unreadable)} of the rejected rows cannot be read as CSV${where}; the rejects file says why`)
  }
  if (s.resumedAfterLine !== undefined)
    lines.push(`  (resumed after line ${fmt(s.resumedAfterLine)}; the counts include the interrupted run)`)
  lines.push(
    `  read as ${s.encoding.encoding.toUpperCase()} (${s.encoding.because === 'default' ? 'the default' : s.encoding.because})`,
  )
  if (s.rejectsPath) lines.push(`Rejected rows, each with its line and problem: ${s.rejectsPath}`)
  if (s.dryRun) lines.push('Dry run: nothing was written to the database.')
  return lines.join('\n') + '\n'
}

/**
 * `import FILE.csv [--dry-run] [--rejects FILE] [--batch N] [--restart] [--encoding E]`: a users or
 * sheets file (docs/CSV.md). Exits 0 when every row landed, 3 when some were rejected (the rest
 * landed), 1 when it could not run (a file not in its encoding is one: nothing lands).
 */
async function importCommand(
  config: Config,
  args: {
    file: string | undefined
    rejects?: string | undefined
    batch?: string | undefined
    dryRun?: boolean | undefined
    restart?: boolean | undefined
    encoding?: string | undefined
  },
): Promise<number> {
  if (!args.file)
    throw new CliError(
      'import needs a CSV file: account-contacts import FILE.csv [--dry-run] [--rejects FILE] [--batch N] [--restart] [--encoding E]',
    )
  if (!fs.existsSync(args.file) || !fs.statSync(args.file).isFile()) throw new CliError(`No file "${args.file}".`)
  const batch = args.batch === undefined ? undefined : Number(args.batch)
  if (batch !== undefined && (!Number.isInteger(batch) || batch < 1 || batch > 100_000))
    throw new CliError(`--batch must be a whole number of rows from 1 to 100000, not "${args.batch}".`)

  if (args.encoding !== undefined) {
    try {
      encodingNamed(args.encoding)
    } catch (e) {
      if (e instanceof CsvFormatError) throw new CliError(e.message)
      throw e
    }
  }

  const handle = await openDatabase(config, 'account-contacts import')
  try {
    const services = servicesFor(handle, config)
    process.stderr.write(
      `Importing ${args.file} into ${handle.where}${args.dryRun ? ' (dry run: checked, then rolled back)' : ''}\n`,
    )
    const progress = createProgress(`import ${path.basename(args.file)}`, { unit: 'rows' })
    const summary = await importCsv(
      { db: handle.db, users: services.users, contacts: services.contacts },
      {
        file: args.file,
        ...(args.rejects ? { rejectsPath: args.rejects } : {}),
        dryRun: args.dryRun === true,
        restart: args.restart === true,
        ...(args.encoding !== undefined ? { encoding: args.encoding } : {}),
        ...(batch ? { batchRows: batch } : {}),
        // PGlite has one connection; on PostgreSQL a few transactions at once hide the round trips
        concurrency: handle.kind === 'postgres' ? 4 : 1,
        progress,
        notice: (m) => process.stderr.write(`${m}\n`),
      },
    ).catch((e: unknown) => {
      if (e instanceof CsvFormatError) throw new CliError(`${args.file}: ${e.message}`)
      throw e
    })
    progress.finish(
      `${fmt(summary.changed)} ${summary.dryRun ? 'would change' : 'changed'}, ${fmt(summary.rejected)} rejected`,
    )
    process.stdout.write(report(args.file, summary))
    return summary.rejected > 0 ? EXIT_REJECTED : 0
  } finally {
    await handle.close()
  }
}

export const command = defineCommand({
  options: {
    'dry-run': { type: 'boolean', help: 'check every row, then roll back: nothing is written' },
    rejects: {
      type: 'string',
      value: 'FILE',
      help: 'where the rejected rows go (default: beside the file, FILE.csv.rejects.csv)',
    },
    batch: {
      type: 'string',
      value: 'N',
      help: 'rows a transaction, in whole accounts (default 5000 in a users file, 500 in a sheets file)',
    },
    restart: { type: 'boolean', help: 'start from the top, not from where an interrupted run stopped' },
    encoding: {
      type: 'string',
      value: 'E',
      help: "the file's encoding (windows-1252, utf-16le, ...) when it has no byte-order mark",
    },
  },
  maxPositionals: 1,
  run: ({ config, values, positionals }) =>
    importCommand(config, {
      file: positionals[0],
      rejects: values.rejects,
      batch: values.batch,
      dryRun: values['dry-run'],
      restart: values.restart,
      encoding: values.encoding,
    }),
})
