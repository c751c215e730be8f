/**
 * The page's words for parent and child accounts (issue 16): each slot's rule towards the parent,
 * the holders that come from above, the account switcher and the list of accounts below. Kept
 * apart from i18n.ts, which merges them in as `t.tree`.
 */
import type { SlotRule } from '../../src/contacts/slot-rules.ts'

export interface TreeStrings {
  /** The label of each slot's rule control ("Parent account's contacts"). */
  rule: string
  rules: Record<SlotRule, string>
  /** Before an inherited holder: where they come from. */
  from(accountName: string): string
  /** After a slot noun in "who receives what": the ancestor the holder comes from. */
  via(accountName: string): string
  /** What a slot gets from above when nobody comes, by its rule (and, for `inherit`, whether it has its own). */
  noneFromAbove: { ownUsed: string; parentHasNone: string; replace: string; none: string }
  switchAccount: string
  yourAccount: string
  accountsBelow: string
  accountsBelowHelp: string
  healthOk: string
  problems(n: number): string
  /** When the address names an account the user cannot manage. */
  notManaged: string
  /** Under the header when a parent's admin is on a descendant's page. */
  managing(accountName: string): string
  backTo(accountName: string): string
}

const en: TreeStrings = {
  rule: 'Parent account’s contacts',
  rules: {
    inherit: 'Use the parent’s when empty',
    add: 'Add to the parent’s',
    replace: 'Only this account’s',
    none: 'Nobody',
  },
  from: (name) => `From ${name}`,
  via: (name) => `from ${name}`,
  noneFromAbove: {
    ownUsed: 'This account’s own contact is used; the parent’s only while it is empty.',
    parentHasNone: 'The parent account has nobody to pass down.',
    replace: 'The parent’s contacts do not receive this account’s mail.',
    none: 'Nobody receives this account’s mail as this contact, not even its own; the usual fallback applies.',
  },
  switchAccount: 'Switch account',
  yourAccount: 'your account',
  accountsBelow: 'Accounts under this one',
  accountsBelowHelp: 'You manage their contacts too. Open one to see and change its page.',
  healthOk: 'OK',
  problems: (n) => (n === 1 ? '1 problem' : `${n} problems`),
  notManaged: 'The address named an account you do not manage, so this is your own account’s page.',
  managing: (name) => `You are managing the contacts of ${name}, an account under yours.`,
  backTo: (name) => `Back to ${name}`,
}

const fi: TreeStrings = {
  rule: 'Emotilin yhteyshenkilöt',
  rules: {
    inherit: 'Emotilin, kun omaa ei ole',
    add: 'Omat emotilin lisäksi',
    replace: 'Vain tämän tilin omat',
    none: 'Ei kukaan',
  },
  // the name is not inflected: "Tililtä Pohjola Group", not "Pohjola Groupilta"
  from: (name) => `Tililtä ${name}`,
  via: (name) => `tililtä ${name}`,
  noneFromAbove: {
    ownUsed: 'Käytössä on tämän tilin oma yhteyshenkilö; emotilin vain silloin, kun omaa ei ole.',
    parentHasNone: 'Emotililtä ei tule ketään.',
    replace: 'Emotilin yhteyshenkilöt eivät saa tämän tilin viestejä.',
    none: 'Kukaan ei saa tämän tilin viestejä tässä roolissa, eivät omatkaan; viestit menevät tavalliseen tapaan varahenkilöille.',
  },
  switchAccount: 'Vaihda tiliä',
  yourAccount: 'oma tilisi',
  accountsBelow: 'Tämän tilin alatilit',
  accountsBelowHelp: 'Hallinnoit myös niiden yhteystietoja. Avaa tili nähdäksesi ja muuttaaksesi sen sivua.',
  healthOk: 'Kunnossa',
  problems: (n) => (n === 1 ? '1 ongelma' : `${n} ongelmaa`),
  notManaged: 'Osoitteessa oli tili, jota et hallinnoi, joten tämä on oman tilisi sivu.',
  managing: (name) => `Hallinnoit tilin ${name} yhteystietoja; se on tilisi alatili.`,
  backTo: (name) => `Takaisin: ${name}`,
}

export const TREE_STRINGS = { en, fi }
