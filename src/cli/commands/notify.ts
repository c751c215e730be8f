import { randomUUID } from 'node:crypto'

import { Type } from '@sinclair/typebox'

import { servicesFor } from '../../app/runtime.ts'
import type { Config } from '../../config/config.ts'
import { IdSchema } from '../../lib/schemas.ts'
import {
  IdempotencyHeadersSchema,
  SendNotificationSchema,
  type SentNotification,
} from '../../notifications/notifications.schemas.ts'
import { checkInput } from '../check-input.ts'
import { CliError } from '../cli-error.ts'
import { defineCommand } from '../command.ts'
import { openDatabase } from '../open-database.ts'
import { MESSAGE_OPTIONS } from '../options.ts'
import { answer, type Remote } from '../remote.ts'

export interface NotifyArgs {
  account?: string | undefined
  category?: string | undefined
  subject?: string | undefined
  text?: string | undefined
  idempotencyKey?: string | undefined
}

const FLAGS = {
  accountId: '--account',
  category: '--category',
  subject: '--subject',
  text: '--text',
  'idempotency-key': '--idempotency-key',
}

/**
 * `notify --account ID --category C --subject S --text T [--idempotency-key K]`: one notification,
 * stored with its deliveries (locally, or by the server with --url). Prints its id and recipients.
 */
async function notify(config: Config, remote: Remote | undefined, args: NotifyArgs) {
  const missing = (['account', 'category', 'subject', 'text'] as const).filter((k) => !args[k]).map((k) => `--${k}`)
  if (missing.length > 0) throw new CliError(`notify needs ${missing.join(', ')}.`)
  const { accountId } = checkInput(Type.Object({ accountId: IdSchema }), { accountId: args.account }, FLAGS)
  const body = checkInput(
    SendNotificationSchema,
    { category: args.category, subject: args.subject, text: args.text },
    FLAGS,
  )
  const key = args.idempotencyKey
  if (key !== undefined) checkInput(IdempotencyHeadersSchema, { 'idempotency-key': key }, FLAGS)

  let sent: SentNotification
  if (remote) {
    const header = key !== undefined ? { 'idempotency-key': key } : {}
    sent = await answer(remote, () =>
      remote.client.POST('/v1/accounts/{accountId}/notifications', { params: { path: { accountId }, header }, body }),
    )
  } else {
    const handle = await openDatabase(config, 'account-contacts notify')
    try {
      const ctx = { actor: { type: 'system' as const, id: 'cli' }, requestId: `cli-${randomUUID()}` }
      sent = (await servicesFor(handle, config).notifications.send(ctx, accountId, body, key)).body
    } finally {
      await handle.close()
    }
  }

  if (sent.status === 'undeliverable') {
    process.stdout.write(
      `${sent.id} reached nobody: the account has no contact for "${body.category}" and no active super admin. It is stored as undeliverable.\n`,
    )
    return
  }
  const via = sent.fallback
    ? ` (through the ${sent.fallback === 'primary' ? 'primary contact' : 'super admins'}, as no slot of "${body.category}" is filled)`
    : ''
  process.stdout.write(`${sent.id} queued for ${sent.recipients.length} recipient(s)${via}:\n`)
  for (const r of sent.recipients)
    process.stdout.write(`  ${r.name ? `${r.name} <${r.email}>` : r.email}  ${r.slots.join(', ')}\n`)
  process.stdout.write(
    remote
      ? `The server's delivery workers send it; follow it with GET /v1/accounts/${accountId}/notifications/${sent.id}.\n`
      : 'The delivery workers send it (account-contacts serve, or worker); this command only queued it.\n',
  )
}

export const command = defineCommand({
  options: {
    account: { type: 'string', value: 'ID', help: 'the account to notify' },
    ...MESSAGE_OPTIONS,
    'idempotency-key': { type: 'string', value: 'K', help: 'the same key again answers the first notification' },
  },
  async run({ config, remote, values }) {
    await notify(config, remote, { ...values, idempotencyKey: values['idempotency-key'] })
    return 0
  },
})
