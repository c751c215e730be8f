import type { ApiError } from './api/client.ts'
import type { Strings } from './i18n.ts'

/**
 * A problem in the reader's language. Known codes have a sentence written for the page; an
 * unknown one falls back to the server's `detail`, and a 5xx shows its request id to quote.
 */
export function problemText(
  err: ApiError,
  t: Strings,
  ctx: { field?: string; domains?: readonly string[] | null } = {},
): string {
  const code = err.code
  if (code === 'unauthenticated') return t.signedOut
  if (code === 'validation-failed' && ctx.field === 'email') return t.problems.invalidEmail!
  if (code === 'email-domain-not-allowed' && ctx.domains && ctx.domains.length > 0)
    return t.problemDomains(ctx.domains.join(', '))
  const known = t.problems[code]
  if (known) return known
  if (err.status >= 500 || code === 'internal') return t.problemInternal(err.problem.requestId)
  return err.problem.detail
}
