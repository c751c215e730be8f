import type { MailEventKind } from './mail-event.ts'

/**
 * How a bounce's words become a MailEventKind, shared by the standard (RFC 3464) and the
 * plain-text readers so that the same answer counts the same whichever form it came in.
 */

/** An RFC 3463 enhanced status code (`5.1.1`) anywhere in a text; qmail writes it `#5.1.1`. */
const ENHANCED = /(?:^|[^\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)/
/** A basic SMTP reply code standing alone (`550`, `550-`), not part of a number or an address. */
const REPLY = /(?:^|[\s:(["'])([245][0-5]\d)(?=[\s-]|$)/

// A full mailbox is the recipient's to empty, not a dead address: RFC 3463 gives it 5.2.2 even
// when the server has given up, and many servers say so only in words (often with a 552 or 5.7.x).
const OVER_QUOTA =
  /over ?quota|quota exceeded|exceeded (?:the |its )?(?:storage|quota)|mailbox (?:is )?full|insufficient (?:system )?storage|mailbox size limit/i

/** The enhanced status in `text` (`5.1.1`), if one is there. */
export function findStatus(text: string): string | undefined {
  const m = ENHANCED.exec(text)
  return m ? `${m[1]}.${m[2]}.${m[3]}` : undefined
}

/** The first basic reply code in `text` (`550`), if one is there. */
export function findReplyCode(text: string): string | undefined {
  return REPLY.exec(text)?.[1]
}

/**
 * The kind of a failure: over quota → soft_bounce; otherwise the status class (5 → hard_bounce,
 * 4 → soft_bounce), from the enhanced status, else the basic reply code in the diagnostic, else
 * `fallback` (what the report's words say: "permanent" or "delayed").
 */
export function classifyFailure(
  status: string | undefined,
  diagnostic: string,
  fallback: 'hard_bounce' | 'soft_bounce',
): MailEventKind {
  const said = findStatus(diagnostic)
  if (status?.endsWith('.2.2') || said?.endsWith('.2.2') || OVER_QUOTA.test(diagnostic)) return 'soft_bounce'
  const cls = status?.[0] ?? said?.[0] ?? findReplyCode(diagnostic)?.[0]
  if (cls === '5') return 'hard_bounce'
  if (cls === '4') return 'soft_bounce'
  return fallback
}

/** Whitespace runs to one space, trimmed, cut at 500 characters: the MailEvent diagnostic. */
export function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > 500 ? line.slice(0, 499) + '…' : line
}
