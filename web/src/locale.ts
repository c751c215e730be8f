import { type Locale, STRINGS } from './i18n.ts'

const STORAGE_KEY = 'account-contacts.locale'

const isLocale = (v: unknown): v is Locale => typeof v === 'string' && v in STRINGS

/** The language the reader chose with the switch, if they ever did. */
export function storedLocale(): Locale | undefined {
  try {
    const v = localStorage.getItem(STORAGE_KEY)
    return isLocale(v) ? v : undefined
  } catch {
    return undefined // storage blocked: the choice lasts as long as the page
  }
}

export function storeLocale(locale: Locale): void {
  try {
    localStorage.setItem(STORAGE_KEY, locale)
  } catch {
    // as above
  }
}

/** Before anyone is known (the signed-out page): the stored choice, else the browser's language. */
export function guessLocale(): Locale {
  return storedLocale() ?? (navigator.language.toLowerCase().startsWith('fi') ? 'fi' : 'en')
}
