import { escapeHtml } from './html.ts'

/**
 * `text` as HTML, with break opportunities (`<wbr>`) inside long words: an address or an account
 * name must wrap on a narrow screen, and these pages have no stylesheet to say so.
 */
export const wrapping = (text: string) =>
  text
    .split(/(\s+)/)
    .map((w) => (w.length <= 20 ? escapeHtml(w) : (w.match(/[\s\S]{1,12}/gu) ?? []).map(escapeHtml).join('<wbr>')))
    .join('')

/**
 * The small pages a link in a mail opens (a verification, "Not the right person?"): plain HTML,
 * no script (the Content-Security-Policy allows none) and no stylesheet, so they work in any
 * browser at any width. `headingHtml` and `bodyHtml` are HTML already.
 */
export const plainPage = (lang: string, title: string, headingHtml: string, bodyHtml: string) =>
  `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">` +
  `<title>${escapeHtml(title)}</title></head><body><main><h1>${headingHtml}</h1>${bodyHtml}</main></body></html>`
