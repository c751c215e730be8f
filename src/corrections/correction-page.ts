import { CORRECTION_PAGE_TEXT, CORRECTION_REASONS } from '../i18n/correction-text.ts'
import type { Locale } from '../i18n/labels.ts'
import { escapeHtml } from '../lib/html.ts'
import { plainPage, wrapping } from '../lib/plain-page.ts'
import type { LinkState } from './corrections.service.ts'

/** What a refused form had in it, to show it again with the problem. */
export interface FormAgain {
  error: string
  reason?: string | undefined
  suggestedEmail?: string | undefined
  note?: string | undefined
}

/**
 * The link's question: what the mail was and why it came, three answers, an address and a note.
 * A plain form posting to the page's own path (relative, so it works under a PUBLIC_URL with a
 * path), each field labelled, so it is usable with a keyboard or a screen reader alone.
 */
export function correctionForm(page: Extract<LinkState, { state: 'ask' }>, token: string, again?: FormAgain) {
  const t = CORRECTION_PAGE_TEXT[page.locale]
  // none checked at first: `required` makes the reader choose, so pressing Send alone files
  // nothing (a pre-chosen "not me" would be filed by anyone who just sends); a refused form keeps
  // what was chosen
  const radios = CORRECTION_REASONS.map(
    (r) =>
      `<p><input type="radio" name="reason" id="reason-${r}" value="${r}" required${
        again?.reason === r ? ' checked' : ''
      }> <label for="reason-${r}">${escapeHtml(t.reasons[r])}</label></p>`,
  ).join('')
  const error = again ? `<p role="alert" id="form-error"><strong>${escapeHtml(again.error)}</strong></p>` : ''
  const body =
    `<p>${wrapping(t.intro(page.subject, page.email, page.because))}</p>${error}` +
    `<form method="post" action="not-the-right-person"><input type="hidden" name="token" value="${escapeHtml(token)}">` +
    `<fieldset><legend>${escapeHtml(t.legend)}</legend>${radios}</fieldset>` +
    `<p><label for="suggested">${escapeHtml(t.suggested)}</label><br>` +
    `<input type="email" id="suggested" name="suggestedEmail" maxlength="254" autocomplete="off" aria-describedby="suggested-hint"` +
    `${again ? ' aria-invalid="true"' : ''} value="${escapeHtml(again?.suggestedEmail ?? '')}"><br>` +
    `<small id="suggested-hint">${escapeHtml(t.suggestedHint)}</small></p>` +
    `<p><label for="note">${escapeHtml(t.note)}</label><br><textarea id="note" name="note" maxlength="1000" rows="4">${escapeHtml(again?.note ?? '')}</textarea></p>` +
    `<p><button type="submit">${escapeHtml(t.button)}</button></p></form>`
  return plainPage(page.locale, t.title, escapeHtml(t.title), body)
}

/** A page with one message: thanks, used already, not valid, or the limit. */
export const correctionMessage = (locale: Locale, message: string) =>
  plainPage(
    locale,
    CORRECTION_PAGE_TEXT[locale].title,
    escapeHtml(CORRECTION_PAGE_TEXT[locale].title),
    `<p>${wrapping(message)}</p>`,
  )
