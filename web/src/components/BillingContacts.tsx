import { useEffect, useState } from 'react'

import { MAX_BILLING_CONTACTS } from '../../../src/contacts/contact-slots.ts'
import { addBilling, clearUndeliverable, removeBilling, replaceBilling } from '../api/contacts.ts'
import type { ContactSheet, User } from '../api/types.ts'
import { SLOT_LABELS } from '../i18n.ts'
import { useLocale, useSession } from '../page-context.ts'
import { billingFieldId } from '../slot-fields.ts'
import { useSave } from '../use-save.ts'
import type { SheetValue } from '../use-sheet.ts'
import { FieldError } from './FieldError.tsx'
import { asUser } from './PrimaryContact.tsx'
import { Section } from './Section.tsx'
import { SlotRule } from './SlotRule.tsx'
import { UserSelect } from './UserSelect.tsx'

interface Props {
  sheet: ContactSheet
  users: readonly User[]
  write: SheetValue['write']
}

/**
 * "Laskutusyhteyshenkilöt": one dropdown a billing contact, "Lisää toinen" for another until there
 * are MAX_BILLING_CONTACTS (the server's limit; then the button goes away), and Remove on each.
 */
export function BillingContacts({ sheet, users, write }: Props) {
  const { t, locale } = useLocale()
  const { accountId: a, canEdit } = useSession()
  const saver = useSave()
  const [adding, setAdding] = useState(false)
  // where focus goes once the row it was on has gone (after an add or a remove): the first of
  // these ids that is on the page
  const [focusTo, setFocusTo] = useState<string[]>([])
  const billing = sheet.billing.map(asUser).filter((c) => c !== null)
  const chosen = new Set(billing.map((c) => c.userId))
  const label = (i: number) => `${SLOT_LABELS[locale].billing} ${i + 1}`
  // with none yet, the first dropdown is there from the start, so the empty list still offers a place to fill
  const showNew = canEdit && billing.length < MAX_BILLING_CONTACTS && (adding || billing.length === 0)

  useEffect(() => {
    if (focusTo.length === 0) return
    const el = focusTo.map((id) => document.getElementById(id)).find((e) => e !== null)
    el?.focus()
    setFocusTo([])
  }, [focusTo, sheet])

  const add = async (userId: string) => {
    await write((etag) => addBilling(a, userId, etag))
    setAdding(false)
    setFocusTo([billingFieldId(billing.length)])
  }
  const remove = async (userId: string) => {
    await write((etag) => removeBilling(a, userId, etag))
    setFocusTo(['billing-add', 'billing-new', 'billing-section-title'])
  }

  return (
    <Section id="billing-section" title={t.billingSection} help={t.billingHelp} status={saver.status(t)}>
      {billing.map((c, i) => (
        <UserSelect
          key={c.userId}
          id={billingFieldId(i)}
          label={label(i)}
          users={users}
          current={c}
          saver={saver}
          excluded={chosen}
          onSave={(userId) => write((etag) => replaceBilling(a, c.userId, userId, etag))}
          onRemove={() => remove(c.userId)}
          onMailWorks={(email) => write(() => clearUndeliverable(a, email))}
        />
      ))}
      {showNew ? (
        <UserSelect
          id="billing-new"
          label={label(billing.length)}
          users={users}
          current={null}
          saver={saver}
          excluded={chosen}
          onSave={add}
          {...(billing.length > 0 ? { onCancel: () => (setAdding(false), setFocusTo(['billing-add'])) } : {})}
        />
      ) : null}
      {!canEdit && billing.length === 0 ? <p className="empty">{t.notSet}</p> : null}
      {canEdit && billing.length < MAX_BILLING_CONTACTS && !showNew ? (
        <button
          type="button"
          id="billing-add"
          className="add"
          onClick={() => (setAdding(true), setFocusTo(['billing-new']))}
        >
          <span aria-hidden="true">+ </span>
          {t.addAnother}
        </button>
      ) : null}
      {billing.length >= MAX_BILLING_CONTACTS ? <p className="note">{t.billingFull}</p> : null}
      {/* the problem of an add whose row is gone (the sheet read again after a 412 was full): said here */}
      <FieldError id="billing-error" error={showNew ? null : saver.errorFor('billing-new')} />
      <SlotRule sheet={sheet} slot="billing" write={write} saver={saver} />
    </Section>
  )
}
