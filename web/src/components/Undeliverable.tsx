import type { Undeliverable as Mark } from '../api/types.ts'
import { formatDate } from '../i18n.ts'
import { useLocale, useSession } from '../page-context.ts'
import type { Saver } from '../use-save.ts'
import { FieldError } from './FieldError.tsx'

interface Props {
  /** The mark's id, which the contact's field names in its `aria-describedby`; its problem is `${id}-error`. */
  id: string
  email: string
  mark: Mark
  saver: Saver
  /** Takes the address off the suppression list and reads the sheet again; answers whether it worked. */
  onClear(): Promise<boolean>
}

/** The saver key of "Mail works again" for a mark, so that its problem is shown here. */
export const clearKey = (id: string) => `${id}-clear`

/**
 * A contact whose mail does not arrive (docs/BOUNCES.md): why and since when, in words, and for
 * admins "Mail works again", which lets mail go to the address once more.
 */
export function Undeliverable({ id, email, mark, saver, onClear }: Props) {
  const { t, locale } = useLocale()
  const { canEdit } = useSession()
  const clear = () => {
    if (!saver.busy) void onClear()
  }
  return (
    <div className="undeliverable">
      <p id={id} className="undeliverable-text">
        <span className="undeliverable-icon" aria-hidden="true">
          !
        </span>
        {/* the reason is quoted in parentheses: its own full stop would double the sentence's */}
        {t.undeliverable(
          { ...mark, reason: mark.reason.replace(/\.$/, '') },
          formatDate(new Date(mark.since), locale),
        )}{' '}
        {canEdit ? t.undeliverableFix : t.undeliverableWait}
      </p>
      {canEdit ? (
        <button
          type="button"
          className="secondary"
          onClick={clear}
          aria-busy={saver.busy === clearKey(id) || undefined}
          aria-label={`${t.mailWorks}: ${email}`}
        >
          {t.mailWorks}
        </button>
      ) : null}
      <FieldError id={`${id}-error`} error={saver.errorFor(clearKey(id))} />
    </div>
  )
}
