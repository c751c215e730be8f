/**
 * The page's words in English and Finnish. The labels the mail uses too (sections, slots,
 * categories) come from the server's table in src/i18n/labels.ts, so the page and the mail say the
 * same thing; the rest is here.
 */
import type { HealthProblemCode } from '../../src/account-health/account-health.schemas.ts'
import type { AuditAction } from '../../src/audit/audit-events.ts'
import { MAX_BILLING_CONTACTS, type SlotName } from '../../src/contacts/contact-slots.ts'
import { type CorrectionReason, REASON_TOLD, type RecipientRole, roleNouns } from '../../src/i18n/correction-text.ts'
import {
  CATEGORY_LABELS,
  formatDate,
  inWords,
  listJoin,
  type Locale,
  PAGE_LABELS,
  SLOT_LABELS,
  SLOT_NOUNS,
} from '../../src/i18n/labels.ts'
import type { Undeliverable, User } from './api/types.ts'
import { TREE_STRINGS } from './i18n-tree.ts'

export { CATEGORY_LABELS, formatDate, listJoin, type Locale, type RecipientRole, roleNouns, SLOT_LABELS, SLOT_NOUNS }

/** The page's fixed labels from src/i18n/labels.ts, as plain strings so that both languages fill the same shape. */
type PageLabels = Record<keyof (typeof PAGE_LABELS)['en'], string>

/** The billing list's limit, from the server's own constant, in each language. */
const MAX_BILLING = { en: inWords(MAX_BILLING_CONTACTS, 'en'), fi: inWords(MAX_BILLING_CONTACTS, 'fi') }

