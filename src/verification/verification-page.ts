import { VERIFICATION_PAGE_HEADING_HTML as HEADING, VERIFICATION_PAGE_TEXT } from '../i18n/verification-page.ts'
import { escapeHtml } from '../lib/html.ts'
import { plainPage, wrapping } from '../lib/plain-page.ts'

/**
 * The link's page: a message and, to confirm, a plain form. The form posts to the page's own
 * path, relative, so that it also works under a PUBLIC_URL with a path of its own.
 */
export const verificationPage = (lang: 'en' | 'fi', message: string, confirmToken?: string) =>
  plainPage(
    lang,
    VERIFICATION_PAGE_TEXT[lang].title,
    HEADING[lang],
    `<p>${wrapping(message)}</p>` +
      (confirmToken === undefined
        ? ''
        : `<form method="post" action="verify-email"><input type="hidden" name="token" value="${escapeHtml(confirmToken)}">` +
          `<button type="submit">${VERIFICATION_PAGE_TEXT[lang].button}</button></form>`),
  )
