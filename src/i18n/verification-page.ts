/**
 * The words of the pages an outside security address's verification link opens (the page itself
 * is built in verification/verification-page.ts), in the languages accounts have.
 */
import type { Locale } from './labels.ts'

export interface VerificationPageText {
  /** The question the link's page asks before anything changes. */
  confirm: (email: string, account: string) => string
  button: string
  ok: (email: string, account: string) => string
  /** A link used already, expired, or for an address that was changed since. */
  bad: string
  title: string
}

export const VERIFICATION_PAGE_TEXT: Record<Locale, VerificationPageText> = {
  en: {
    confirm: (email, account) => `Confirm that ${email} is the security contact of ${account}.`,
    button: 'Confirm',
    ok: (email, account) => `Thank you. ${email} is now the verified security contact of ${account}.`,
    bad: "This link is not valid any more: it was used already, it expired, or the address was changed. Ask the account's administrator to send a new one.",
    title: 'Security contact',
  },
  fi: {
    confirm: (email, account) => `Vahvista, että ${email} on tilin ${account} turvallisuusyhteyshenkilö.`,
    button: 'Vahvista',
    ok: (email, account) => `Kiitos. ${email} on nyt tilin ${account} vahvistettu turvallisuusyhteyshenkilö.`,
    bad: 'Linkki ei ole enää voimassa: se on jo käytetty, se on vanhentunut tai osoite on vaihdettu. Pyydä tilin ylläpitäjää lähettämään uusi.',
    title: 'Turvallisuusyhteyshenkilö',
  },
}

/** The heading as HTML: the Finnish word is too long for a 320-pixel screen without hyphenation points. */
export const VERIFICATION_PAGE_HEADING_HTML: Record<Locale, string> = {
  en: 'Security contact',
  fi: 'Turvallisuus&shy;yhteys&shy;henkilö',
}
