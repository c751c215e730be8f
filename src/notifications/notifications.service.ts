import { notFound } from '../accounts/account-errors.ts'
import { findAccount } from '../accounts/accounts.repository.ts'
import { appendAuditEvent } from '../audit/audit.repository.ts'
import type { SlotName } from '../contacts/contact-slots.ts'
import type { Db } from '../db/database.ts'
import { transaction } from '../db/transaction.ts'
import type { DeliveryRow } from '../delivery/deliveries.table.ts'
import { EMAIL_MAX_ATTEMPTS } from '../delivery/retry-policy.ts'
import { type IdempotentResult, requestHash, withIdempotency } from '../idempotency/idempotency.ts'
import type { RequestContext } from '../lib/actor.ts'
import { AppError } from '../lib/errors.ts'
import { newId } from '../lib/ids.ts'
import { toPage } from '../lib/page.ts'
import { renderSystemMail } from '../mail/system-mail.ts'
import { oneAccount, resolveRecipientsByCategory, resolveRecipientsOf } from '../routing/recipients.repository.ts'
import { type RoutingPolicy, SENDABLE_CATEGORIES, type SendableCategory } from '../routing/routing-policy.ts'
import { type FanOut, fanOut } from './fan-out.repository.ts'
import { countByStatus, notificationStatus } from './notification-status.ts'
import * as repo from './notifications.repository.ts'
import type { Notification, SendNotification, SentNotification } from './notifications.schemas.ts'
import type { NotificationRow } from './notifications.table.ts'

const toNotification = (row: NotificationRow, deliveries: DeliveryRow[]): Notification => ({
  id: row.id,
  category: row.category,
  kind: row.kind,
  subject: row.subject,
  isTest: row.is_test,
  status: notificationStatus(row.status, countByStatus(deliveries)),
  fallback: row.fallback,
  recipients: row.recipients,
  broadcastId: row.broadcast_id,
  createdAt: row.created_at.toISOString(),
  deliveries: deliveries.map((d) => ({
    id: d.id,
    channel: 'email' as const,
    recipient: d.recipient,
    status: d.status,
    attempts: d.attempts,
    lastError: d.last_error,
    deliveredAt: d.delivered_at?.toISOString() ?? null,
    nextAttemptAt: d.status === 'queued' || d.status === 'retrying' ? d.next_attempt_at.toISOString() : null,
    fallbackFor: d.fallback_for,
  })),
})

export type NotificationService = ReturnType<typeof createNotificationService>

