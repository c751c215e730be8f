/**
 * One inbound message to the bounce address, read as a bounce report: which recipients failed (or
 * were delivered, or complained), how, and which of our mails it was about. The standard forms
 * (RFC 3464 DSN, RFC 5965 ARF) are read first, then the common prose forms (dsn-text.ts).
 */
import { header, headerAll, type Headers, parseEntity } from './dsn-mime.ts'
import {
  findDeliveryStatus,
  findFeedbackReport,
  readDeliveryStatus,
  readFeedbackReport,
  returnedHeaders,
} from './dsn-report.ts'
import { mainText, readExim, readGeneric, readQmail, splitBounceText } from './dsn-text.ts'
import type { MailEventKind } from './mail-event.ts'
import { REF_HEADER } from './return-path.ts'

/** What a report says about one recipient. */
export interface BounceRecipient {
  /** The address, lower case. */
  recipient: string
  kind: MailEventKind
  /** The RFC 3463 enhanced status (`5.1.1`), when the report gives one. */
  status?: string
  /** The server's answer, one line, at most 500 characters ('' when none). */
  diagnostic: string
}

/** What one inbound report says: per-recipient results and which of our mails it returns. */
export interface BounceReport {
  /**
   * One entry per recipient. Empty only for a complaint whose provider redacted the recipient
   * (the envelope reference still says which mail it was).
   */
  recipients: BounceRecipient[]
  /** The report's own Message-ID, as written (`<…>`), the MailEvent's eventId. */
  messageId?: string
  /** The returned message's Message-ID, when the report includes its headers. */
  originalMessageId?: string
  /** Every `X-Account-Contacts-Ref` value in the returned headers, lower case, unverified. */
  refs: string[]
}

// More than any report needs; a larger input is read up to here (the headers of the returned
// message come before its body, so a report cut here still has them).
const MAX_INPUT = 2 * 1024 * 1024

/**
 * The report in `raw`, or undefined when it is not a bounce or a complaint (an auto-reply, spam,
 * a bounce none of the readers can attribute to a recipient). It does not throw on any input (the
 * readers are written not to, and test/bounces/dsn.test.ts fuzzes them without a safety net).
 */
export function parseBounceReport(raw: Buffer | string): BounceReport | undefined {
  // a string is cut first, so that a huge one is not encoded whole (a character is ≤ 4 bytes)
  const bytes = typeof raw === 'string' ? Buffer.from(raw.slice(0, MAX_INPUT), 'utf8') : raw
  return read(bytes.subarray(0, MAX_INPUT).toString('latin1'))
}

function read(text: string): BounceReport | undefined {
  const root = parseEntity(text)
  const messageId = firstMessageId(header(root.headers, 'message-id'))

  const status = findDeliveryStatus(root)
  const feedback = status ? undefined : findFeedbackReport(root)
  if (status || feedback) {
    const returned = returnedHeaders(root)
    const recipients = status ? readDeliveryStatus(status) : readFeedbackReport(feedback!, returned)
    if (!recipients || (status && recipients.length === 0)) return undefined
    return report(recipients, messageId, returned)
  }

  const body = mainText(root)
  if (body === undefined) return undefined
  const { human, returned } = splitBounceText(body)
  const recipients = readQmail(human) ?? readExim(human) ?? readGeneric(root.headers, human)
  if (!recipients?.length) return undefined
  return report(recipients, messageId, returned ?? returnedHeaders(root))
}

function report(recipients: BounceRecipient[], messageId: string | undefined, returned: Headers | undefined) {
  const originalMessageId = firstMessageId(returned && header(returned, 'message-id'))
  const refs = [...new Set(headerAll(returned ?? [], REF_HEADER.toLowerCase()).map((v) => v.trim().toLowerCase()))]
  return {
    recipients,
    ...(messageId ? { messageId } : {}),
    ...(originalMessageId ? { originalMessageId } : {}),
    refs: refs.filter((r) => r !== '' && r.length <= 100),
  } satisfies BounceReport
}

/** `<id@host>` out of a Message-ID field (comments and junk around it dropped). */
function firstMessageId(value: string | undefined): string | undefined {
  if (!value) return undefined
  return /<[^<>\s]+>/.exec(value)?.[0] ?? (value.trim().split(/\s/)[0] || undefined)
}
