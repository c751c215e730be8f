import { useLocale } from '../page-context.ts'
import { LanguageSwitch } from './LanguageSwitch.tsx'

/** Before the session is known, and after it is gone. */
export function SignedOut({ loading }: { loading: boolean }) {
  const { t } = useLocale()
  return (
    <>
      <header className="page-header">
        <div className="topbar">
          <span className="account-name" />
          <div className="topbar-tools">
            <LanguageSwitch />
          </div>
        </div>
        <div className="title-row">
          <h1>{t.accountAndBilling}</h1>
        </div>
      </header>
      <main id="main" aria-busy={loading || undefined}>
        <p className={loading ? 'loading' : 'signed-out'} role={loading ? undefined : 'status'}>
          {loading ? t.loading : t.signedOut}
        </p>
      </main>
    </>
  )
}
