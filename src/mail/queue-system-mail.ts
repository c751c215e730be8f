import type { Db } from '../db/database.ts'
import { EMAIL_MAX_ATTEMPTS } from '../delivery/retry-policy.ts'
import type { Locale } from '../i18n/labels.ts'
import type { RequestContext } from '../lib/actor.ts'
import { newId } from '../lib/ids.ts'
import { queueSystemMail } from '../notifications/fan-out.repository.ts'
import type { SystemCategory } from '../routing/categories.ts'
import { renderSystemMail, type SystemMail } from './system-mail.ts'

/**
 * Queues one of our own mails to one person, rendered in their language, in the caller's
 * transaction: if the change that causes the mail rolls back, so does the mail.
 */
export async function queueMailTo(
  db: Db,
  ctx: RequestContext,
  m: {
    id?: string
    accountId: string
    category: SystemCategory
    to: { email: string; name: string | null; userId?: string | null }
    locale: Locale
    mail: SystemMail
  },
): Promise<string> {
  const rendered = renderSystemMail(m.mail, m.locale)
  // a caller that ties a row of its own to the mail (a verification) chooses the id
  const id = m.id ?? newId('ntf')
  await queueSystemMail(db, {
    accountId: m.accountId,
    id,
    category: m.category,
    subject: rendered.subject,
    text: rendered.text,
    html: rendered.html,
    to: [{ email: m.to.email, name: m.to.name, userId: m.to.userId ?? null, slots: [] }],
    maxAttempts: EMAIL_MAX_ATTEMPTS,
    requestId: ctx.requestId,
    actor: ctx.actor,
  })
  return id
}
