import { randomUUID } from 'node:crypto'
import { servicesFor } from '../../app/runtime.ts'
import { CreateBroadcastSchema, type Broadcast } from '../../broadcasts/broadcasts.schemas.ts'
import type { Config } from '../../config/config.ts'
import { checkInput } from '../check-input.ts'
import { CliError } from '../cli-error.ts'
import { openDatabase } from '../open-database.ts'
import { createProgress } from '../progress.ts'
import { answer, type Remote } from '../remote.ts'

export interface BroadcastArgs {
  category?: string | undefined
  subject?: string | undefined
  text?: string | undefined
  /** Comma-separated account ids; every account when absent. */
  accounts?: string | undefined
}

const FLAGS = { category: '--category', subject: '--subject', text: '--text', accountIds: '--accounts' }
const POLL_MS = 500
/** After this long without progress, say what may be missing (once). */
const STALL_MS = 30_000

/**
 * `broadcast --category C --subject S --text T [--accounts id1,id2]`: one category to every account
 * (or the listed ones), with a progress bar that follows the broadcast until it is fanned out.
 */
export async function broadcast(config: Config, remote: Remote | undefined, args: BroadcastArgs) {
  const missing = (['category', 'subject', 'text'] as const).filter((k) => !args[k]).map((k) => `--${k}`)
  if (missing.length > 0) throw new CliError(`broadcast needs ${missing.join(', ')}.`)
  const accountIds = args.accounts?.split(',').map((s) => s.trim()).filter(Boolean)
  const body = checkInput(
    CreateBroadcastSchema,
    { category: args.category, subject: args.subject, text: args.text, ...(accountIds ? { accountIds } : {}) },
    FLAGS,
  )

  if (remote) {
    const started = await answer(remote, () => remote.client.POST('/v1/broadcasts', { body }))
    // the server's workers fan it out; this only watches
    const done = await follow(started, async () => ({
      b: await answer(remote, () => remote.client.GET('/v1/broadcasts/{broadcastId}', { params: { path: { broadcastId: started.id } } })),
      worked: false,
    }), 'Is a delivery worker running beside the server (WORKER=on, or account-contacts worker)?')
    return void process.stdout.write(`${outcome(done)} The server's delivery workers send the mail.\n`)
  }

  const handle = await openDatabase(config, 'account-contacts broadcast')
  try {
    const services = servicesFor(handle, config)
    const ctx = { actor: { type: 'system' as const, id: 'cli' }, requestId: `cli-${randomUUID()}` }
    const started = await services.broadcasts.create(ctx, body)
    // No worker runs in this process, so this process fans the batches out itself (a worker on the
    // same PostgreSQL may take some: the batches are claimed with SKIP LOCKED).
    const done = await follow(started, async () => {
      const worked = await services.broadcasts.processBatch()
      return { b: await services.broadcasts.get(started.id), worked }
    }, 'Another process holds the broadcast batches; waiting for it.')
    process.stdout.write(`${outcome(done)} The delivery workers send the mail (account-contacts serve, or worker); this command only queued it.\n`)
  } finally {
    await handle.close()
  }
}

const outcome = (b: Broadcast) =>
  `Broadcast ${b.id}: ${b.processed} account(s), ${b.notifications} notification(s) queued, ${b.undeliverable} with nobody to receive it.`

/** Steps (`next`) until the broadcast is done, drawing its progress; waits between steps that did no work. */
async function follow(first: Broadcast, next: () => Promise<{ b: Broadcast; worked: boolean }>, stallHint: string): Promise<Broadcast> {
  process.stdout.write(`Broadcast ${first.id} started for ${first.total} account(s).\n`)
  const progress = createProgress(`Broadcast ${first.id}`, { unit: 'accounts', total: first.total })
  let b = first
  let movedAt = Date.now()
  let hinted = false
  progress.update(b.processed, b.total)
  while (b.status !== 'done') {
    const step = await next()
    if (step.b.processed !== b.processed) movedAt = Date.now()
    b = step.b
    progress.update(b.processed, b.total)
    if (!hinted && Date.now() - movedAt > STALL_MS) {
      hinted = true
      process.stderr.write(`\nNo progress for ${STALL_MS / 1000} s. ${stallHint}\n`)
    }
    if (!step.worked && b.status !== 'done') await new Promise((r) => setTimeout(r, POLL_MS))
  }
  progress.finish(`${b.notifications} notification(s) queued`)
  return b
}
