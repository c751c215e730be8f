import { useEffect, useState } from 'react'

import { getAccount } from '../api/account.ts'
import { listActiveUsers } from '../api/contacts.ts'
import type { Account, ContactSheet, User } from '../api/types.ts'
import { useLocale, useSession } from '../page-context.ts'
import { problemText } from '../problem-text.ts'
import { useSheet } from '../use-sheet.ts'
import { AccountLink } from './AccountLink.tsx'
import { BillingContacts } from './BillingContacts.tsx'
import { ChildAccounts } from './ChildAccounts.tsx'
import { CorrectionRequests } from './CorrectionRequests.tsx'
import { DemoMail } from './DemoMail.tsx'
import { Health } from './Health.tsx'
import { History } from './History.tsx'
import { MailHistory } from './MailHistory.tsx'
import { OtherContacts } from './OtherContacts.tsx'
import { PageHeader } from './PageHeader.tsx'
import { PrimaryContact } from './PrimaryContact.tsx'
import { Recipients } from './Recipients.tsx'
import { Review } from './Review.tsx'

const byName = (a: User, b: User) => a.name.localeCompare(b.name) || a.email.localeCompare(b.email)

/** The addresses on the sheet whose mail does not arrive: clearing one changes no slot, but what follows from it. */
const undeliverable = (s: ContactSheet) =>
  [s.primary, ...s.billing, s.decisionMaker, s.onboarding, s.security, s.technicalAdmin]
    .filter((c) => c?.undeliverable)
    .map((c) => c!.email)
    .join(',')

/** "Company information": the contact sheet in the order docs/PRODUCT.md ("The settings page") gives, then what follows from it. */
export function SettingsPage() {
  const { t } = useLocale()
  const { session, accountId: a, accountName, canEdit, notManaged } = useSession()
  const { sheet, loadError, reads, write } = useSheet(a)
  const [users, setUsers] = useState<User[]>([])
  const [account, setAccount] = useState<Account | null>(null)
  const [sent, setSent] = useState(0)
  const [dismissed, setDismissed] = useState(0)

  // read again with the sheet (back in the tab, after a conflict or a user no longer active), so
  // that a user deactivated meanwhile is no longer offered
  useEffect(() => {
    listActiveUsers(a).then(
      (p) => setUsers([...p.data].sort(byName)),
      () => undefined,
    )
  }, [a, reads])
  useEffect(() => {
    getAccount(a).then(setAccount, () => undefined)
  }, [a])

  // everything derived from the sheet is read again when it changes
  const key = sheet ? `${sheet.version}/${sheet.contactsReviewedAt ?? ''}/${undeliverable(sheet)}` : ''
  const domains = account?.allowedEmailDomains ?? null

  return (
    <>
      <a className="skip-link" href="#main">
        {t.skipToMain}
      </a>
      <PageHeader />
      <main id="main" tabIndex={-1} aria-busy={!sheet || undefined}>
        {!canEdit ? <p className="read-only-note">{t.readOnly}</p> : null}
        {notManaged ? <p className="read-only-note">{t.tree.notManaged}</p> : null}
        {a !== session.accountId ? (
          <p className="managing-note">
            {t.tree.managing(accountName)}{' '}
            <AccountLink accountId={session.accountId}>{t.tree.backTo(session.accountName)}</AccountLink>
          </p>
        ) : null}
        {loadError ? <p className="field-error">{problemText(loadError, t)}</p> : null}
        {!sheet ? (
          loadError ? null : (
            <p className="loading">{t.loading}</p>
          )
        ) : (
          <>
            {/* account-wide news first: a recipient says a mail reached the wrong person */}
            <CorrectionRequests sheet={sheet} onDismissed={() => setDismissed((n) => n + 1)} />
            <div className="layout">
              <div className="col-main">
                <PrimaryContact sheet={sheet} users={users} write={write} />
                <BillingContacts sheet={sheet} users={users} write={write} />
                <OtherContacts sheet={sheet} users={users} write={write} domains={domains} />
              </div>
              <div className="col-side">
                <Health refreshKey={key} />
                <Review sheet={sheet} write={write} />
                <ChildAccounts />
              </div>
            </div>
            <Recipients
              refreshKey={key}
              onSent={() => setSent((n) => n + 1)}
              pendingSecurity={
                sheet.security?.type === 'email' && sheet.security.verification === 'pending'
                  ? sheet.security.email
                  : null
              }
            />
            <MailHistory refreshKey={`${key}/${sent}`} />
            {/* the demo mailbox holds the signed-in user's own account's mail only */}
            {session.demoMail && a === session.accountId ? <DemoMail refreshKey={`${key}/${sent}`} /> : null}
            <History users={users} refreshKey={`${key}/${dismissed}`} />
          </>
        )}
      </main>
    </>
  )
}
