import type { Config } from '../../config/config.ts'
import { defineCommand } from '../command.ts'
import { openDatabase } from '../open-database.ts'

/** `migrate`: brings the schema up to date, whatever MIGRATE_ON_START says (the release step). */
async function migrate(config: Config) {
  const handle = await openDatabase(config, 'account-contacts migrate', { migrate: 'always' })
  await handle.close()
  process.stdout.write(`The schema of ${handle.where} is up to date.\n`)
}

export const command = defineCommand({
  options: {},
  async run({ config }) {
    await migrate(config)
    return 0
  },
})
