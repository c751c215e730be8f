import { createApiKeyService } from '../../auth/api-keys/api-keys.service.ts'
import type { Config } from '../../config/config.ts'
import { systemClock } from '../../lib/clock.ts'
import { CliError } from '../cli-error.ts'
import { defineCommand } from '../command.ts'
import { openDatabase } from '../open-database.ts'

/** `keys create --name NAME | list | revoke ID`. `create` prints the key alone on its last line. */
async function keys(
  config: Config,
  args: { sub: string | undefined; name?: string | undefined; id?: string | undefined },
) {
  const handle = await openDatabase(config, `account-contacts keys ${args.sub ?? ''}`.trim())
  try {
    const service = createApiKeyService({ db: handle.db, clock: systemClock })
    switch (args.sub) {
      case 'create': {
        if (!args.name) throw new CliError('keys create needs --name NAME (what the key is for).')
        const k = await service.create(args.name)
        process.stdout.write(`Created API key ${k.id} "${k.name}". It is shown once; store it now:\n${k.key}\n`)
        return
      }
      case 'list': {
        const rows = await service.list()
        if (rows.length === 0) return void process.stdout.write('No API keys.\n')
        for (const r of rows) {
          const state = r.revoked_at ? `revoked ${r.revoked_at.toISOString()}` : 'active'
          const used = r.last_used_at ? `last used ${r.last_used_at.toISOString()}` : 'never used'
          process.stdout.write(`${r.id}  ${r.prefix}…  ${r.name}  ${state}, ${used}\n`)
        }
        return
      }
      case 'revoke': {
        if (!args.id) throw new CliError('keys revoke needs the key id (or its prefix) from `keys list`.')
        const revoked = await service.revoke(args.id)
        if (revoked.length === 0) throw new CliError(`No active key "${args.id}".`)
        for (const r of revoked) process.stdout.write(`Revoked ${r.id} "${r.name}".\n`)
        return
      }
      default:
        throw new CliError('Usage: account-contacts keys create --name NAME | keys list | keys revoke ID')
    }
  } finally {
    await handle.close()
  }
}

export const command = defineCommand({
  options: { name: { type: 'string', value: 'NAME', help: 'what the key is for (keys create)' } },
  maxPositionals: 2,
  async run({ config, values, positionals }) {
    await keys(config, { sub: positionals[0], name: values.name, id: positionals[1] })
    return 0
  },
})
