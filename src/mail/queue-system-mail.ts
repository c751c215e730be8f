import type { Db } from '../db/database.ts'
import { executeAsOne, type Write } from '../db/one-statement.ts'
import { EMAIL_MAX_ATTEMPTS } from '../delivery/retry-policy.ts'
import type { Locale } from '../i18n/labels.ts'
import type { RequestContext } from '../lib/actor.ts'
import { newId } from '../lib/ids.ts'
import { systemMailInserts } from '../notifications/fan-out.repository.ts'
import type { SystemCategory } from '../routing/categories.ts'
import { renderSystemMail, type SystemMail } from './system-mail.ts'

/** One of our own mails to one person: what it is, and to whom. */
export interface MailTo {
  /** A caller that ties a row of its own to the mail (a verification) chooses the id. */
  id?: string
  accountId: string
  category: SystemCategory
  to: { email: string; name: string | null; userId?: string | null }
  locale: Locale
  mail: SystemMail
}

/**
 * Queues one of our own mails to one person, rendered in their language, in the caller's
 * transaction: if the change that causes the mail rolls back, so does the mail. Answers its id.
 */
export async function queueMailTo(db: Db, ctx: RequestContext, m: MailTo): Promise<string> {
  const id = m.id ?? newId('ntf')
  await executeAsOne(db, mailWrites(ctx, [{ ...m, id }]))
  return id
}

/**
 * The writes of `queueMailTo` for several mails, not yet run: for a change that writes its own
 * rows and its mails in one statement (db/one-statement.ts). None for no mails.
 */
export function mailWrites(ctx: RequestContext, mails: MailTo[]): Write[] {
  if (mails.length === 0) return []
  return systemMailInserts(
    mails.map((m) => {
      const rendered = renderSystemMail(m.mail, m.locale)
      return {
        accountId: m.accountId,
        id: m.id ?? newId('ntf'),
        category: m.category,
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        to: [{ email: m.to.email, name: m.to.name, userId: m.to.userId ?? null, slots: [] }],
        maxAttempts: EMAIL_MAX_ATTEMPTS,
        requestId: ctx.requestId,
        actor: ctx.actor,
      }
    }),
  )
}

/**
 * The same mail to each of an account's admins, in their own language (else the account's), but
 * not to the address the mail is about: a person is not asked to fix, or told of, themselves.
 */
export function mailsToAdmins(
  admins: readonly { id: string; email: string; name: string; locale: Locale | null }[],
  m: { accountId: string; category: SystemCategory; accountLocale: Locale; about: string; mail: SystemMail },
): MailTo[] {
  const about = m.about.toLowerCase()
  return admins
    .filter((a) => a.email.toLowerCase() !== about)
    .map((a) => ({
      accountId: m.accountId,
      category: m.category,
      to: { email: a.email, name: a.name, userId: a.id },
      locale: a.locale ?? m.accountLocale,
      mail: m.mail,
    }))
}
