import { Value } from '@sinclair/typebox/value'

import { notFound } from '../accounts/account-errors.ts'
import { findAccount, lockAccount } from '../accounts/accounts.repository.ts'
import { auditEventInsert } from '../audit/audit.repository.ts'
import type { Db } from '../db/database.ts'
import { executeAsOne } from '../db/one-statement.ts'
import { transaction } from '../db/transaction.ts'
import type { CorrectionReason, RecipientRole } from '../i18n/correction-text.ts'
import type { Locale } from '../i18n/labels.ts'
import type { RequestContext } from '../lib/actor.ts'
import type { SecretDeriver } from '../lib/derived-secrets.ts'
import { AppError } from '../lib/errors.ts'
import { newId } from '../lib/ids.ts'
import { EmailSchema } from '../lib/schemas.ts'
import { mailsToAdmins, type MailTo, mailWrites } from '../mail/queue-system-mail.ts'
import type { SystemMail } from '../mail/system-mail.ts'
import type { Recipient } from '../routing/recipients.repository.ts'
import { listAdminsToTell } from '../users/users.repository.ts'
import { eventWrites } from '../webhooks/events.ts'
import { CORRECTION_LINK_DAYS, verifyCorrectionToken } from './correction-link.ts'
import * as repo from './corrections.repository.ts'
import type { CorrectionRequestRow } from './corrections.table.ts'
import { whySentence } from './why-line.ts'

/**
 * Requests one account may receive in 24 hours. A link works once, so this bounds what a mail
 * sent to many (a broadcast, a forwarded invoice) can make the admins receive, and what a leaked
 * mailbox can do with the links it holds.
 */
export const CORRECTION_REQUESTS_PER_DAY = 20

const DAY_MS = 24 * 60 * 60 * 1000

/** What a link's page shows: ask (with what the mail was), or why it cannot. */
export type LinkState =
  | { state: 'ask'; locale: Locale; subject: string; email: string; because: string }
  | { state: 'used' | 'bad'; locale: Locale }

/** What filing answered: thanks, or why nothing was filed. */
export type FileState =
  | { state: 'thanks'; locale: Locale; accountName: string }
  | { state: 'used' | 'bad' | 'limited'; locale: Locale }
  | { state: 'needAddress'; locale: Locale; page: Extract<LinkState, { state: 'ask' }> }

export interface CorrectionForm {
  reason: CorrectionReason
  suggestedEmail?: string | undefined
  note?: string | undefined
}

/** What the admins' mail about a request says, besides whose account it names and where it links. */
type RequestMail = Omit<Extract<SystemMail, { kind: 'correction-requested' }>, 'kind' | 'accountName' | 'settingsUrl'>

/** The actor a request is recorded as: the recipient, whom only their link identifies. */
const LINK_CTX: RequestContext = { actor: { type: 'system', id: 'correction-link' }, requestId: 'correction-link' }

export type CorrectionService = ReturnType<typeof createCorrectionService>

