import { VERIFICATION_PAGE_HEADING_HTML as HEADING, VERIFICATION_PAGE_TEXT } from '../i18n/verification-page.ts'
import { escapeHtml } from '../lib/html.ts'

/**
 * `text` as HTML, with break opportunities (`<wbr>`) inside long words: an address or an account
 * name must wrap on a narrow screen, and the page has no stylesheet to say so.
 */
const wrapping = (text: string) =>
  text
    .split(/(\s+)/)
    .map((w) => (w.length <= 20 ? escapeHtml(w) : (w.match(/[\s\S]{1,12}/gu) ?? []).map(escapeHtml).join('<wbr>')))
    .join('')

/**
 * The link's page: a message and, to confirm, a plain form (no script, none is allowed by the
 * Content-Security-Policy). The form posts to the page's own path, relative, so that it also works
 * under a PUBLIC_URL with a path of its own.
 */
export const verificationPage = (lang: 'en' | 'fi', message: string, confirmToken?: string) =>
  `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">` +
  `<title>${VERIFICATION_PAGE_TEXT[lang].title}</title></head><body><main><h1>${HEADING[lang]}</h1><p>${wrapping(message)}</p>` +
  (confirmToken === undefined
    ? ''
    : `<form method="post" action="verify-email"><input type="hidden" name="token" value="${escapeHtml(confirmToken)}">` +
      `<button type="submit">${VERIFICATION_PAGE_TEXT[lang].button}</button></form>`) +
  `</main></body></html>`
