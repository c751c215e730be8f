import { PAGE_LABELS, SLOT_LABELS } from '../../src/i18n/labels.ts'
import type { Conflict } from '../../src/lib/schemas.ts'
import type { ApiError } from './api/client.ts'
import { formatDateTime, type Locale, type Strings } from './i18n.ts'

/** Who made a change, as the history names them: a user by name, the platform, the system. */
export const actorName = (actor: { type: string; id: string; name?: string | null }, t: Strings, name?: string) =>
  actor.type === 'api_key' ? t.apiKey : actor.type === 'system' ? t.system : (name ?? actor.name ?? actor.id)

/** A conflict's last change in words: "Aino set Primary account contact to Ben Carter at 6 Dec 2026, 22:45." */
function conflictText(c: Conflict, t: Strings, locale: Locale): string {
  const what =
    c.slot === 'billing'
      ? PAGE_LABELS[locale].billingSection
      : ((SLOT_LABELS[locale] as Record<string, string>)[c.slot] ?? c.slot)
  const holders = c.holders.map((h) => h.name ?? h.email).join(', ')
  return t.conflictBy(actorName(c.actor, t), what, holders, formatDateTime(c.at, locale))
}

/**
 * A problem in the reader's language. Known codes have a sentence written for the page; an
 * unknown one falls back to the server's `detail`, and a 5xx shows its request id to quote.
 */
export function problemText(
  err: ApiError,
  t: Strings,
  ctx: { field?: string; domains?: readonly string[] | null; locale?: Locale } = {},
): string {
  const code = err.code
  // a real conflict says who set what, when (the server names the slots this change was about)
  const conflicts = err.problem.conflicts ?? []
  if (code === 'version-mismatch' && conflicts.length > 0)
    return [...conflicts.map((c) => conflictText(c, t, ctx.locale ?? 'en')), t.conflictAfter].join(' ')
  if (code === 'unauthenticated') return t.signedOut
  if (code === 'validation-failed' && ctx.field === 'email') return t.problems.invalidEmail!
  if (code === 'email-domain-not-allowed' && ctx.domains && ctx.domains.length > 0)
    return t.problemDomains(ctx.domains.join(', '))
  const known = t.problems[code]
  if (known) return known
  if (err.status >= 500 || code === 'internal') return t.problemInternal(err.problem.requestId)
  return err.problem.detail
}
