import { useCallback, useEffect, useMemo, useRef, useState } from 'react'

import { getSession, listDescendants, signIn } from './api/account.ts'
import type { DescendantHealth, PageSession } from './api/types.ts'
import { PAGE_TITLE_ID } from './components/PageHeader.tsx'
import { SettingsPage } from './components/SettingsPage.tsx'
import { SignedOut } from './components/SignedOut.tsx'
import { type Locale, STRINGS } from './i18n.ts'
import { guessLocale, storedLocale, storeLocale } from './locale.ts'
import { LocaleContext, SessionContext, type SessionValue } from './page-context.ts'
import { accountInAddress, addressOf } from './shown-account.ts'

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
  // the account the address asks for, and the accounts below the user's own (null: not read yet)
  const [wanted, setWanted] = useState<string | null>(accountInAddress)
  const [descendants, setDescendants] = useState<DescendantHealth[] | null>(null)
  // after a switch, focus goes to the new page's heading, as after any page load a reader chose
  const focusTitle = useRef(false)
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

  const session = state.phase === 'ready' ? state.session : null
  // read again at every switch, so that the health markers say what the last change did
  useEffect(() => {
    if (!session) return
    if (session.role === 'member') {
      setDescendants([])
      return
    }
    let live = true
    listDescendants(session.accountId).then(
      (d) => live && setDescendants(d.data),
      () => live && setDescendants([]),
    )
    return () => {
      live = false
    }
  }, [session, wanted])
  useEffect(() => {
    const follow = () => setWanted(accountInAddress())
    addEventListener('popstate', follow)
    return () => removeEventListener('popstate', follow)
  }, [])

  // only the user's own account, or one the descendants route lists
  const own = session?.accountId
  const target = wanted ?? own
  const entry = descendants?.find((d) => d.accountId === target)
  const pending = target !== own && descendants === null
  const notManaged = target !== own && descendants !== null && !entry
  const shown = entry?.accountId ?? own
  useEffect(() => {
    if (notManaged) history.replaceState(null, '', '/ui/')
  }, [notManaged])
  useEffect(() => {
    if (!shown || !focusTitle.current) return
    focusTitle.current = false
    document.getElementById(PAGE_TITLE_ID)?.focus()
  }, [shown])

  const showAccount = useCallback(
    (accountId: string) => {
      // the page already shown stays as it is, with no second entry in the history
      if (!own || accountId === shown) return
      focusTitle.current = true
      history.pushState(null, '', addressOf(accountId, own))
      setWanted(accountId)
    },
    [own, shown],
  )

  const setLocale = useCallback((l: Locale) => {
    storeLocale(l)
    setChosen(l)
  }, [])
  const signedOut = useCallback(() => setState({ phase: 'signed-out' }), [])
  const localeValue = useMemo(() => ({ locale, t: STRINGS[locale], setLocale }), [locale, setLocale])
  const sessionValue = useMemo(
    (): SessionValue | null =>
      session && !pending
        ? {
            session,
            accountId: shown ?? session.accountId,
            accountName: entry?.name ?? session.accountName,
            descendants: descendants ?? [],
            showAccount,
            notManaged,
            canEdit: session.role !== 'member',
            signedOut,
          }
        : null,
    [session, pending, shown, entry, descendants, showAccount, notManaged, signedOut],
  )

  return (
    <LocaleContext value={localeValue}>
      {sessionValue ? (
        <SessionContext value={sessionValue}>
          {/* a page of its own for each account: nothing typed or saved on one shows on another */}
          <SettingsPage key={sessionValue.accountId} />
        </SessionContext>
      ) : (
        <SignedOut loading={state.phase === 'loading' || pending} />
      )}
    </LocaleContext>
  )
}
