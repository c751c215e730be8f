import { useCallback, useEffect, useMemo, useState } from 'react'

import { getSession, signIn } from './api/account.ts'
import type { PageSession } from './api/types.ts'
import { SettingsPage } from './components/SettingsPage.tsx'
import { SignedOut } from './components/SignedOut.tsx'
import { type Locale, STRINGS } from './i18n.ts'
import { guessLocale, storedLocale, storeLocale } from './locale.ts'
import { LocaleContext, SessionContext } from './page-context.ts'

type State = { phase: 'loading' } | { phase: 'signed-out' } | { phase: 'ready'; session: PageSession }

let starting: Promise<PageSession> | undefined

/**
 * Who is signed in. A sign-in link (`/ui/sign-in#token=acs_...`) is exchanged for the cookie
 * session; the token leaves the address bar (and the history) before anything else happens.
 * Started once, even when React runs effects twice in development.
 */
function start(): Promise<PageSession> {
  starting ??= (async () => {
    const token = new URLSearchParams(location.hash.slice(1)).get('token')
    if (token) {
      history.replaceState(null, '', '/ui/')
      await signIn(token)
    }
    return getSession()
  })()
  return starting
}

export function App() {
  const [state, setState] = useState<State>({ phase: 'loading' })
  const [chosen, setChosen] = useState<Locale | undefined>(storedLocale)
  // the reader's own choice, else the user's (or the account's) language, as the session says
  const locale: Locale = chosen ?? (state.phase === 'ready' ? state.session.locale : guessLocale())

  useEffect(() => {
    start().then(
      (session) => setState({ phase: 'ready', session }),
      () => setState({ phase: 'signed-out' }),
    )
  }, [])
  useEffect(() => {
    document.documentElement.lang = locale
    document.title = STRINGS[locale].accountAndBilling
  }, [locale])

  const setLocale = useCallback((l: Locale) => {
    storeLocale(l)
    setChosen(l)
  }, [])
  const signedOut = useCallback(() => setState({ phase: 'signed-out' }), [])
  const localeValue = useMemo(() => ({ locale, t: STRINGS[locale], setLocale }), [locale, setLocale])
  const sessionValue = useMemo(
    () => state.phase === 'ready' && { session: state.session, canEdit: state.session.role !== 'member', signedOut },
    [state, signedOut],
  )

  return (
    <LocaleContext value={localeValue}>
      {sessionValue ? (
        <SessionContext value={sessionValue}>
          <SettingsPage />
        </SessionContext>
      ) : (
        <SignedOut loading={state.phase === 'loading'} />
      )}
    </LocaleContext>
  )
}
