import type { ContactSheet, CorrectionRequest, SlotName } from '../api/types.ts'
import { focusFirst } from '../focus-first.ts'
import { categoryLabel, formatDate, type RecipientRole, roleNouns } from '../i18n.ts'
import { useLocale } from '../page-context.ts'
import { slotTargets } from '../slot-fields.ts'
import type { Saver } from '../use-save.ts'
import { FieldError } from './FieldError.tsx'

interface Props {
  c: CorrectionRequest
  sheet: ContactSheet
  saver: Saver
  /** "Dismiss", for a reader who may (an admin, whom the route has not refused). */
  onDismiss: (() => void) | undefined
}

/** The id of an entry's heading, where focus goes when the entry before it is dismissed. */
export const entryId = (c: CorrectionRequest) => `correction-${c.id}`

/**
 * One open correction request: who said what about which mail, as which contact, when, their
 * suggestion and note; a "Go to" for each slot the page edits, and for admins "Dismiss".
 */
export function CorrectionEntry({ c, sheet, saver, onDismiss }: Props) {
  const { t, locale } = useLocale()
  // the slots are what chose the address for that mail, as strings (`super_admin` among them)
  const roles = roleNouns(c.slots as RecipientRole[], locale)
  const goTo = c.slots.flatMap((s) => {
    const ids = slotTargets(s, sheet, c.email)
    return ids ? [{ slot: s as SlotName, ids }] : []
  })
  return (
    <li className="correction">
      <h3 id={entryId(c)} tabIndex={-1}>
        {t.correctionSaid(c.email, c.reason)}
      </h3>
      <p>
        {t.correctionAbout(
          c.subject,
          categoryLabel(c.category, locale, t),
          roles,
          formatDate(new Date(c.createdAt), locale),
        )}
      </p>
      {c.suggestedEmail ? <p>{t.correctionSuggests(c.suggestedEmail)}</p> : null}
      {c.note ? <p className="correction-note">{t.correctionNote(c.note)}</p> : null}
      <div className="correction-actions">
        {goTo.map((g) => (
          <button key={g.slot} type="button" className="secondary" onClick={() => focusFirst(g.ids)}>
            {t.correctionGoTo(g.slot)}
          </button>
        ))}
        {onDismiss ? (
          <button
            type="button"
            className="secondary"
            onClick={onDismiss}
            aria-busy={saver.busy === c.id || undefined}
            aria-label={`${t.dismiss}: ${c.email}`}
          >
            {t.dismiss}
          </button>
        ) : null}
        <FieldError id={`${entryId(c)}-error`} error={saver.errorFor(c.id)} />
      </div>
    </li>
  )
}