export function createCorrectionService(deps: {
  db: Db
  secrets: Pick<SecretDeriver, 'correctionLinkSignature'>
  publicUrl: string
  /** New mail was queued (to the admins): wake the worker. */
  onQueued?: () => void
}) {
  const { db } = deps

  /** The mail a token names, when the token holds and the link is young enough; else the page's answer. */
  async function linkOf(trx: Db, token: string) {
    const ids = verifyCorrectionToken(deps.secrets, token)
    const c = ids && (await repo.readLinkContext(trx, ids.accountId, ids.deliveryId))
    if (!ids || !c || c.kind !== 'notification' || !c.entry?.slots?.length) return undefined
    if (Date.now() - c.created_at.getTime() > CORRECTION_LINK_DAYS * DAY_MS) return undefined
    const roles = c.entry.slots as RecipientRole[]
    const page = {
      state: 'ask' as const,
      locale: c.locale,
      subject: c.subject,
      email: c.recipient,
      because: whySentence({ accountName: c.account_name, locale: c.locale, roles, fallbackFor: c.entry.fallbackFor }),
    }
    return { ids, c, roles, page }
  }

  /** The mails about a request to an account's super admins: its own, or an ancestor's (holdersToTell). */
  async function mailsAbout(
    trx: Db,
    account: { id: string; name: string; locale: Locale },
    what: RequestMail,
    settingsUrl: string,
  ): Promise<MailTo[]> {
    return mailsToAdmins(await listAdminsToTell(trx, account.id), {
      accountId: account.id,
      category: 'correction_requested',
      accountLocale: account.locale,
      about: what.email,
      mail: { kind: 'correction-requested', ...what, accountName: account.name, settingsUrl },
    })
  }

  /**
   * The mails to the admins of the ancestors whose contact the recipient is (its entry's
   * `inherited`): they set the contact the account inherits, so they can change it for every
   * account below them. The request itself stays with the account whose mail it was; their link
   * opens that account's page (a parent's admins manage its descendants), where its banner is.
   */
  async function holdersToTell(
    trx: Db,
    entry: Pick<Recipient, 'inherited'>,
    accountId: string,
    what: RequestMail,
  ): Promise<MailTo[]> {
    const ids = [...new Set((entry.inherited ?? []).map((i) => i.fromAccountId))].filter((id) => id !== accountId)
    const out: MailTo[] = []
    for (const id of ids) {
      const holder = await findAccount(trx, id)
      if (!holder) continue
      // the slots they hold of it: the recipient may be the account's own contact in another
      const roles = what.roles.filter((r) => entry.inherited?.some((i) => i.fromAccountId === id && i.slot === r))
      out.push(
        ...(await mailsAbout(
          trx,
          holder,
          { ...what, roles },
          `${deps.publicUrl}/ui/?account=${encodeURIComponent(accountId)}`,
        )),
      )
    }
    return out
  }

  return {
    /** The link's page: what the mail was and the question, or why not. Reads only. */
    async openLink(token: string): Promise<LinkState> {
      const l = await linkOf(db, token)
      if (!l) return { state: 'bad', locale: 'en' }
      return l.c.used ? { state: 'used', locale: l.c.locale } : l.page
    },

    /**
     * Files the request (the page's form): for the account's super admins a mail, an audit event
     * and a `contacts.correction_requested` webhook event, all in one transaction with the row,
     * whose key makes the link single use. No contact changes.
     */
    file(token: string, form: CorrectionForm): Promise<FileState> {
      return transaction(db, async (trx): Promise<FileState> => {
        const l = await linkOf(trx, token)
        if (!l) return { state: 'bad', locale: 'en' }
        const suggested = form.suggestedEmail?.trim() || null
        if ((form.reason === 'someone_else' && !suggested) || (suggested && !Value.Check(EmailSchema, suggested)))
          return { state: 'needAddress', locale: l.c.locale, page: l.page }
        const { accountId, deliveryId } = l.ids
        // one after the other per account, so that the count below holds under concurrent posts
        await lockAccount(trx, accountId)
        if ((await repo.countRecent(trx, accountId, 24)) >= CORRECTION_REQUESTS_PER_DAY)
          return { state: 'limited', locale: l.c.locale }
        const row = await repo.insertRequest(trx, {
          account_id: accountId,
          id: newId('crq'),
          delivery_id: deliveryId,
          notification_id: l.c.notification_id,
          category: l.c.category,
          subject: l.c.subject,
          email: l.c.recipient,
          slots: l.roles,
          reason: form.reason,
          suggested_email: suggested,
          note: form.note?.trim() || null,
        })
        if (!row) return { state: 'used', locale: l.c.locale }
        const view = toView(row)
        const what: RequestMail = {
          email: l.c.recipient,
          roles: l.roles,
          subject: l.c.subject,
          reason: form.reason,
          suggestedEmail: suggested,
          note: view.note,
        }
        const admins = await mailsAbout(
          trx,
          { id: accountId, name: l.c.account_name, locale: l.c.account_locale },
          what,
          `${deps.publicUrl}/ui/`,
        )
        const holders = await holdersToTell(trx, l.c.entry!, accountId, what)
        await executeAsOne(trx, [
          ...mailWrites(LINK_CTX, [...admins, ...holders]),
          ...eventWrites([{ accountId, type: 'contacts.correction_requested', data: view }]),
          auditEventInsert(trx, LINK_CTX, {
            accountId,
            action: 'contacts.correction_requested',
            before: null,
            after: view,
          }),
        ])
        if (admins.length + holders.length > 0) deps.onQueued?.()
        return { state: 'thanks', locale: l.c.locale, accountName: l.c.account_name }
      })
    },

    /** The account's requests, newest first: the open ones, or all of them. */
    async list(accountId: string, opts: { all: boolean; limit: number }) {
      if (!(await findAccount(db, accountId))) throw notFound(accountId)
      return (await repo.listRequests(db, accountId, opts)).map(toView)
    },

    /** An admin dealt with it (or chose not to): it leaves the page's banner. Audited. */
    dismiss(ctx: RequestContext, accountId: string, id: string) {
      return transaction(db, async (trx) => {
        if (!(await lockAccount(trx, accountId))) throw notFound(accountId)
        const row = await repo.dismissRequest(trx, accountId, id)
        if (!row) {
          const existing = await repo.findRequest(trx, accountId, id)
          if (!existing) throw new AppError('not-found', { detail: `No correction request "${id}".` })
          // dismissed already: the same answer again, nothing written
          return toView(existing)
        }
        const view = toView(row)
        await auditEventInsert(trx, ctx, {
          accountId,
          action: 'contacts.correction_dismissed',
          before: { ...view, status: 'open', dismissedAt: null },
          after: view,
        }).execute()
        return view
      })
    },
  }
}

/** A request as the API shows it. */
const toView = (r: CorrectionRequestRow) => ({
  id: r.id,
  deliveryId: r.delivery_id,
  notificationId: r.notification_id,
  category: r.category,
  subject: r.subject,
  email: r.email,
  slots: r.slots,
  reason: r.reason,
  suggestedEmail: r.suggested_email,
  note: r.note,
  status: r.status,
  createdAt: r.created_at.toISOString(),
  dismissedAt: r.dismissed_at?.toISOString() ?? null,
})
