import type { Locale } from '../i18n.ts'
import { useLocale } from '../page-context.ts'

/** Each language named in itself, so a reader finds theirs whatever the page is in now. */
const NAMES: Record<Locale, string> = { en: 'English', fi: 'Suomi' }

/** English or Finnish; the choice is kept in the browser (see locale.ts). */
export function LanguageSwitch() {
  const { t, locale, setLocale } = useLocale()
  return (
    <div className="language-switch" role="group" aria-label={t.language}>
      {(Object.keys(NAMES) as Locale[]).map((l) => (
        <button key={l} type="button" lang={l} aria-pressed={l === locale} onClick={() => setLocale(l)}>
          {NAMES[l]}
        </button>
      ))}
    </div>
  )
}
