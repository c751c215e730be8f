import type { ApiError } from '../api/client.ts'
import { useLocale } from '../page-context.ts'
import { problemText } from '../problem-text.ts'

interface Props {
  /** Referenced by the field's `aria-describedby` while there is a problem. */
  id: string
  error: ApiError | null
  field?: string
  domains?: readonly string[] | null
}

/**
 * A problem, in words, next to the field it concerns. Always rendered, and polite-live, so that a
 * screen reader announces the problem when it appears.
 */
export function FieldError({ id, error, field, domains }: Props) {
  const { t, locale } = useLocale()
  return (
    <p id={id} className="field-error" aria-live="polite">
      {error ? problemText(error, t, { ...(field ? { field } : {}), domains: domains ?? null, locale }) : ''}
    </p>
  )
}

/** The `aria-invalid`/`aria-describedby` pair of a field whose problem is shown by `FieldError`. */
export const invalidProps = (error: ApiError | null, errorId: string, hintId?: string) => {
  const ids = [error ? errorId : undefined, hintId].filter(Boolean).join(' ')
  return { 'aria-invalid': error ? true : undefined, 'aria-describedby': ids || undefined }
}
