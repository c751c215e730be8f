import { type FormEvent, useEffect, useRef, useState } from 'react'

import { setSlotRule } from '../api/contacts.ts'
import type { ContactSheet, SlotName, SlotRule as Rule } from '../api/types.ts'
import { SLOT_LABELS } from '../i18n.ts'
import { useLocale, useSession } from '../page-context.ts'
import type { Saver } from '../use-save.ts'
import type { SheetValue } from '../use-sheet.ts'
import { FieldError, invalidProps } from './FieldError.tsx'

const RULES: readonly Rule[] = ['inherit', 'add', 'replace', 'none']

interface Props {
  sheet: ContactSheet
  slot: SlotName
  write: SheetValue['write']
  /** The section's saver: "Saved" and problems show as for the slot's other changes. */
  saver: Saver
}

/** Whether the slot has a holder of the account's own. */
const hasOwn = (sheet: ContactSheet, slot: SlotName) =>
  slot === 'billing' ? sheet.billing.length > 0 : sheet[slot] !== null

/**
 * For an account with a parent (issue 16): who the slot's mail reaches from above, with the account
 * they come from, and the slot's rule towards the parent: a dropdown with Save for admins (as the
 * slot's own dropdown: moving through it with the arrow keys changes nothing), words for members.
 */
export function SlotRule({ sheet, slot, write, saver }: Props) {
  const { t, locale } = useLocale()
  const { accountId, canEdit } = useSession()
  const rule = sheet.rules[slot]
  const [draft, setDraft] = useState<Rule>(rule)
  const select = useRef<HTMLSelectElement>(null)
  useEffect(() => setDraft(rule), [rule])
  if (!sheet.inherited) return null

  const id = `rule-${slot}`
  const noteId = `${id}-note`
  const inherited = sheet.inherited[slot]
  const error = saver.errorFor(id)
  const dirty = draft !== rule
  const slotLabel = SLOT_LABELS[locale][slot]
  const note =
    rule === 'none'
      ? t.tree.noneFromAbove.none
      : inherited.length > 0
        ? null
        : rule === 'replace'
          ? t.tree.noneFromAbove.replace
          : rule === 'inherit' && hasOwn(sheet, slot)
            ? t.tree.noneFromAbove.ownUsed
            : t.tree.noneFromAbove.parentHasNone

  const submit = async (e: FormEvent) => {
    e.preventDefault()
    if (!dirty || saver.busy) return
    const chosen = draft
    if (await saver.run(id, () => write((etag) => setSlotRule(accountId, slot, chosen, etag)))) select.current?.focus()
  }

  return (
    <div className="slot-rule">
      {inherited.length > 0 ? (
        <ul className="inherited">
          {inherited.map((h) => (
            <li key={`${h.fromAccountId}/${h.email}`}>
              <span className="from">{t.tree.from(h.fromAccountName)}:</span>{' '}
              {h.name ? (
                <>
                  <span className="name">{h.name}</span> <span className="email">({h.email})</span>
                </>
              ) : (
                <span className="email">{h.email}</span>
              )}
            </li>
          ))}
        </ul>
      ) : null}
      {note ? (
        <p id={noteId} className="note">
          {note}
        </p>
      ) : null}
      {canEdit ? (
        <form className="rule-row" onSubmit={(e) => void submit(e)} noValidate>
          <label htmlFor={id}>
            {t.tree.rule}
            <span className="visually-hidden"> ({slotLabel})</span>
          </label>
          <select
            id={id}
            ref={select}
            value={draft}
            onChange={(e) => setDraft(e.target.value as Rule)}
            {...invalidProps(error, `${id}-error`, note ? noteId : undefined)}
          >
            {RULES.map((r) => (
              <option key={r} value={r}>
                {t.tree.rules[r]}
              </option>
            ))}
          </select>
          {dirty ? (
            <>
              <button
                type="submit"
                className="primary"
                aria-busy={saver.busy === id || undefined}
                aria-label={`${t.save}: ${t.tree.rule} (${slotLabel})`}
              >
                {t.save}
              </button>
              <button
                type="button"
                className="secondary"
                onClick={() => (setDraft(rule), select.current?.focus())}
                aria-label={`${t.cancel}: ${t.tree.rule} (${slotLabel})`}
              >
                {t.cancel}
              </button>
            </>
          ) : null}
        </form>
      ) : (
        <p className="rule-text">
          {t.tree.rule}: {t.tree.rules[rule]}
        </p>
      )}
      <FieldError id={`${id}-error`} error={error} />
    </div>
  )
}
