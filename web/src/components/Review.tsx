import { confirmReviewed } from '../api/contacts.ts'
import type { ContactSheet } from '../api/types.ts'
import { formatDate } from '../i18n.ts'
import { useLocale, useSession } from '../page-context.ts'
import { useSave } from '../use-save.ts'
import type { SheetValue } from '../use-sheet.ts'
import { FieldError } from './FieldError.tsx'
import { Section } from './Section.tsx'

interface Props {
  sheet: ContactSheet
  write: SheetValue['write']
}

/** "Confirm contacts are up to date" (docs/PRODUCT.md, "The settings page"): a button that records a review of the sheet. */
export function Review({ sheet, write }: Props) {
  const { t, locale } = useLocale()
  const { accountId, canEdit } = useSession()
  const saver = useSave()
  const at = sheet.contactsReviewedAt
  const confirm = () =>
    saver.run(
      'review',
      () => write(() => confirmReviewed(accountId)),
      (w) => w.confirmedNow,
    )
  return (
    <Section id="review-section" title={t.reviewTitle} help={t.reviewHelp} status={saver.status(t)}>
      <p className="reviewed-at">{at ? t.lastReviewed(formatDate(new Date(at), locale)) : t.neverReviewed}</p>
      {canEdit ? (
        <button
          type="button"
          className="primary"
          onClick={() => void confirm()}
          {...(saver.errorFor('review') ? { 'aria-describedby': 'review-error' } : {})}
        >
          {t.confirmReviewed}
        </button>
      ) : null}
      <FieldError id="review-error" error={saver.errorFor('review')} />
    </Section>
  )
}
