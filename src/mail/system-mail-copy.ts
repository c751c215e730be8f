/**
 * The words of the mail the service writes itself, in English and Finnish: one drafter per kind
 * and language, returning plain blocks that system-mail.ts renders to text and to HTML.
 */
import { REASON_TOLD, roleNouns } from '../i18n/correction-text.ts'
import { CATEGORY_LABELS, formatDate, type Locale, PAGE_LABELS, SLOT_LABELS, slotNouns } from '../i18n/labels.ts'
import { VERIFICATION_TTL_MS } from '../verification/verification-ttl.ts'
import type { Draft, SystemMail, SystemMailKind } from './system-mail.ts'

/** The verification link's lifetime in days (docs/PRODUCT.md, "Outside security addresses"), as the mail states it. */
const VERIFY_LINK_DAYS = VERIFICATION_TTL_MS / (24 * 60 * 60 * 1000)

/** A reporting server's reason, as quoted in mail: short, and without links it could make look like ours. */
const quoteReason = (reason: string) => reason.replace(/https?:\/\/\S+/gi, '[link]').slice(0, 200)

/** Where an admin sets contacts, named as the settings page names it: "Account & Billing > Company information". */
const settingsPath = (locale: Locale) =>
  `${PAGE_LABELS[locale].accountAndBilling} > ${PAGE_LABELS[locale].companyInformation}`

type Drafters = { [K in SystemMailKind]: Record<Locale, (mail: Extract<SystemMail, { kind: K }>) => Draft> }

