import { createContext, useContext } from 'react'

import type { DescendantHealth, PageSession } from './api/types.ts'
import type { Locale, Strings } from './i18n.ts'

export interface LocaleValue {
  locale: Locale
  t: Strings
  setLocale(locale: Locale): void
}

export const LocaleContext = createContext<LocaleValue | null>(null)

/** The page's language and its words. */
export function useLocale(): LocaleValue {
  const v = useContext(LocaleContext)
  if (!v) throw new Error('useLocale outside <LocaleContext>')
  return v
}

export interface SessionValue {
  /** Who is signed in, and their own account. */
  session: PageSession
  /** The account whose page this is: the user's own, or one below it that its admins manage (issue 16). */
  accountId: string
  accountName: string
  /** The accounts below the user's own, with their health, for a parent's admins; empty for everyone else. */
  descendants: readonly DescendantHealth[]
  /** Shows the page of the user's own account or of one of `descendants`; the address follows. */
  showAccount(accountId: string): void
  /** The address named an account the user does not manage, so their own is shown instead. */
  notManaged: boolean
  /** Super and billing admins change the contacts; members only read them (docs/PRODUCT.md, "Who may change what"). */
  canEdit: boolean
  /** Called when the server says the session is gone (401). */
  signedOut(): void
}

export const SessionContext = createContext<SessionValue | null>(null)

export function useSession(): SessionValue {
  const v = useContext(SessionContext)
  if (!v) throw new Error('useSession outside <SessionContext>')
  return v
}
