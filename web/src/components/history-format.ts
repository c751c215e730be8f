import { PAGE_LABELS, SLOT_LABELS } from '../../../src/i18n/labels.ts'
import type { AuditEvent, Contact, ContactSheet, User } from '../api/types.ts'
import type { Locale, Strings } from '../i18n.ts'

const SINGLE = ['primary', 'decisionMaker', 'onboarding', 'security', 'technicalAdmin'] as const

const isSheet = (v: unknown): v is ContactSheet =>
  typeof v === 'object' && v !== null && Array.isArray((v as ContactSheet).billing)
const who = (c: Contact | null | undefined) => (!c ? '—' : c.type === 'user' ? c.name : c.email)

/**
 * What an audit event changed, one line a slot ("Decision maker: Aino → Mikko"), for the events
 * whose before and after are sheets. Other events get their action's name only.
 */
export function changeLines(e: AuditEvent, locale: Locale, t: Strings): string[] {
  if (!isSheet(e.after)) return []
  const before = isSheet(e.before) ? e.before : null
  const after = e.after
  const lines: string[] = []
  for (const s of SINGLE) {
    const b = before?.[s] ?? null
    const a = after[s]
    if (who(b) !== who(a)) lines.push(`${SLOT_LABELS[locale][s]}: ${who(b)} → ${who(a)}`)
    else if (b?.type === 'email' && a?.type === 'email' && b.verification !== a.verification) {
      lines.push(`${SLOT_LABELS[locale][s]}: ${a.email} (${a.verification === 'verified' ? t.verified : t.pending})`)
    }
  }
  const names = (l: Contact[] | undefined) => (l && l.length > 0 ? l.map(who).join(', ') : '—')
  if (names(before?.billing) !== names(after.billing)) {
    lines.push(`${PAGE_LABELS[locale].billingSection}: ${names(before?.billing)} → ${names(after.billing)}`)
  }
  return lines
}

/** Whom a user, session or bounce event is about: the user's name (their id if they are not listed), or the address. */
export function subjectOf(e: AuditEvent, users: readonly User[]): string | null {
  const o = (e.after ?? e.before) as { name?: unknown; userId?: unknown; email?: unknown } | null
  if (!o || typeof o !== 'object' || isSheet(o)) return null
  if (typeof o.name === 'string') return o.name
  if (typeof o.userId === 'string') return users.find((u) => u.id === o.userId)?.name ?? o.userId
  // a bounce or a cleared suppression is about an address
  if (typeof o.email === 'string') return o.email
  return null
}
