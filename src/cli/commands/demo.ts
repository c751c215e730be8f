import { servicesFor } from '../../app/runtime.ts'
import type { Config } from '../../config/config.ts'
import { demoApiKey, seedDemo } from '../../demo/demo.seed.ts'
import { defineCommand } from '../command.ts'
import { openDatabase } from '../open-database.ts'

/** Seeds the demo account (if missing) and prints its platform key. */
async function demo(config: Config) {
  const handle = await openDatabase(config, 'account-contacts demo')
  try {
    const services = servicesFor(handle, config)
    const seeded = await seedDemo(services)
    const key = await demoApiKey(services, config.dataDir)
    process.stdout.write(`${seeded ? 'Seeded' : 'Found'} the demo account "demo". Its API key:\n${key}\n`)
  } finally {
    await handle.close()
  }
}

export const command = defineCommand({
  options: {},
  async run({ config }) {
    await demo(config)
    return 0
  },
})