export function createNotificationService(deps: { db: Db; policy: RoutingPolicy; onQueued?: () => void }) {
  const { db, policy } = deps

  async function queue(
    db: Db,
    ctx: RequestContext,
    accountId: string,
    n: Omit<FanOut, 'actor' | 'requestId' | 'maxAttempts'>,
  ): Promise<SentNotification> {
    const id = newId('ntf')
    const [row] = await fanOut(db, oneAccount(accountId), policy[n.category as SendableCategory], id, {
      ...n,
      actor: ctx.actor,
      requestId: ctx.requestId,
      maxAttempts: EMAIL_MAX_ATTEMPTS,
    })
    if (!row) throw notFound(accountId)
    return { id: row.id, status: row.status, fallback: row.fallback, recipients: row.recipients }
  }

  return {
    policy,

    /** `preview` of every sendable category, in the policy's order, in one read. */
    async previewAll(accountId: string) {
      const rows = await resolveRecipientsByCategory(
        db,
        accountId,
        SENDABLE_CATEGORIES.map((c) => [c, policy[c]] as const),
      )
      if (rows.length === 0) throw notFound(accountId)
      return {
        data: rows.map((r) => ({
          category: r.category as SendableCategory,
          recipients: r.recipients,
          fallback: r.fallback,
        })),
      }
    },

    /** Who would receive `category` now, and why. */
    async preview(accountId: string, category: SendableCategory) {
      const row = await resolveRecipientsOf(db, accountId, policy[category])
      if (!row) throw notFound(accountId)
      return { category, recipients: row.recipients, fallback: row.fallback }
    },

    /**
     * Stores the notification, its recipients and one delivery each in one transaction (the
     * outbox), answering 202. With an Idempotency-Key, the same request again answers the first
     * result instead of sending twice.
     */
    async send(
      ctx: RequestContext,
      accountId: string,
      input: SendNotification,
      idempotencyKey: string | undefined,
    ): Promise<IdempotentResult<SentNotification>> {
      const run = async (trx: Db) => ({
        status: 202,
        body: await queue(trx, ctx, accountId, {
          category: input.category,
          subject: input.subject,
          text: input.text,
          html: input.html ?? null,
        }),
      })
      if (!(await findAccount(db, accountId))) throw notFound(accountId)
      const result = idempotencyKey
        ? await withIdempotency(
            db,
            {
              accountId,
              actorId: `${ctx.actor.type}:${ctx.actor.id}`,
              key: idempotencyKey,
              hash: requestHash('POST', `/v1/accounts/${accountId}/notifications`, input),
            },
            run,
          )
        : await transaction(db, run)
      deps.onQueued?.()
      return result
    },

    /** A test message to the category's recipients, marked as a test, explaining why each gets it. */
    async sendTest(ctx: RequestContext, accountId: string, category: SendableCategory): Promise<SentNotification> {
      const account = await findAccount(db, accountId)
      if (!account) throw notFound(accountId)
      const render = (r: { name: string | null; email: string; slots: string[] }) =>
        renderSystemMail(
          {
            kind: 'test-message',
            accountName: account.name,
            category,
            recipientName: r.name ?? r.email,
            // `super_admin` means the last fallback chose them, which the template words itself
            slots: r.slots.filter((s): s is SlotName => s !== 'super_admin'),
          },
          account.locale,
        )
      const sent = await transaction(db, async (trx) => {
        const generic = render({ name: null, email: '', slots: [] })
        const sent = await queue(trx, ctx, accountId, {
          category,
          subject: generic.subject,
          text: generic.text,
          html: generic.html,
          isTest: true,
        })
        // each recipient is told their own reason
        for (const r of sent.recipients) await repo.setPersonalContent(trx, accountId, sent.id, r.email, render(r))
        return sent
      })
      deps.onQueued?.()
      return sent
    },

    async list(accountId: string, page: { limit: number; cursor?: string | undefined }) {
      if (!(await findAccount(db, accountId))) throw notFound(accountId)
      const rows = await repo.listNotifications(db, accountId, { limit: page.limit + 1, cursor: page.cursor })
      const deliveries = await repo.listDeliveriesOf(
        db,
        accountId,
        rows.slice(0, page.limit).map((r) => r.id),
      )
      return toPage(rows, page.limit, (r) =>
        toNotification(
          r,
          deliveries.filter((d) => d.notification_id === r.id),
        ),
      )
    },

    /**
     * Sends the notification again to whoever its category's rule chooses now, who has not had it:
     * new holders get a delivery of their own, a holder whose delivery failed gets it once more,
     * and nobody who had it (or has it on the way) gets it twice, so calling this again changes
     * nothing. Our own mail and test messages are not sent again.
     */
    async resend(ctx: RequestContext, accountId: string, id: string): Promise<Notification> {
      await transaction(db, async (trx) => {
        const row = await repo.findNotification(trx, accountId, id)
        if (!row) throw new AppError('not-found', { detail: `No notification "${id}" in this account.` })
        if (row.kind !== 'notification' || row.is_test)
          throw new AppError('conflict', { detail: 'Only a notification the platform sent can be sent again.' })
        const now = await resolveRecipientsOf(trx, accountId, policy[row.category as SendableCategory])
        const recipients = now?.recipients ?? []
        const added = await repo.addRecipients(trx, { accountId, id, maxAttempts: EMAIL_MAX_ATTEMPTS }, recipients)
        const requeued = await repo.requeueFailed(
          trx,
          accountId,
          id,
          recipients.map((r) => r.email),
        )
        // a resend that queued nothing changed nothing (a repeat), so it leaves no record either
        if (added.length + requeued.length > 0)
          await appendAuditEvent(trx, ctx, {
            accountId,
            action: 'notification.resent',
            before: null,
            after: {
              notificationId: id,
              queued: added.length + requeued.length,
              recipients: [...added.map((r) => r.email), ...requeued],
            },
          })
      })
      deps.onQueued?.()
      return this.get(accountId, id)
    },

    async get(accountId: string, id: string): Promise<Notification> {
      const row = await repo.findNotification(db, accountId, id)
      if (!row) throw new AppError('not-found', { detail: `No notification "${id}" in this account.` })
      return toNotification(row, await repo.listDeliveriesOf(db, accountId, [id]))
    },
  }
}
