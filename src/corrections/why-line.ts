import { type RecipientRole, WHY_TEXT } from '../i18n/correction-text.ts'
import type { Locale } from '../i18n/labels.ts'
import { escapeHtml } from '../lib/html.ts'
import { oneLine } from '../lib/one-line.ts'

/** Whom an account mail went to, and why: what its closing lines say. */
export interface WhyFor {
  accountName: string
  locale: Locale
  roles: readonly RecipientRole[]
  /** The ancestor account whose contact the recipient is, when every role of theirs is inherited from it. */
  holderAccountName?: string | undefined
  /** The bounced address this recipient was sent the mail in place of. */
  fallbackFor?: string | undefined
  /** The "Not the right person?" page for this one delivery. */
  link: string
}

/** The sentence that says why the recipient gets the mail ("You receive this as billing contact of …"). */
export function whySentence(w: Omit<WhyFor, 'link'>): string {
  const t = WHY_TEXT[w.locale]
  const because = w.holderAccountName
    ? t.becauseAbove(w.roles, oneLine(w.holderAccountName), oneLine(w.accountName))
    : t.because(w.roles, oneLine(w.accountName))
  return w.fallbackFor ? `${because} ${t.inPlaceOf(oneLine(w.fallbackFor))}` : because
}

/**
 * The mail as sent to one recipient: the platform's text and HTML, each ending in why this
 * recipient gets it and the link to say they are the wrong one. Added as the mail goes out, per
 * recipient, because one notification reaches several people in several roles and languages, and
 * the link is each delivery's own. The HTML line goes inside the body when there is one.
 */
export function withWhyLine(mail: { text: string; html?: string | undefined }, w: WhyFor) {
  const sentence = whySentence(w)
  const notRight = WHY_TEXT[w.locale].notRight
  const text = `${mail.text.replace(/\s+$/, '')}\n\n-- \n${sentence}\n${notRight}\n${w.link}\n`
  if (mail.html === undefined) return { text, html: undefined }
  const line =
    `<p style="margin:24px 0 0;font-size:13px;line-height:1.5;color:#4b5563">${escapeHtml(sentence)}<br>` +
    `${escapeHtml(notRight)} <a href="${escapeHtml(w.link)}" style="color:#1d4ed8">${escapeHtml(w.link)}</a></p>`
  const end = mail.html.search(/<\/body\s*>(?![\s\S]*<\/body\s*>)/i)
  const html = end < 0 ? `${mail.html}\n${line}\n` : `${mail.html.slice(0, end)}${line}\n${mail.html.slice(end)}`
  return { text, html }
}
