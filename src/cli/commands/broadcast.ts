import { randomUUID } from 'node:crypto'

import { servicesFor } from '../../app/runtime.ts'
import { type Broadcast, CreateBroadcastSchema } from '../../broadcasts/broadcasts.schemas.ts'
import type { Config } from '../../config/config.ts'
import { IdSchema } from '../../lib/schemas.ts'
import { checkInput } from '../check-input.ts'
import { CliError } from '../cli-error.ts'
import { defineCommand } from '../command.ts'
import { openDatabase } from '../open-database.ts'
import { MESSAGE_OPTIONS } from '../options.ts'
import { createProgress } from '../progress.ts'
import { answer, type Remote } from '../remote.ts'

export interface BroadcastArgs {
  /** `cancel`, with the broadcast's id; absent: start a broadcast. */
  sub?: string | undefined
  id?: string | undefined
  category?: string | undefined
  subject?: string | undefined
  text?: string | undefined
  /** Comma-separated account ids; every account when absent. */
  accounts?: string | undefined
}

const FLAGS = { category: '--category', subject: '--subject', text: '--text', accountIds: '--accounts' }
const IdPattern = new RegExp(IdSchema.pattern!)
const POLL_MS = 500
/** After this long without progress, say what may be missing (once). */
const STALL_MS = 30_000

/**
 * `broadcast --category C --subject S --text T [--accounts id1,id2]`: one category to every account
 * (or the listed ones), with a progress bar that follows the broadcast until it is fanned out.
 */
async function broadcast(config: Config, remote: Remote | undefined, args: BroadcastArgs) {
  if (args.sub === 'cancel') return cancel(config, remote, args.id)
  if (args.sub !== undefined)
    throw new CliError(
      `Unknown broadcast subcommand "${args.sub}": broadcast --category C --subject S --text T, or broadcast cancel ID.`,
    )
  const missing = (['category', 'subject', 'text'] as const).filter((k) => !args[k]).map((k) => `--${k}`)
  if (missing.length > 0) throw new CliError(`broadcast needs ${missing.join(', ')}.`)
  const accountIds = args.accounts
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  const body = checkInput(
    CreateBroadcastSchema,
    { category: args.category, subject: args.subject, text: args.text, ...(accountIds ? { accountIds } : {}) },
    FLAGS,
  )

  if (remote) {
    const started = await answer(remote, () => remote.client.POST('/v1/broadcasts', { body }))
    // the server's workers fan it out; this only watches
    const done = await follow(
      started,
      async () => ({
        b: await answer(remote, () =>
          remote.client.GET('/v1/broadcasts/{broadcastId}', { params: { path: { broadcastId: started.id } } }),
        ),
        worked: false,
      }),
      'Is a delivery worker running beside the server (WORKER=on, or account-contacts worker)?',
    )
    return void process.stdout.write(`${outcome(done)} The server's delivery workers send the mail.\n`)
  }

  const handle = await openDatabase(config, 'account-contacts broadcast')
  try {
    const services = servicesFor(handle, config)
    const ctx = { actor: { type: 'system' as const, id: 'cli' }, requestId: `cli-${randomUUID()}` }
    const started = await services.broadcasts.create(ctx, body)
    // No worker runs in this process, so this process fans the batches out itself (a worker on the
    // same PostgreSQL may take some: the batches are claimed with SKIP LOCKED).
    const done = await follow(
      started,
      async () => {
        const worked = await services.broadcasts.processBatch()
        return { b: await services.broadcasts.get(started.id), worked }
      },
      'Another process holds the broadcast batches; waiting for it.',
    )
    process.stdout.write(
      `${outcome(done)} The delivery workers send the mail (account-contacts serve, or worker); this command only queued it.\n`,
    )
  } finally {
    await handle.close()
  }
}

const outcome = (b: Broadcast) =>
  `Broadcast ${b.id}${b.status === 'cancelled' ? ' (cancelled)' : ''}: ${b.processed} account(s), ${b.notifications} notification(s) queued, ${b.undeliverable} with nobody to receive it.`

/**
 * `broadcast cancel ID`: stops the broadcast's fan-out and the mail of it not yet sent. Cancelling
 * one that is cancelled already, or done with all its mail sent, says so and changes nothing.
 */
async function cancel(config: Config, remote: Remote | undefined, id: string | undefined) {
  if (!id) throw new CliError('broadcast cancel needs the broadcast id (printed when it started): broadcast cancel ID.')
  if (!IdPattern.test(id)) throw new CliError(`"${id}" is not a broadcast id.`)
  let before: Broadcast
  let after: Broadcast
  if (remote) {
    const path = { params: { path: { broadcastId: id } } }
    before = await answer(remote, () => remote.client.GET('/v1/broadcasts/{broadcastId}', path))
    after = await answer(remote, () => remote.client.POST('/v1/broadcasts/{broadcastId}/cancel', path))
  } else {
    const handle = await openDatabase(config, 'account-contacts broadcast cancel')
    try {
      const services = servicesFor(handle, config)
      before = await services.broadcasts.get(id)
      after = await services.broadcasts.cancel(
        { actor: { type: 'system', id: 'cli' }, requestId: `cli-${randomUUID()}` },
        id,
      )
    } finally {
      await handle.close()
    }
  }
  process.stdout.write(`${cancelOutcome(before, after)}\n`)
}

function cancelOutcome(before: Broadcast, after: Broadcast): string {
  const fanned = `${after.processed} of ${after.total} account(s) fanned out`
  if (before.status === 'cancelled')
    return `Broadcast ${after.id} was cancelled already (${after.cancelledAt}): ${fanned}, ${after.cancelledDeliveries} mail(s) not sent.`
  if (after.status === 'done')
    return `Broadcast ${after.id} is done and all its mail was sent or settled: nothing to cancel.`
  return `Cancelled broadcast ${after.id}: ${fanned}, ${after.cancelledDeliveries} mail(s) not sent (mail already being sent still goes out).`
}

/** Steps (`next`) until the broadcast is done, drawing its progress; waits between steps that did no work. */
async function follow(
  first: Broadcast,
  next: () => Promise<{ b: Broadcast; worked: boolean }>,
  stallHint: string,
): Promise<Broadcast> {
  process.stdout.write(`Broadcast ${first.id} started for ${first.total} account(s).\n`)
  const progress = createProgress(`Broadcast ${first.id}`, { unit: 'accounts', total: first.total })
  let b = first
  let movedAt = Date.now()
  let hinted = false
  progress.update(b.processed, b.total)
  while (b.status === 'running') {
    const step = await next()
    if (step.b.processed !== b.processed) movedAt = Date.now()
    b = step.b
    progress.update(b.processed, b.total)
    if (!hinted && Date.now() - movedAt > STALL_MS) {
      hinted = true
      process.stderr.write(`\nNo progress for ${STALL_MS / 1000} s. ${stallHint}\n`)
    }
    if (!step.worked && b.status === 'running') await new Promise((r) => setTimeout(r, POLL_MS))
  }
  progress.finish(
    b.status === 'cancelled'
      ? `cancelled, ${b.notifications} notification(s) queued`
      : `${b.notifications} notification(s) queued`,
  )
  return b
}

export const command = defineCommand({
  options: {
    ...MESSAGE_OPTIONS,
    accounts: { type: 'string', value: 'ID,ID', help: 'only these accounts (default: every account)' },
  },
  maxPositionals: 2,
  async run({ config, remote, values, positionals }) {
    await broadcast(config, remote, { ...values, sub: positionals[0], id: positionals[1] })
    return 0
  },
})
