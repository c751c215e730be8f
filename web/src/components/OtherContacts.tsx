import { clearSlot, clearUndeliverable, setSlot } from '../api/contacts.ts'
import type { ContactSheet, SingleSlot, User } from '../api/types.ts'
import { SLOT_LABELS } from '../i18n.ts'
import { useLocale, useSession } from '../page-context.ts'
import { SLOT_FIELD_IDS } from '../slot-fields.ts'
import { useSave } from '../use-save.ts'
import type { SheetValue } from '../use-sheet.ts'
import { asUser } from './PrimaryContact.tsx'
import { Section } from './Section.tsx'
import { SecurityContact } from './SecurityContact.tsx'
import { SlotRule } from './SlotRule.tsx'
import { UserSelect } from './UserSelect.tsx'

interface Props {
  sheet: ContactSheet
  users: readonly User[]
  write: SheetValue['write']
  domains: readonly string[] | null
}

/**
 * "Muut yhteystiedot" (other contacts), in this order: decision maker, onboarding contact, security contact,
 * technical administrator, each with its own "Valitse käyttäjä" dropdown.
 */
export function OtherContacts({ sheet, users, write, domains }: Props) {
  const { t, locale } = useLocale()
  const { accountId: a } = useSession()
  const saver = useSave()

  const slot = (s: Exclude<SingleSlot, 'primary' | 'security'>) => (
    <>
      <UserSelect
        id={SLOT_FIELD_IDS[s]}
        label={SLOT_LABELS[locale][s]}
        users={users}
        current={asUser(sheet[s])}
        saver={saver}
        onSave={(userId) => write((etag) => setSlot(a, s, { userId }, etag))}
        onRemove={() => write((etag) => clearSlot(a, s, etag))}
        onMailWorks={(email) => write(() => clearUndeliverable(a, email))}
      />
      <SlotRule sheet={sheet} slot={s} write={write} saver={saver} />
    </>
  )

  return (
    <Section id="other-section" title={t.otherContacts} help={t.otherHelp} status={saver.status(t)}>
      {slot('decisionMaker')}
      {slot('onboarding')}
      <SecurityContact sheet={sheet} users={users} write={write} saver={saver} domains={domains} />
      <SlotRule sheet={sheet} slot="security" write={write} saver={saver} />
      {slot('technicalAdmin')}
    </Section>
  )
}
