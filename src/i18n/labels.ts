/**
 * Words the product shows people, in English and Finnish: one table for the settings page and the
 * mail, so that both name each slot, category and page section the same way.
 */
import type { SlotName } from '../contacts/contact-slots.ts'
import { SENDABLE_CATEGORIES } from '../routing/categories.ts'

export type Locale = 'en' | 'fi'
export const LOCALES = ['en', 'fi'] as const satisfies readonly Locale[]

/** Notification categories (docs/PRODUCT.md, "Routing: who receives what"): the sendable ones, and the system-only `contact_changed`. */
export const CATEGORIES = [...SENDABLE_CATEGORIES, 'contact_changed'] as const
export type Category = (typeof CATEGORIES)[number]

/** A slot as a heading or a field label (capitalised). */
/** Small counts as words, as sentences read them ("up to three"); a larger one as digits. */
const NUMBER_WORDS: Record<Locale, readonly string[]> = {
  en: ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'],
  fi: ['nolla', 'yksi', 'kaksi', 'kolme', 'neljä', 'viisi', 'kuusi', 'seitsemän', 'kahdeksan', 'yhdeksän', 'kymmenen'],
}
export const inWords = (n: number, locale: Locale): string => NUMBER_WORDS[locale][n] ?? String(n)

export const SLOT_LABELS: Record<Locale, Record<SlotName, string>> = {
  en: {
    primary: 'Primary account contact',
    billing: 'Billing contact',
    decisionMaker: 'Decision maker',
    onboarding: 'Onboarding contact',
    security: 'Security contact',
    technicalAdmin: 'Technical administrator',
  },
  fi: {
    primary: 'Ensisijainen tilin yhteyshenkilö',
    billing: 'Laskutusyhteyshenkilö',
    decisionMaker: 'Päätöksentekijä',
    onboarding: 'Käyttöönoton yhteyshenkilö',
    security: 'Turvallisuusyhteyshenkilö',
    technicalAdmin: 'Tekninen ylläpitäjä',
  },
}

/**
 * A slot inside a sentence ("you are no longer the security contact"). Finnish uses the
 * running-text form: the label is "Ensisijainen tilin yhteyshenkilö", but in a sentence it is
 * "ensisijainen tiliyhteyshenkilö", which also avoids "tilin X ensisijainen tilin yhteyshenkilö".
 */
export const SLOT_NOUNS: Record<Locale, Record<SlotName, string>> = {
  en: {
    primary: 'primary account contact',
    billing: 'billing contact',
    decisionMaker: 'decision maker',
    onboarding: 'onboarding contact',
    security: 'security contact',
    technicalAdmin: 'technical administrator',
  },
  fi: {
    primary: 'ensisijainen tiliyhteyshenkilö',
    billing: 'laskutusyhteyshenkilö',
    decisionMaker: 'päätöksentekijä',
    onboarding: 'käyttöönoton yhteyshenkilö',
    security: 'turvallisuusyhteyshenkilö',
    technicalAdmin: 'tekninen ylläpitäjä',
  },
}

/** The slots in running text, each once: "the decision maker and security contact". */
export function slotNouns(slots: readonly SlotName[], locale: Locale): string {
  const unique = [...new Set(slots)]
  if (unique.length === 0) return locale === 'fi' ? 'yhteyshenkilö' : 'contact'
  return listJoin(
    unique.map((s) => SLOT_NOUNS[locale][s]),
    locale,
  )
}

/**
 * Categories as labels. All are plural nouns, so they can be quoted in a sentence in either
 * language without inflecting them ("messages in the category “Invoices”").
 */
export const CATEGORY_LABELS: Record<Locale, Record<Category, string>> = {
  en: {
    invoice: 'Invoices',
    receipt: 'Receipts',
    subscription: 'Subscriptions',
    renewal: 'Renewal notices',
    account_update: 'Account updates',
    security: 'Security notices',
    onboarding: 'Onboarding messages',
    technical: 'Technical notices',
    commercial: 'Commercial messages',
    contacts_review: 'Contact review reminders',
    contact_changed: 'Contact change notices',
  },
  fi: {
    invoice: 'Laskut',
    receipt: 'Kuitit',
    subscription: 'Tilaukset',
    renewal: 'Uusimisilmoitukset',
    account_update: 'Tilin päivitykset',
    security: 'Turvallisuusilmoitukset',
    onboarding: 'Käyttöönottoviestit',
    technical: 'Tekniset ilmoitukset',
    commercial: 'Kaupalliset viestit',
    contacts_review: 'Yhteyshenkilöiden tarkistusmuistutukset',
    contact_changed: 'Ilmoitukset yhteyshenkilön vaihtumisesta',
  },
}

/** The settings page's fixed words (docs/PRODUCT.md, "The settings page"). */
export const PAGE_LABELS = {
  en: {
    accountAndBilling: 'Account & Billing',
    companyInformation: 'Company information',
    primarySection: 'Primary account contact',
    billingSection: 'Billing contacts',
    otherContacts: 'Other contacts',
    selectUser: 'Select a user',
    addAnother: 'Add another',
  },
  fi: {
    accountAndBilling: 'Tili ja laskutus',
    companyInformation: 'Yritystiedot',
    primarySection: 'Ensisijainen tilin yhteyshenkilö',
    billingSection: 'Laskutusyhteyshenkilöt',
    otherContacts: 'Muut yhteystiedot',
    selectUser: 'Valitse käyttäjä',
    addAnother: 'Lisää toinen',
  },
} as const satisfies Record<Locale, Record<string, string>>

/** How mail names the author of a change who is not a user: an API key's caller (the platform), or the system itself. */
export const CALLER_NAMES: Record<Locale, { platform: string; system: string }> = {
  en: { platform: 'an administrator, through the service', system: 'the system' },
  fi: { platform: 'ylläpitäjä palvelun kautta', system: 'järjestelmä' },
}

const EN_MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
] as const

/**
 * A calendar date, in UTC so that the same instant prints the same everywhere (a server's zone
 * is not the reader's). Built by hand rather than with Intl so it cannot vary with the ICU data
 * of the Node build. fi: 27.11.2026; en: 27 November 2026.
 */
export function formatDate(date: Date, locale: Locale): string {
  const d = date.getUTCDate()
  const m = date.getUTCMonth()
  const y = date.getUTCFullYear()
  return locale === 'fi' ? `${d}.${m + 1}.${y}` : `${d} ${EN_MONTHS[m]} ${y}`
}

/** "a", "a and b", "a, b and c" (no serial comma, which Finnish never uses either). */
export function listJoin(items: readonly string[], locale: Locale): string {
  const and = locale === 'fi' ? 'ja' : 'and'
  if (items.length <= 1) return items[0] ?? ''
  return `${items.slice(0, -1).join(', ')} ${and} ${items[items.length - 1]}`
}
