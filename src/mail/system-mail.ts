/**
 * The mail the service writes itself (docs/PRODUCT.md, "Routing: who receives what"): address verification, "you are no longer the X
 * contact", vacated slots, review reminders and test messages. Each kind is drafted once per
 * language as plain blocks (system-mail-copy.ts), and the same blocks are rendered here to text
 * and to HTML, so the two parts cannot say different things.
 */
import type { SlotName } from '../contacts/contact-slots.ts'
import type { CorrectionReason, RecipientRole } from '../i18n/correction-text.ts'
import type { Category, Locale } from '../i18n/labels.ts'
import { escapeHtml } from '../lib/html.ts'
import { oneLine } from '../lib/one-line.ts'
import { DRAFTS } from './system-mail-copy.ts'

export type SystemMail =
  | { kind: 'verify-email'; accountName: string; email: string; link: string; expiresAt: Date }
  | {
      kind: 'contact-changed'
      accountName: string
      slots: SlotName[]
      previousName: string
      /** Name or email of who holds the slot now; null when it was emptied. */
      newHolder: string | null
      changedBy: string
    }
  | { kind: 'slots-vacated'; accountName: string; userName: string; slots: SlotName[]; settingsUrl: string }
  | { kind: 'contacts-review'; accountName: string; lastReviewedAt: Date | null; settingsUrl: string }
  | { kind: 'test-message'; accountName: string; category: Category; recipientName: string; slots: SlotName[] }
  | {
      kind: 'contact-undeliverable'
      accountName: string
      email: string
      slots: SlotName[]
      /** A bounce (the mail did not arrive) or a complaint (its recipient reported it as spam). */
      cause: 'bounce' | 'complaint'
      reason: string
      settingsUrl: string
    }
  | {
      kind: 'correction-requested'
      accountName: string
      /** The address the mail came to, and the slots that chose it. */
      email: string
      roles: RecipientRole[]
      subject: string
      reason: CorrectionReason
      suggestedEmail: string | null
      note: string | null
      settingsUrl: string
    }

export type SystemMailKind = SystemMail['kind']

export interface RenderedMail {
  subject: string
  text: string
  html: string
}

/** A paragraph (optionally ending in a link on its own line) or a bulleted list. */
export type Block = { text: string; link?: string } | { items: string[] }
/** One mail in one language, before rendering: its subject and its blocks. */
export interface Draft {
  subject: string
  blocks: Block[]
}

/** Every string field of the mail, made one line before any of it is used. */
function cleaned<M extends SystemMail>(mail: M): M {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(mail)) out[k] = typeof v === 'string' ? oneLine(v) : v
  return out as M
}

function toText(blocks: readonly Block[]): string {
  const parts = blocks.map((b) =>
    'items' in b ? b.items.map((i) => `- ${i}`).join('\n') : b.link ? `${b.text}\n${b.link}` : b.text,
  )
  return `${parts.join('\n\n')}\n`
}

/** Only web links become anchors; anything else (a `javascript:` URL, say) stays inert text. */
function linkHtml(link: string): string {
  const e = escapeHtml(link)
  return /^https?:\/\//i.test(link) ? `<a href="${e}" style="color:#1d4ed8">${e}</a>` : e
}

/** Inline styles only, no external resources: mail clients drop <style> and block remote loads. */
function toHtml(subject: string, blocks: readonly Block[], locale: Locale): string {
  const p = 'margin:0 0 16px'
  const body = blocks
    .map((b) =>
      'items' in b
        ? `<ul style="${p};padding-left:24px">${b.items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>`
        : `<p style="${p}">${escapeHtml(b.text)}${b.link ? `<br>${linkHtml(b.link)}` : ''}</p>`,
    )
    .join('\n')
  return [
    '<!doctype html>',
    `<html lang="${locale}">`,
    `<head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>`,
    '<body style="margin:0;padding:24px;font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.5;color:#111827">',
    body,
    '</body>',
    '</html>',
    '',
  ].join('\n')
}

export function renderSystemMail(mail: SystemMail, locale: Locale): RenderedMail {
  const m = cleaned(mail)
  // The table is keyed by kind, so this drafter takes exactly this kind; TypeScript cannot
  // correlate the two through the union by itself.
  const draft = (DRAFTS[m.kind][locale] as (mail: SystemMail) => Draft)(m)
  const subject = oneLine(draft.subject)
  return { subject, text: toText(draft.blocks), html: toHtml(subject, draft.blocks, locale) }
}
