import { type FormEvent, useEffect, useRef, useState } from 'react'

import type { User, UserContact } from '../api/types.ts'
import { useLocale, useSession } from '../page-context.ts'
import type { Saver } from '../use-save.ts'
import { FieldError, invalidProps } from './FieldError.tsx'
import { clearKey, Undeliverable } from './Undeliverable.tsx'

interface Props {
  /** The select's id; its problem is `${id}-error`. */
  id: string
  label: string
  users: readonly User[]
  /** Who holds the place now. */
  current: UserContact | null
  saver: Saver
  onSave(userId: string): Promise<unknown>
  onRemove?: () => Promise<unknown>
  /** For a place not saved yet (a new billing row): gives up on it. */
  onCancel?: () => void
  /** Users who may not be chosen here (those in the other billing places). */
  excluded?: ReadonlySet<string>
  hintId?: string
  /** When the section's heading already says what the dropdown is (its label stays for readers). */
  hideLabel?: boolean
  /** "Mail works again" for a holder whose mail does not arrive: clears their address and reads the sheet. */
  onMailWorks?: (email: string) => Promise<unknown>
}

/**
 * The "Select a user" dropdown of each slot: choosing a user shows Save (so that moving through the
 * list with the arrow keys changes nothing), and a held place can be emptied with Remove.
 */
export function UserSelect({
  id,
  label,
  users,
  current,
  saver,
  onSave,
  onRemove,
  onCancel,
  excluded,
  hintId,
  hideLabel,
  onMailWorks,
}: Props) {
  const { t } = useLocale()
  const { canEdit } = useSession()
  const value = current?.userId ?? ''
  const [draft, setDraft] = useState(value)
  const select = useRef<HTMLSelectElement>(null)
  useEffect(() => setDraft(value), [value])

  const error = saver.errorFor(id)
  const dirty = draft !== value && draft !== ''
  const busy = saver.busy === id

  const options: Pick<User, 'id' | 'name' | 'email'>[] = users.filter((u) => u.id === value || !excluded?.has(u.id))
  // the holder is always listed, even if the user list did not bring them
  if (current && !options.some((u) => u.id === current.userId)) {
    options.unshift({ id: current.userId, name: current.name, email: current.email })
  }

  const act = async (change: () => Promise<unknown>) => {
    if (saver.busy) return
    if (await saver.run(id, change)) select.current?.focus()
  }
  // the holder's mail does not arrive: the mark says so, and the select names it to screen readers
  const mark = current?.undeliverable
  const markId = `${id}-undeliverable`
  const describedBy = [hintId, mark ? markId : undefined].filter(Boolean).join(' ') || undefined
  const mailWorks = async () => {
    if (!current || !onMailWorks) return false
    const email = current.email
    const ok = await saver.run(
      clearKey(markId),
      () => onMailWorks(email),
      (w) => w.mailWorksDone(email),
    )
    // the mark and its button are gone: focus goes back to the slot
    if (ok) select.current?.focus()
    return ok
  }
  const submit = (e: FormEvent) => {
    e.preventDefault()
    if (dirty) void act(() => onSave(draft))
  }
  const cancel = () => {
    setDraft(value)
    // the button goes away with the change: focus stays on the place (a new row's owner moves it on)
    if (onCancel) onCancel()
    else select.current?.focus()
  }

  return (
    <div className="field">
      <label htmlFor={id} className={hideLabel ? 'visually-hidden' : undefined}>
        {label}
      </label>
      <form className="field-row" onSubmit={submit} noValidate>
        <select
          id={id}
          ref={select}
          value={draft}
          disabled={!canEdit}
          onChange={(e) => setDraft(e.target.value)}
          {...invalidProps(error, `${id}-error`, describedBy)}
        >
          {/* a held place is emptied with Remove, not by choosing nothing, which would show it empty while it is held */}
          <option value="" disabled={value !== ''}>
            {t.selectUser}
          </option>
          {options.map((u) => (
            <option key={u.id} value={u.id}>
              {u.name} ({u.email})
            </option>
          ))}
        </select>
        {canEdit && dirty ? (
          <button type="submit" className="primary" aria-busy={busy || undefined} aria-label={`${t.save}: ${label}`}>
            {t.save}
          </button>
        ) : null}
        {canEdit && (dirty || (onCancel && !value)) ? (
          <button type="button" className="secondary" onClick={cancel} aria-label={`${t.cancel}: ${label}`}>
            {t.cancel}
          </button>
        ) : null}
        {canEdit && !dirty && value && onRemove ? (
          <button
            type="button"
            className="secondary"
            onClick={() => void act(onRemove)}
            aria-label={`${t.remove}: ${label}`}
          >
            {t.remove}
          </button>
        ) : null}
      </form>
      {current && mark ? (
        <Undeliverable id={markId} email={current.email} mark={mark} saver={saver} onClear={mailWorks} />
      ) : null}
      <FieldError id={`${id}-error`} error={error} />
    </div>
  )
}
