import { createContext, useContext } from 'react'

import type { PageSession } from './api/types.ts'
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
  session: PageSession
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
