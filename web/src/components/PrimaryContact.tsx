import { clearUndeliverable, setSlot } from '../api/contacts.ts'
import type { ContactSheet, User, UserContact } from '../api/types.ts'
import { useLocale, useSession } from '../page-context.ts'
import { SLOT_FIELD_IDS } from '../slot-fields.ts'
import { useSave } from '../use-save.ts'
import type { SheetValue } from '../use-sheet.ts'
import { Section } from './Section.tsx'
import { SlotRule } from './SlotRule.tsx'
import { UserSelect } from './UserSelect.tsx'

export const asUser = (c: ContactSheet['primary']): UserContact | null => (c?.type === 'user' ? c : null)

interface Props {
  sheet: ContactSheet
  users: readonly User[]
  write: SheetValue['write']
}

/** The primary account contact ("Ensisijainen tilin yhteyshenkilö") and its "Valitse käyttäjä" (select a user) dropdown. */
export function PrimaryContact({ sheet, users, write }: Props) {
  const { t } = useLocale()
  const { accountId } = useSession()
  const saver = useSave()
  return (
    <Section id="primary-section" title={t.primarySection} help={t.primaryHelp} status={saver.status(t)}>
      <UserSelect
        id={SLOT_FIELD_IDS.primary}
        label={t.primarySection}
        hideLabel
        users={users}
        current={asUser(sheet.primary)}
        saver={saver}
        onSave={(userId) => write((etag) => setSlot(accountId, 'primary', { userId }, etag))}
        onMailWorks={(email) => write(() => clearUndeliverable(accountId, email))}
      />
      <SlotRule sheet={sheet} slot="primary" write={write} saver={saver} />
    </Section>
  )
}