const en = {
  ...(PAGE_LABELS.en as PageLabels),
  tree: TREE_STRINGS.en,
  pageSections: 'Account & Billing pages',
  skipToMain: 'Skip to the contacts',
  language: 'Language',
  signOut: 'Sign out',
  loading: 'Loading…',
  signedOut: 'You are signed out; open the sign-in link from your product again.',
  roles: { super_admin: 'Super admin', billing_admin: 'Billing admin', member: 'Member' } as Record<
    User['role'],
    string
  >,
  readOnly: 'You can see the contacts but not change them: only super admins and billing admins of the account can.',
  save: 'Save',
  saved: 'Saved',
  cancel: 'Cancel',
  remove: 'Remove',
  notSet: 'Not set',
  primaryHelp:
    'The main user who works with the account every day. They receive all important account notices (including invoices, updates and renewals).',
  billingHelp: `Billing contacts receive copies of invoices, receipts, subscriptions and renewal notices. You can set up to ${MAX_BILLING.en}.`,
  billingFull: `The account has ${MAX_BILLING.en} billing contacts, the most it can have. Remove one to add another.`,
  otherHelp: 'Users in specific roles in your account. They receive the account messages that concern their role.',
  securityHelp:
    'For the security contact you can choose an existing user or enter a valid email address of someone who is not a user.',
  securityKind: 'The security contact is',
  securityKindUser: 'a user of the account',
  securityKindEmail: 'an email address',
  emailAddress: 'Email address of the security contact',
  allowedDomains: (d: string) => `The address must be in: ${d}.`,
  pending: 'Pending verification',
  verified: 'Verified',
  pendingHelp:
    'A verification link was sent to this address. Until it is opened, security notices go to the primary account contact.',
  resend: 'Resend verification email',
  resent: 'Verification email sent again',
  linkSent: (sent: string, until: string) => `The link was sent ${sent} and works until ${until}.`,
  linkExpired: (sent: string, until: string) =>
    `The link sent ${sent} stopped working ${until}: send a new one with "Resend verification email".`,
  reviewTitle: 'Are the contacts up to date?',
  reviewHelp:
    'The primary and billing contacts receive essential updates about the account. We recommend updating them regularly so that you do not miss critical messages.',
  lastReviewed: (date: string) => `Last confirmed up to date: ${date}`,
  neverReviewed: 'Not confirmed yet.',
  confirmReviewed: 'Confirm contacts are up to date',
  confirmedNow: 'Confirmed: the contacts are up to date',
  healthTitle: 'Warnings',
  healthOk: 'No warnings: the contacts are in order.',
  recipientsTitle: 'Who receives what',
  recipientsHelp: 'Where each kind of message goes now, and why. Send a test to check that the mail arrives.',
  colMessage: 'Message',
  colRecipients: 'Recipients, and why',
  colTest: 'Test',
  superAdmin: 'super admin',
  fallbackPrimary: 'Nobody holds the role, so it goes to the primary account contact.',
  fallbackSuperAdmins: 'No contact is set for it, so it goes to the account’s super admins.',
  nobody: 'Nobody: the message could not be delivered.',
  securityWhenVerified: (email: string) => `${email} will receive these too once the address is verified.`,
  sendTest: 'Send test',
  testSent: (n: number) => `Test message sent to ${n} ${n === 1 ? 'recipient' : 'recipients'}`,
  historyTitle: 'History',
  historyEmpty: 'No changes yet.',
  loadMore: 'Load more',
  colWhen: 'When',
  colWho: 'Who',
  colWhat: 'What',
  apiKey: 'The platform (API key)',
  system: 'The system',
  actions: {
    'account.created': 'Account created',
    'account.updated': 'Account details changed',
    'account.deleted': 'Account deleted',
    'user.created': 'User added',
    'user.updated': 'User changed',
    'user.deactivated': 'User deactivated',
    'user.reactivated': 'User reactivated',
    'contacts.updated': 'Contacts changed',
    'contacts.vacated': 'Contacts vacated when a user was deactivated',
    'contacts.reviewed': 'Contacts confirmed up to date',
    'contacts.undeliverable': 'Mail to a contact does not arrive',
    'contacts.correction_requested': 'A recipient said they are the wrong one',
    'contacts.correction_dismissed': 'Correction request dismissed',
    'suppression.cleared': 'Address marked as working again',
    'notification.resent': 'Notification sent again',
    'session.created': 'Sign-in link created',
  } satisfies Record<AuditAction, string>,
  demoTitle: 'Sent mail (demo)',
  demoHelp: 'There is no mail server here, so messages are written as .eml files instead of being sent. Newest first.',
  demoEmpty: 'No mail yet.',
  refresh: 'Refresh',
  colDate: 'Date',
  colTo: 'To',
  colSubject: 'Subject',
  colFile: 'File',
  // a contact whose address is on the suppression list (docs/BOUNCES.md)
  undeliverable: (u: Undeliverable, date: string) =>
    u.kind === 'complaint'
      ? `No mail has gone to this address since ${date} (reported as spam).`
      : u.kind === 'soft_bounce'
        ? `Mail to this address has not arrived since ${date} (refused too many times: ${u.reason}).`
        : `Mail to this address has not arrived since ${date} (bounced: ${u.reason}).`,
  undeliverableFix: 'Choose another contact, or press “Mail works again” once the mailbox works.',
  undeliverableWait: 'Nothing is sent to it until an admin fixes the contact.',
  mailWorks: 'Mail works again',
  mailWorksDone: (email: string) => `Mail goes to ${email} again`,
  mailWorksPending: (email: string) => `${email} is pending verification again`,
  // the mail history: the account's notifications and their deliveries
  mailHistoryTitle: 'Mail history',
  mailHistoryHelp: 'The latest mail of the account, and whether it reached each recipient. Newest first.',
  mailHistoryEmpty: 'No mail yet.',
  /** Names of the service's own mail, which has no category label of the policy's. */
  systemMail: {
    verify_email: 'Address verifications',
    contact_undeliverable: 'Undeliverable contact notices',
    correction_requested: 'Wrong-recipient notices',
    slots_vacated: 'Vacated contact notices',
  } as Record<string, string>,
  testMail: 'Test',
  sentAt: 'Sent',
  recipientRoles: (labels: string, n: number) => `${n === 1 ? 'Role' : 'Roles'}: ${labels}`,
  /** Each delivery's status; keyed by string, since the schema's union of statuses reads as one in TypeScript. */
  deliveryStatus: {
    delivered: 'Delivered',
    queued: 'Waiting to be sent',
    sending: 'Being sent',
    retrying: 'Not delivered yet; trying again',
    failed: 'Could not be delivered',
    bounced: 'Bounced',
    cancelled: 'Cancelled',
  } as Record<string, string>,
  inPlaceOf: (email: string) => `Sent in place of ${email}`,
  // the banner of open correction requests (docs/CORRECTIONS.md): what the admins' mail says, on the page
  correctionsTitle: 'Mail that reached the wrong person',
  correctionsHelp:
    'Recipients used the “Not the right person?” link of these mails. Nothing was changed: choose who should receive them, then dismiss the request.',
  correctionsHelpReadOnly:
    'Recipients used the “Not the right person?” link of these mails. Nothing was changed; the account’s admins decide who should receive them.',
  /** Who said what: the address, then the same words as the admins' mail. */
  correctionSaid: (email: string, reason: CorrectionReason) => `${email} ${REASON_TOLD.en[reason]}.`,
  /** Which mail, why it came to them (the slots, in running text) and when they said so. */
  correctionAbout: (subject: string, category: string, roles: string, date: string) =>
    `About “${subject}” (${category}), which came to them as ${roles}. Reported on ${date}.`,
  correctionSuggests: (email: string) => `They suggest: ${email}`,
  correctionNote: (note: string) => `Their note: “${note}”`,
  correctionGoTo: (slot: SlotName) => `Go to the ${SLOT_NOUNS.en[slot]}`,
  dismiss: 'Dismiss',
  correctionDismissed: (email: string) => `Dismissed the request from ${email}`,
  resendMail: 'Send again to the current contacts',
  resentTo: (n: number) =>
    n === 0
      ? 'Nothing was sent again: everyone it goes to now was sent it already.'
      : `Sent again to ${n} ${n === 1 ? 'recipient' : 'recipients'}`,
  /** Health problems in words; English keeps the server's own sentence, which carries details. */
  health: null as Record<HealthProblemCode, string> | null,
  problems: {
    'validation-failed': 'Check this value: it is not valid.',
    invalidEmail: 'This is not a valid email address.',
    forbidden: 'You may not change the contacts: only super admins and billing admins can.',
    'not-found': 'It was not found; it may have just been removed. Reload the page.',
    'version-mismatch':
      'Someone else changed the contacts at the same time. The page now shows their change; make yours again.',
    'billing-contact-limit': `An account has at most ${MAX_BILLING.en} billing contacts; remove one before adding another.`,
    'duplicate-contact': 'This user is already a billing contact.',
    'user-not-active': 'This user is deactivated and cannot be a contact.',
    'user-not-in-account': 'This user is not a member of the account.',
    'external-email-not-allowed': 'Only the security contact may be an email address; choose a user.',
    'email-domain-not-allowed': 'The address is outside the domains this account allows.',
    'rate-limited': 'Too many changes in a short time; wait a moment and try again.',
    'verification-mail-limit': 'Too many verification mails were sent lately; nothing was changed. Try again later.',
    network: 'The service could not be reached; check the connection and try again.',
  } as Record<string, string>,
  problemDomains: (d: string) => `The address must be in one of the domains this account allows: ${d}.`,
  /** A conflict in words: who set the slot the change was about, to whom, when (`holders` empty: nobody). */
  conflictBy: (who: string, what: string, holders: string, when: string) =>
    `${who} set ${what} to ${holders || 'nobody'} at ${when}.`,
  conflictAfter: 'The page now shows it; make your change again if you still want it.',
  problemInternal: (ref: string) => `Something went wrong on our side; try again.${ref ? ` (Reference ${ref})` : ''}`,
}

