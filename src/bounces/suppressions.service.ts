import { notFound } from '../accounts/account-errors.ts'
import { findAccount } from '../accounts/accounts.repository.ts'
import { appendAuditEvent } from '../audit/audit.repository.ts'
import type { ContactService } from '../contacts/contacts.service.ts'
import type { Db } from '../db/database.ts'
import { transaction } from '../db/transaction.ts'
import type { RequestContext } from '../lib/actor.ts'
import { AppError } from '../lib/errors.ts'
import * as repo from './suppressions.repository.ts'

type SuppressionRow = Awaited<ReturnType<typeof repo.listSuppressions>>[number]

const toSuppression = (r: SuppressionRow) => ({
  email: r.email,
  kind: r.kind,
  reason: r.reason,
  source: r.source,
  deliveryId: r.delivery_id,
  since: r.at.toISOString(),
})

export type SuppressionService = ReturnType<typeof createSuppressionService>

/** The account's suppression list as admins see and clear it (docs/BOUNCES.md). */
export function createSuppressionService(deps: { db: Db; contacts: Pick<ContactService, 'reverifySecurity'> }) {
  const { db } = deps
  return {
    async list(accountId: string) {
      if (!(await findAccount(db, accountId))) throw notFound(accountId)
      return { data: (await repo.listSuppressions(db, accountId)).map(toSuppression) }
    },

    /**
     * Takes an address off the list: it gets the account's mail again. An outside security
     * address must then prove it works again (a new verification link) before security notices
     * go to it. Audited.
     */
    async clear(ctx: RequestContext, accountId: string, email: string): Promise<void> {
      await transaction(db, async (trx) => {
        if (!(await findAccount(trx, accountId))) throw notFound(accountId)
        const removed = await repo.deleteSuppression(trx, accountId, email)
        if (!removed)
          throw new AppError('not-found', { detail: `${email} is not on the suppression list of this account.` })
        await deps.contacts.reverifySecurity(trx, ctx, accountId, removed.email)
        await appendAuditEvent(trx, ctx, {
          accountId,
          action: 'suppression.cleared',
          before: toSuppression(removed),
          after: null,
        })
      })
    },
  }
}
