import { useState } from 'react'

import { signOut } from '../api/account.ts'
import { useLocale, useSession } from '../page-context.ts'
import { addressOf } from '../shown-account.ts'
import { AccountSwitcher } from './AccountSwitcher.tsx'
import { LanguageSwitch } from './LanguageSwitch.tsx'

/** The page's heading, where focus goes when what it was on has gone and nothing nearer is left. */
export const PAGE_TITLE_ID = 'page-title'

/**
 * The top of the page (docs/PRODUCT.md, "The settings page"): the account's name at the top right,
 * "Tili ja laskutus" (Account & Billing), and "Yritystiedot" (Company information) as the selected tab.
 * For a parent's admins the account's name opens the switcher of the accounts they manage.
 */
export function PageHeader() {
  const { t } = useLocale()
  const { session, accountId, accountName, descendants, signedOut } = useSession()
  const [leaving, setLeaving] = useState(false)
  const leave = async () => {
    setLeaving(true)
    await signOut().catch(() => undefined)
    signedOut()
  }
  return (
    <header className="page-header">
      <div className="topbar">
        <span className="topbar-account">
          <span className="brand-logo" aria-hidden="true" />
          {descendants.length > 0 ? <AccountSwitcher /> : <span className="account-name">{accountName}</span>}
        </span>
        <div className="topbar-tools">
          <span className="signed-in">
            {session.name} <span className="role">{t.roles[session.role]}</span>
          </span>
          <LanguageSwitch />
          <button type="button" className="link" onClick={() => void leave()} disabled={leaving}>
            {t.signOut}
          </button>
        </div>
      </div>
      <div className="title-row">
        <h1 id={PAGE_TITLE_ID} tabIndex={-1}>
          {t.accountAndBilling}
        </h1>
        <nav aria-label={t.pageSections}>
          <ul className="tabs">
            <li>
              <a href={addressOf(accountId, session.accountId)} aria-current="page">
                {t.companyInformation}
              </a>
            </li>
          </ul>
        </nav>
      </div>
    </header>
  )
}