export const DRAFTS: Drafters = {
  'verify-email': {
    en: (m) => ({
      subject: `Confirm your email address as security contact for ${m.accountName}`,
      blocks: [
        { text: 'Hello,' },
        {
          text: `${m.email} has been set as the security contact for the account ${m.accountName}. Once you confirm the address, security notices about the account will be sent to it.`,
        },
        { text: 'To confirm your email address, open this link and press Confirm on the page:', link: m.link },
        {
          text: `The link is valid for ${VERIFY_LINK_DAYS} days, until ${formatDate(m.expiresAt, 'en')}. If you did not expect this message, you can ignore it: nothing will be sent to this address unless it is confirmed.`,
        },
      ],
    }),
    fi: (m) => ({
      subject: `Vahvista sähköpostiosoitteesi tilin ${m.accountName} turvallisuusyhteyshenkilönä`,
      blocks: [
        { text: 'Hei,' },
        {
          text: `Osoite ${m.email} on määritetty tilin ${m.accountName} turvallisuusyhteyshenkilöksi. Kun olet vahvistanut osoitteen, tiliä koskevat turvallisuusilmoitukset lähetetään siihen.`,
        },
        { text: 'Vahvista sähköpostiosoitteesi avaamalla tämä linkki ja painamalla sivulla Vahvista:', link: m.link },
        {
          text: `Linkki on voimassa ${VERIFY_LINK_DAYS} päivää, ${formatDate(m.expiresAt, 'fi')} asti. Jos et odottanut tätä viestiä, voit jättää sen huomiotta: tähän osoitteeseen ei lähetetä mitään, ellei sitä vahvisteta.`,
        },
      ],
    }),
  },

  // Sent to the previous holder so that a wrong or hostile change does not go unnoticed.
  'contact-changed': {
    en: (m) => {
      const slots = slotNouns(m.slots, 'en')
      const many = new Set(m.slots).size > 1
      return {
        subject: `You are no longer the ${slots} for ${m.accountName}`,
        blocks: [
          { text: `Hello ${m.previousName},` },
          { text: `You are no longer the ${slots} for ${m.accountName}. The change was made by ${m.changedBy}.` },
          {
            text: m.newHolder
              ? `${m.newHolder} has taken over from you.`
              : `No one has been chosen in your place, so ${many ? 'these roles are' : 'this role is'} now empty.`,
          },
          { text: 'If this change is wrong or unexpected, contact an administrator of your account.' },
          { text: 'You receive this message so that a change you did not expect does not go unnoticed.' },
        ],
      }
    },
    fi: (m) => {
      const slots = slotNouns(m.slots, 'fi')
      const many = new Set(m.slots).size > 1
      return {
        subject: `Et ole enää tilin ${m.accountName} ${slots}`,
        blocks: [
          { text: `Hei ${m.previousName},` },
          { text: `Et ole enää tilin ${m.accountName} ${slots}. Muutoksen teki ${m.changedBy}.` },
          {
            text: m.newHolder
              ? `Tilallesi on valittu ${m.newHolder}.`
              : `Tilallesi ei ole valittu ketään, joten ${many ? 'tehtävät ovat nyt vapaina' : 'tehtävä on nyt vapaana'}.`,
          },
          { text: 'Jos muutos on virheellinen tai odottamaton, ota yhteyttä tilisi pääkäyttäjään.' },
          { text: 'Saat tämän viestin, jotta odottamaton muutos ei jää huomaamatta.' },
        ],
      }
    },
  },

  // To the super admins: a deactivated user's slots were vacated in the same transaction (docs/PRODUCT.md, "Users").
  'slots-vacated': {
    en: (m) => {
      const many = new Set(m.slots).size > 1
      return {
        subject: `Choose new contacts for ${m.accountName}`,
        blocks: [
          { text: 'Hello,' },
          {
            text: `${m.userName} has been deactivated in the account ${m.accountName}. ${many ? 'The contact roles they held are' : 'The contact role they held is'} now empty:`,
          },
          { items: [...new Set(m.slots)].map((s) => SLOT_LABELS.en[s]) },
          {
            text: `Choose new contacts so that no critical message is missed. You can do this under ${settingsPath('en')}:`,
            link: m.settingsUrl,
          },
        ],
      }
    },
    fi: (m) => {
      const many = new Set(m.slots).size > 1
      return {
        subject: `Valitse tilille ${m.accountName} uudet yhteyshenkilöt`,
        blocks: [
          { text: 'Hei,' },
          {
            text: `Tilin ${m.accountName} käyttäjä ${m.userName} on poistettu käytöstä. ${many ? 'Tehtävät, jotka hänellä olivat, ovat' : 'Tehtävä, joka hänellä oli, on'} nyt ${many ? 'vapaina' : 'vapaana'}:`,
          },
          { items: [...new Set(m.slots)].map((s) => SLOT_LABELS.fi[s]) },
          {
            text: `Valitse uudet yhteyshenkilöt, jotta ette jää paitsi kriittisistä viesteistä. Voit tehdä sen kohdassa ${settingsPath('fi')}:`,
            link: m.settingsUrl,
          },
        ],
      }
    },
  },

  // The reminder says why the review matters: these contacts are who receives the critical messages
  // (docs/PRODUCT.md, "Routing: who receives what", review reminders).
  'contacts-review': {
    en: (m) => ({
      subject: `Are the contacts for ${m.accountName} still up to date?`,
      blocks: [
        { text: 'Hello,' },
        {
          text: m.lastReviewedAt
            ? `The contacts of the account ${m.accountName} were last reviewed on ${formatDate(m.lastReviewedAt, 'en')}.`
            : `The contacts of the account ${m.accountName} have not been reviewed yet.`,
        },
        {
          text: 'The primary account contact and the billing contacts receive essential updates about your account, and the role-specific contacts receive the messages that concern their roles. Keep them up to date so that you do not miss critical messages.',
        },
        {
          text: `Check the contacts under ${settingsPath('en')} and confirm that they are up to date:`,
          link: m.settingsUrl,
        },
      ],
    }),
    fi: (m) => ({
      subject: `Ovatko tilin ${m.accountName} yhteyshenkilöt ajan tasalla?`,
      blocks: [
        { text: 'Hei,' },
        {
          text: m.lastReviewedAt
            ? `Tilin ${m.accountName} yhteyshenkilöt on tarkistettu viimeksi ${formatDate(m.lastReviewedAt, 'fi')}.`
            : `Tilin ${m.accountName} yhteyshenkilöitä ei ole vielä tarkistettu.`,
        },
        {
          text: 'Ensisijainen tiliyhteyshenkilö ja laskutusyhteyshenkilöt saavat tiliä koskevat olennaiset päivitykset, ja roolikohtaiset yhteyshenkilöt saavat juuri heidän rooliaan koskevat viestit. On suositeltavaa päivittää nämä tiedot säännöllisesti, jotta et jää paitsi kriittisistä viesteistä.',
        },
        {
          text: `Tarkista yhteyshenkilöt kohdassa ${settingsPath('fi')} ja vahvista, että ne ovat ajan tasalla:`,
          link: m.settingsUrl,
        },
      ],
    }),
  },

  // To the super admins: mail to a contact did not arrive (a bounce, or a complaint), so the address
  // is suppressed and the slot needs someone who can be reached (docs/BOUNCES.md).
  'contact-undeliverable': {
    en: (m) => ({
      subject: `Fix a contact of ${m.accountName}: mail to ${m.email} does not arrive`,
      blocks: [
        { text: 'Hello,' },
        {
          text: `Mail to ${m.email}, the ${slotNouns(m.slots, 'en')} of the account ${m.accountName}, ${m.cause === 'complaint' ? 'was reported as unwanted by its recipient' : 'could not be delivered'}. Until the contact is fixed, nothing more is sent to this address; its messages go to the fallback contacts instead.`,
        },
        // the reason is the reporting server's words, not ours: quoted, and cut short
        {
          text: `The reason the reporting server gave: “${quoteReason(m.reason) || (m.cause === 'complaint' ? 'a spam complaint' : 'none')}”`,
        },
        {
          text: `Choose someone who can be reached, correct the person's address, or clear the address if it works again, under ${settingsPath('en')}:`,
          link: m.settingsUrl,
        },
      ],
    }),
    fi: (m) => ({
      subject: `Korjaa tilin ${m.accountName} yhteyshenkilö: viestit osoitteeseen ${m.email} eivät mene perille`,
      blocks: [
        { text: 'Hei,' },
        {
          text: `Viestiä osoitteeseen ${m.email} (tilin ${m.accountName} ${slotNouns(m.slots, 'fi')}) ${m.cause === 'complaint' ? 'vastaanottaja merkitsi ei-toivotuksi' : 'ei voitu toimittaa perille'}. Ennen kuin yhteyshenkilö on korjattu, tähän osoitteeseen ei lähetetä mitään, vaan sen viestit menevät varayhteyshenkilöille.`,
        },
        {
          text: `Ilmoittavan palvelimen antama syy: ”${quoteReason(m.reason) || (m.cause === 'complaint' ? 'roskapostivalitus' : 'ei syytä')}”`,
        },
        {
          text: `Valitse tavoitettava henkilö, korjaa henkilön osoite tai poista osoite estolistalta, jos se toimii taas, kohdassa ${settingsPath('fi')}:`,
          link: m.settingsUrl,
        },
      ],
    }),
  },

  // Proves that mail for a category arrives, and says why this person is among its recipients. The
  // subject carries "[Test]" so that nobody mistakes it for a real invoice or notice (docs/PRODUCT.md,
  // "Routing: who receives what", preview and test).
  'test-message': {
    en: (m) => {
      const category = CATEGORY_LABELS.en[m.category]
      return {
        subject: `[Test] Who receives “${category}” for ${m.accountName}`,
        blocks: [
          { text: `Hello ${m.recipientName},` },
          {
            text: `This is a test message for the account ${m.accountName}. It shows who receives messages in the category “${category}”, and that they arrive.`,
          },
          {
            text:
              m.slots.length > 0
                ? `You receive them because you are the ${slotNouns(m.slots, 'en')}.`
                : "You receive them because no contact is set for them, so they go to the account's super admins.",
          },
          { text: 'You do not need to do anything.' },
        ],
      }
    },
    fi: (m) => {
      const category = CATEGORY_LABELS.fi[m.category]
      return {
        subject: `[Testi] Kuka saa tilin ${m.accountName} viestit luokassa ”${category}”`,
        blocks: [
          { text: `Hei ${m.recipientName},` },
          {
            text: `Tämä on tilin ${m.accountName} testiviesti. Sillä tarkistetaan, kuka saa luokan ”${category}” viestit ja että ne tulevat perille.`,
          },
          {
            text:
              m.slots.length > 0
                ? `Saat nämä viestit, koska olet ${slotNouns(m.slots, 'fi')}.`
                : 'Saat nämä viestit, koska niille ei ole valittu yhteyshenkilöä, joten ne lähetetään tilin pääkäyttäjille.',
          },
          { text: 'Sinun ei tarvitse tehdä mitään.' },
        ],
      }
    },
  },
  'correction-requested': {
    en: (m) => ({
      subject: `A contact of ${m.accountName} says they are the wrong one: ${m.email}`,
      blocks: [
        { text: 'Hello,' },
        {
          text: `${m.email}, the ${roleNouns(m.roles, 'en')} of the account ${m.accountName}, received “${m.subject}” and ${REASON_TOLD.en[m.reason]}.`,
        },
        ...(m.suggestedEmail ? [{ text: `They suggest: ${m.suggestedEmail}` }] : []),
        // the recipient's own words: quoted, and cut short
        ...(m.note ? [{ text: `Their note: “${m.note.slice(0, 300)}”` }] : []),
        {
          text: `Nothing was changed. Choose who should receive these, then dismiss the request, under ${settingsPath('en')}:`,
          link: m.settingsUrl,
        },
      ],
    }),
    fi: (m) => ({
      subject: `Tilin ${m.accountName} yhteyshenkilö kertoo olevansa väärä vastaanottaja: ${m.email}`,
      blocks: [
        { text: 'Hei,' },
        {
          text: `${m.email} (tilin ${m.accountName} ${roleNouns(m.roles, 'fi')}) sai viestin ”${m.subject}” ja ${REASON_TOLD.fi[m.reason]}.`,
        },
        ...(m.suggestedEmail ? [{ text: `Ehdotus: ${m.suggestedEmail}` }] : []),
        ...(m.note ? [{ text: `Viesti: ”${m.note.slice(0, 300)}”` }] : []),
        {
          text: `Mitään ei ole muutettu. Valitse, kenelle viestit kuuluvat, ja kuittaa pyyntö kohdassa ${settingsPath('fi')}:`,
          link: m.settingsUrl,
        },
      ],
    }),
  },
}
