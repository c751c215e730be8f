/**
 * The words of "why you got this" and "Not the right person?": the line every account mail ends
 * with (corrections/why-line.ts) and the page its link opens (corrections/correction-page.ts), in
 * the languages accounts have.
 */
import type { SlotName } from '../contacts/contact-slots.ts'
import { listJoin, type Locale, SLOT_NOUNS } from './labels.ts'

/** What a recipient says in a correction request (corrections/corrections.table.ts). */
export type CorrectionReason = 'not_me' | 'left' | 'someone_else'
export const CORRECTION_REASONS = ['not_me', 'left', 'someone_else'] as const satisfies readonly CorrectionReason[]

/** A recipient's slots, or `super_admin` when nobody held one and the last fallback chose them. */
export type RecipientRole = SlotName | 'super_admin'

const ROLE_NOUNS: Record<Locale, Record<RecipientRole, string>> = {
  en: { ...SLOT_NOUNS.en, super_admin: 'super admin' },
  fi: { ...SLOT_NOUNS.fi, super_admin: 'pääkäyttäjä' },
}
/** The roles in running text, each once: "billing contact and decision maker". */
export const roleNouns = (rs: readonly RecipientRole[], locale: Locale) =>
  listJoin(
    [...new Set(rs)].map((r) => ROLE_NOUNS[locale][r]),
    locale,
  )

export interface WhyText {
  /** Why this recipient gets this account's mail. */
  because: (roles: readonly RecipientRole[], account: string) => string
  /** For a holder of a parent account's slot: whose contact they are, and which account the mail is about. */
  becauseAbove: (roles: readonly RecipientRole[], holder: string, account: string) => string
  /** Added when the mail came to them because it did not arrive at another address. */
  inPlaceOf: (address: string) => string
  notRight: string
}

export const WHY_TEXT: Record<Locale, WhyText> = {
  en: {
    because: (rs, account) => `You receive this as ${roleNouns(rs, 'en')} of ${account}.`,
    becauseAbove: (rs, holder, account) =>
      `You receive this as ${roleNouns(rs, 'en')} of ${holder}, for its account ${account}.`,
    inPlaceOf: (address) => `It was meant for ${address}, where mail does not arrive.`,
    notRight: 'Not the right person? Tell the account’s administrators:',
  },
  fi: {
    because: (rs, account) => `Saat tämän viestin, koska olet tilin ${account} ${roleNouns(rs, 'fi')}.`,
    becauseAbove: (rs, holder, account) =>
      `Saat tämän viestin, koska olet tilin ${holder} ${roleNouns(rs, 'fi')}; viesti koskee sen tiliä ${account}.`,
    inPlaceOf: (address) => `Viesti oli tarkoitettu osoitteeseen ${address}, johon posti ei mene perille.`,
    notRight: 'Väärä vastaanottaja? Kerro siitä tilin ylläpitäjille:',
  },
}

export interface CorrectionPageText {
  title: string
  /** What the page is about: which mail came, to whom, as what. */
  intro: (subject: string, email: string, because: string) => string
  legend: string
  reasons: Record<CorrectionReason, string>
  suggested: string
  suggestedHint: string
  note: string
  button: string
  /** After sending: nothing changed yet, the admins decide. */
  thanks: (account: string) => string
  used: string
  bad: string
  /** Too many requests for the account today. */
  limited: string
  /** Someone else was chosen, but no address given, or one that is not an address. */
  needAddress: string
}

export const CORRECTION_PAGE_TEXT: Record<Locale, CorrectionPageText> = {
  en: {
    title: 'Not the right person?',
    intro: (subject, email, because) => `The message “${subject}” came to ${email}. ${because}`,
    legend: 'What should the account’s administrators know?',
    reasons: {
      not_me: 'This is not me: the address is wrong',
      left: 'I no longer work there, or no longer do this',
      someone_else: 'Someone else should receive these',
    },
    suggested: 'Who should receive them instead (email address)',
    suggestedHint:
      'Needed for the last answer, optional for the others. The administrators decide; nothing changes until they do.',
    note: 'Anything else (optional)',
    button: 'Send to the administrators',
    thanks: (account) =>
      `Thank you. The administrators of ${account} have been told. Nothing changes until they change the contact, so you may still receive messages until then.`,
    used: 'This link was used already: the administrators have been told. Thank you.',
    bad: 'This link is not valid any more: it is too old, or the message it came in no longer exists.',
    limited: 'This account has received many such requests today. Please try again tomorrow.',
    needAddress: 'Give the address of the person who should receive these, or choose another answer.',
  },
  fi: {
    title: 'Väärä vastaanottaja?',
    intro: (subject, email, because) => `Viesti ”${subject}” tuli osoitteeseen ${email}. ${because}`,
    legend: 'Mitä tilin ylläpitäjien pitäisi tietää?',
    reasons: {
      not_me: 'Tämä en ole minä: osoite on väärä',
      left: 'En työskentele siellä enää tai en hoida tätä enää',
      someone_else: 'Nämä viestit kuuluvat jollekulle muulle',
    },
    suggested: 'Kenelle viestit pitäisi lähettää (sähköpostiosoite)',
    suggestedHint:
      'Tarvitaan viimeiseen vastaukseen, muihin vapaaehtoinen. Ylläpitäjät päättävät; mikään ei muutu ennen sitä.',
    note: 'Muuta kerrottavaa (vapaaehtoinen)',
    button: 'Lähetä ylläpitäjille',
    thanks: (account) =>
      `Kiitos. Tilin ${account} ylläpitäjille on kerrottu. Mikään ei muutu ennen kuin he vaihtavat yhteyshenkilön, joten voit saada viestejä siihen asti.`,
    used: 'Tämä linkki on jo käytetty: ylläpitäjille on kerrottu. Kiitos.',
    bad: 'Linkki ei ole enää voimassa: se on liian vanha, tai viestiä, jossa se tuli, ei enää ole.',
    limited: 'Tälle tilille on tänään tullut monta tällaista pyyntöä. Yritä uudelleen huomenna.',
    needAddress: 'Anna sen henkilön osoite, jolle viestit kuuluvat, tai valitse toinen vastaus.',
  },
}

/** What the request says, as the admins' mail and the page's banner tell it (after the address). */
export const REASON_TOLD: Record<Locale, Record<CorrectionReason, string>> = {
  en: {
    not_me: 'says the address is wrong: the mail is not for them',
    left: 'says they no longer work there, or no longer do this',
    someone_else: 'says someone else should receive these',
  },
  fi: {
    not_me: 'kertoo, että osoite on väärä: viesti ei kuulu hänelle',
    left: 'kertoo, ettei enää työskentele siellä tai hoida tätä',
    someone_else: 'kertoo, että viestit kuuluvat jollekulle muulle',
  },
}