export type Strings = typeof en

const fi: Strings = {
  ...PAGE_LABELS.fi,
  tree: TREE_STRINGS.fi,
  pageSections: 'Tili ja laskutus -sivut',
  skipToMain: 'Siirry yhteystietoihin',
  language: 'Kieli',
  signOut: 'Kirjaudu ulos',
  loading: 'Ladataan…',
  signedOut: 'Olet kirjautunut ulos. Avaa kirjautumislinkki uudelleen tuotteestasi.',
  roles: { super_admin: 'Pääkäyttäjä', billing_admin: 'Laskutuksen ylläpitäjä', member: 'Jäsen' },
  readOnly:
    'Voit tarkastella yhteystietoja mutta et muuttaa niitä: vain tilin pääkäyttäjät ja laskutuksen ylläpitäjät voivat muuttaa niitä.',
  save: 'Tallenna',
  saved: 'Tallennettu',
  cancel: 'Peruuta',
  remove: 'Poista',
  notSet: 'Ei määritetty',
  primaryHelp:
    'Tärkein käyttäjä, joka työskentelee tilin kanssa päivittäin. Hän saa kaikki tärkeät tili-ilmoitukset (mukaan lukien laskut, päivitykset ja uusinnat).',
  billingHelp: `Laskutusyhteyshenkilöt saavat kopiot laskuista, kuiteista, tilauksista ja uusimisilmoituksista. Voit määrittää enintään ${MAX_BILLING.fi} laskutusyhteyshenkilöä.`,
  billingFull: `Tilillä on ${MAX_BILLING.fi} laskutusyhteyshenkilöä, mikä on enimmäismäärä. Poista yksi, jos haluat lisätä toisen.`,
  otherHelp:
    'Käyttäjät, jotka on määritetty tiettyihin rooleihin tililläsi. He saavat tiliä koskevia viestejä, jotka koskevat juuri heidän rooliaan.',
  securityHelp:
    'Turvallisuusyhteystiedoksi voit valita olemassa olevan käyttäjän tai syöttää voimassa olevan sähköpostiosoitteen muulle kuin käyttäjälle.',
  securityKind: 'Turvallisuusyhteyshenkilö on',
  securityKindUser: 'tilin käyttäjä',
  securityKindEmail: 'sähköpostiosoite',
  emailAddress: 'Turvallisuusyhteyshenkilön sähköpostiosoite',
  allowedDomains: (d) => `Osoitteen on oltava jossakin näistä verkkotunnuksista: ${d}.`,
  pending: 'Odottaa vahvistusta',
  verified: 'Vahvistettu',
  pendingHelp:
    'Tähän osoitteeseen on lähetetty vahvistuslinkki. Kunnes linkki avataan, turvallisuusilmoitukset lähetetään ensisijaiselle tiliyhteyshenkilölle.',
  resend: 'Lähetä vahvistusviesti uudelleen',
  resent: 'Vahvistusviesti lähetettiin uudelleen',
  linkSent: (sent, until) => `Linkki lähetettiin ${sent}, ja se toimii ${until} asti.`,
  linkExpired: (sent, until) =>
    `${sent} lähetetty linkki lakkasi toimimasta ${until}. Lähetä uusi painikkeella ”Lähetä vahvistusviesti uudelleen”.`,
  reviewTitle: 'Ovatko yhteystiedot ajan tasalla?',
  reviewHelp:
    'Ensisijaiset yhteyshenkilöt ja laskutusyhteyshenkilöt saavat tiliäsi koskevat olennaiset päivitykset. On suositeltavaa päivittää nämä tiedot säännöllisesti, jotta et jää paitsi kriittisistä viesteistä.',
  lastReviewed: (date) => `Vahvistettu ajan tasalle viimeksi: ${date}`,
  neverReviewed: 'Ei vielä vahvistettu.',
  confirmReviewed: 'Vahvista, että yhteystiedot ovat ajan tasalla',
  confirmedNow: 'Vahvistettu: yhteystiedot ovat ajan tasalla',
  healthTitle: 'Huomautukset',
  healthOk: 'Ei huomautettavaa: yhteystiedot ovat kunnossa.',
  recipientsTitle: 'Kuka saa mitäkin viestejä',
  recipientsHelp:
    'Kenelle kukin viestityyppi nyt lähtee ja miksi. Lähetä testiviesti varmistaaksesi, että posti menee perille.',
  colMessage: 'Viesti',
  colRecipients: 'Vastaanottajat ja syy',
  colTest: 'Testi',
  superAdmin: 'pääkäyttäjä',
  fallbackPrimary: 'Kukaan ei hoida roolia, joten viesti menee ensisijaiselle tiliyhteyshenkilölle.',
  fallbackSuperAdmins: 'Yhteyshenkilöä ei ole määritetty, joten viesti menee tilin pääkäyttäjille.',
  nobody: 'Ei kenellekään: viestiä ei voitaisi toimittaa.',
  securityWhenVerified: (email) => `${email} saa nämä myös, kun osoite on vahvistettu.`,
  sendTest: 'Lähetä testi',
  testSent: (n) => `Testiviesti lähetetty ${n} vastaanottajalle`,
  historyTitle: 'Muutoshistoria',
  historyEmpty: 'Ei vielä muutoksia.',
  loadMore: 'Näytä lisää',
  colWhen: 'Aika',
  colWho: 'Tekijä',
  colWhat: 'Muutos',
  apiKey: 'Alusta (API-avain)',
  system: 'Järjestelmä',
  actions: {
    'account.created': 'Tili luotiin',
    'account.updated': 'Tilin tietoja muutettiin',
    'account.deleted': 'Tili poistettiin',
    'user.created': 'Käyttäjä lisättiin',
    'user.updated': 'Käyttäjän tietoja muutettiin',
    'user.deactivated': 'Käyttäjä poistettiin käytöstä',
    'user.reactivated': 'Käyttäjä otettiin uudelleen käyttöön',
    'contacts.updated': 'Yhteystietoja muutettiin',
    'contacts.vacated': 'Yhteystietoja vapautui, kun käyttäjä poistettiin käytöstä',
    'contacts.reviewed': 'Yhteystiedot vahvistettiin ajan tasalle',
    'contacts.undeliverable': 'Posti yhteyshenkilölle ei mene perille',
    'contacts.correction_requested': 'Vastaanottaja kertoi olevansa väärä henkilö',
    'contacts.correction_dismissed': 'Korjauspyyntö kuitattu',
    'suppression.cleared': 'Osoite merkittiin taas toimivaksi',
    'notification.resent': 'Ilmoitus lähetettiin uudelleen',
    'session.created': 'Kirjautumislinkki luotiin',
  },
  demoTitle: 'Lähetetyt viestit (demo)',
  demoHelp:
    'Sähköpostipalvelinta ei ole määritetty, joten viestit kirjoitetaan .eml-tiedostoiksi lähettämisen sijaan. Uusimmat ensin.',
  demoEmpty: 'Ei vielä viestejä.',
  refresh: 'Päivitä',
  colDate: 'Päivämäärä',
  colTo: 'Vastaanottaja',
  colSubject: 'Aihe',
  colFile: 'Tiedosto',
  undeliverable: (u, date) =>
    u.kind === 'complaint'
      ? `Tähän osoitteeseen ei ole lähetetty postia ${date} lähtien (merkitty roskapostiksi).`
      : u.kind === 'soft_bounce'
        ? `Posti tähän osoitteeseen ei ole mennyt perille ${date} lähtien (hylätty liian monta kertaa: ${u.reason}).`
        : `Posti tähän osoitteeseen ei ole mennyt perille ${date} lähtien (palautui: ${u.reason}).`,
  undeliverableFix: 'Valitse toinen yhteyshenkilö tai paina ”Posti toimii taas”, kun postilaatikko toimii.',
  undeliverableWait: 'Osoitteeseen ei lähetetä mitään, ennen kuin ylläpitäjä korjaa yhteystiedon.',
  mailWorks: 'Posti toimii taas',
  mailWorksDone: (email) => `Osoitteeseen ${email} lähetetään taas postia`,
  mailWorksPending: (email) => `${email} odottaa taas vahvistusta`,
  mailHistoryTitle: 'Viestihistoria',
  mailHistoryHelp: 'Tilin viimeisimmät viestit ja se, menivätkö ne perille kullekin vastaanottajalle. Uusimmat ensin.',
  mailHistoryEmpty: 'Ei vielä viestejä.',
  systemMail: {
    verify_email: 'Osoitteen vahvistukset',
    contact_undeliverable: 'Ilmoitukset toimimattomista osoitteista',
    correction_requested: 'Ilmoitukset vääristä vastaanottajista',
    slots_vacated: 'Ilmoitukset vapautuneista rooleista',
  },
  testMail: 'Testi',
  sentAt: 'Lähetetty',
  recipientRoles: (labels, n) => `${n === 1 ? 'Rooli' : 'Roolit'}: ${labels}`,
  deliveryStatus: {
    delivered: 'Toimitettu',
    queued: 'Odottaa lähetystä',
    sending: 'Lähetetään',
    retrying: 'Ei vielä perillä; yritetään uudelleen',
    failed: 'Toimitus epäonnistui',
    bounced: 'Palautui',
    cancelled: 'Peruttu',
  },
  inPlaceOf: (email) => `Lähetetty osoitteen ${email} sijaan`,
  correctionsTitle: 'Väärälle henkilölle menneet viestit',
  correctionsHelp:
    'Vastaanottajat ovat käyttäneet näiden viestien ”Väärä vastaanottaja?” -linkkiä. Mitään ei ole muutettu: valitse, kenelle viestit kuuluvat, ja kuittaa sitten pyyntö.',
  correctionsHelpReadOnly:
    'Vastaanottajat ovat käyttäneet näiden viestien ”Väärä vastaanottaja?” -linkkiä. Mitään ei ole muutettu; tilin ylläpitäjät päättävät, kenelle viestit kuuluvat.',
  correctionSaid: (email, reason) => `${email} ${REASON_TOLD.fi[reason]}.`,
  correctionAbout: (subject, category, roles, date) =>
    `Koskee viestiä ”${subject}” (${category}), jonka hän sai, koska on ${roles}. Ilmoitettu ${date}.`,
  correctionSuggests: (email) => `Ehdotus: ${email}`,
  correctionNote: (note) => `Hänen viestinsä: ”${note}”`,
  correctionGoTo: (slot) => `Siirry kohtaan ${SLOT_LABELS.fi[slot]}`,
  dismiss: 'Kuittaa',
  correctionDismissed: (email) => `Osoitteen ${email} pyyntö kuitattu`,
  resendMail: 'Lähetä uudelleen nykyisille yhteyshenkilöille',
  resentTo: (n) =>
    n === 0
      ? 'Mitään ei lähetetty uudelleen: viesti on jo lähetetty kaikille nykyisille vastaanottajille.'
      : `Lähetetty uudelleen ${n} vastaanottajalle`,
  health: {
    'no-primary-contact': 'Tilillä ei ole ensisijaista tiliyhteyshenkilöä.',
    'no-billing-contact': 'Tilillä ei ole laskutusyhteyshenkilöä.',
    'security-contact-unverified':
      'Turvallisuusyhteyshenkilön osoitetta ei ole vielä vahvistettu; turvallisuusilmoitukset menevät ensisijaiselle tiliyhteyshenkilölle.',
    'review-overdue': 'Yhteystietoja ei ole vahvistettu ajan tasalle pitkään aikaan.',
    'undeliverable-notifications':
      'Kaikkia viestejä ei ole voitu toimittaa perille: tarkista yhteyshenkilöiden osoitteet.',
  },
  problems: {
    'validation-failed': 'Tarkista arvo: se ei kelpaa.',
    invalidEmail: 'Tämä ei ole kelvollinen sähköpostiosoite.',
    forbidden: 'Sinulla ei ole oikeutta muuttaa yhteystietoja: vain pääkäyttäjät ja laskutuksen ylläpitäjät voivat.',
    'not-found': 'Kohdetta ei löytynyt; se on ehkä juuri poistettu. Lataa sivu uudelleen.',
    'version-mismatch':
      'Joku muu muutti yhteystietoja samaan aikaan. Sivulla näkyy nyt hänen muutoksensa; tee omasi uudelleen.',
    'billing-contact-limit': `Tilillä voi olla enintään ${MAX_BILLING.fi} laskutusyhteyshenkilöä; poista yksi ennen kuin lisäät toisen.`,
    'duplicate-contact': 'Tämä käyttäjä on jo laskutusyhteyshenkilö.',
    'user-not-active': 'Tämä käyttäjä on poistettu käytöstä, eikä hän voi olla yhteyshenkilö.',
    'user-not-in-account': 'Tämä käyttäjä ei kuulu tilille.',
    'external-email-not-allowed': 'Vain turvallisuusyhteyshenkilö voi olla pelkkä sähköpostiosoite; valitse käyttäjä.',
    'email-domain-not-allowed': 'Osoite ei ole tilin sallimissa verkkotunnuksissa.',
    'rate-limited': 'Liian monta muutosta lyhyessä ajassa; odota hetki ja yritä uudelleen.',
    'verification-mail-limit':
      'Vahvistusviestejä on lähetetty viime aikoina liian monta; mitään ei muutettu. Yritä myöhemmin uudelleen.',
    network: 'Palveluun ei saatu yhteyttä; tarkista verkkoyhteys ja yritä uudelleen.',
  },
  problemDomains: (d) => `Osoitteen on oltava jossakin tilin sallimista verkkotunnuksista: ${d}.`,
  conflictBy: (who, what, holders, when) => `${who} asetti kohtaan ”${what}” ${holders || 'ei ketään'} ${when}.`,
  conflictAfter: 'Sivu näyttää nyt muutoksen; tee oma muutoksesi uudelleen, jos haluat sen yhä.',
  problemInternal: (ref) => `Palvelussa tapahtui virhe; yritä uudelleen.${ref ? ` (Tunniste ${ref})` : ''}`,
}

export const STRINGS: Record<Locale, Strings> = { en, fi }

/** A category's label: the policy's categories and the service's own mail; an unknown one as it is. */
export function categoryLabel(category: string, locale: Locale, t: Strings): string {
  const labels: Record<string, string> = CATEGORY_LABELS[locale]
  return labels[category] ?? t.systemMail[category] ?? category
}

/** A date and time for the history and the mail list, in the reader's time zone. */
export function formatDateTime(iso: string, locale: Locale): string {
  const tag = locale === 'fi' ? 'fi-FI' : 'en-GB'
  return new Intl.DateTimeFormat(tag, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso))
}
