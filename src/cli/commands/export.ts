import fs from 'node:fs'

import type { Config } from '../../config/config.ts'
import { exportCsv } from '../../import/export.service.ts'
import { CliError } from '../cli-error.ts'
import { defineCommand } from '../command.ts'
import { openDatabase } from '../open-database.ts'
import { createProgress } from '../progress.ts'

/**
 * `export [--out FILE] [--format users|sheets]`: every account as a users file (the default) or a
 * sheets file (docs/CSV.md), to FILE or to standard output. A file is written beside its name and
 * renamed at the end, so that an interrupted export never leaves half a file under it.
 */
async function exportCommand(
  config: Config,
  args: { out?: string | undefined; format?: string | undefined },
): Promise<void> {
  const format = args.format ?? 'users'
  if (format !== 'users' && format !== 'sheets')
    throw new CliError(`--format must be users or sheets, not "${format}".`)
  const handle = await openDatabase(config, 'account-contacts export')
  try {
    const progress = createProgress(`export ${format}`, { unit: 'rows' })
    if (!args.out) {
      const { rows } = await exportCsv(handle.db, { format, out: process.stdout, end: false, progress })
      progress.finish(`${rows.toLocaleString('en-US')} rows`)
      return
    }
    const tmp = `${args.out}.${process.pid}.tmp`
    try {
      const { rows } = await exportCsv(handle.db, { format, out: fs.createWriteStream(tmp), progress })
      fs.renameSync(tmp, args.out)
      progress.finish(`${rows.toLocaleString('en-US')} rows`)
      process.stdout.write(
        `Exported ${rows.toLocaleString('en-US')} rows (${format} file) from ${handle.where} to ${args.out}\n`,
      )
    } finally {
      fs.rmSync(tmp, { force: true })
    }
  } finally {
    await handle.close()
  }
}

export const command = defineCommand({
  options: {
    out: { type: 'string', value: 'FILE', help: 'write to FILE (default: standard output)' },
    format: { type: 'string', value: 'FORMAT', help: 'users (default) or sheets' },
  },
  async run({ config, values }) {
    await exportCommand(config, { out: values.out, format: values.format })
    return 0
  },
})
