/**
 * The two standard report forms: RFC 3464 delivery status notifications and RFC 5965 (ARF)
 * feedback reports, each a `multipart/report` whose machine-readable part says what happened.
 */
import type { BounceRecipient } from './dsn.ts'
import { classifyFailure, findStatus, oneLine } from './dsn-classify.ts'
import { header, headerAll, type Headers, type MimePart, parseHeaders, partText, walk } from './dsn-mime.ts'

const DELIVERY_STATUS = new Set(['message/delivery-status', 'message/global-delivery-status'])
const FEEDBACK_REPORT = 'message/feedback-report'
// The returned message (or only its headers), the third part of a report.
const RETURNED = new Set(['message/rfc822', 'message/global', 'text/rfc822-headers', 'message/global-headers'])

// A report with more recipient blocks than this is cut there: no mail of ours has that many.
const MAX_RECIPIENTS = 100

// Feedback types that are a recipient's complaint. `auth-failure` (RFC 6591) is about our
// DKIM/SPF, not about the recipient, and `not-spam` is the opposite of a complaint.
const COMPLAINT_TYPES = new Set(['abuse', 'fraud', 'virus', 'other'])

/** The delivery-status part anywhere in the message, if it has one. */
export function findDeliveryStatus(root: MimePart): MimePart | undefined {
  return walk(root).find((p) => DELIVERY_STATUS.has(p.type))
}

/** The feedback-report part anywhere in the message, if it has one. */
export function findFeedbackReport(root: MimePart): MimePart | undefined {
  return walk(root).find((p) => p.type === FEEDBACK_REPORT)
}

/** The headers of the returned message, when the report includes it or them. */
export function returnedHeaders(root: MimePart): Headers | undefined {
  const part = walk(root).find((p) => RETURNED.has(p.type))
  return part ? parseHeaders(partText(part), 'text').headers : undefined
}

/**
 * The per-recipient results of a delivery-status part: blocks of fields separated by empty lines,
 * the first being the per-message fields.
 */
export function readDeliveryStatus(part: MimePart): BounceRecipient[] {
  const out: BounceRecipient[] = []
  // The per-message block has no recipient field, so it is skipped with any other such block.
  const blocks = partText(part).split(/\r?\n[ \t]*\r?\n/)
  for (const block of blocks) {
    if (out.length >= MAX_RECIPIENTS) break
    const { headers } = parseHeaders(block.replace(/^\s*\r?\n/, ''), 'text')
    // The address we sent to is the Original-Recipient (the RCPT TO, when we gave ORCPT);
    // Final-Recipient may be after the receiver's aliasing.
    const recipient =
      typedAddress(header(headers, 'original-recipient')) ?? typedAddress(header(headers, 'final-recipient'))
    if (!recipient) continue
    const action = (header(headers, 'action') ?? '').trim().toLowerCase().split(/\s/)[0] ?? ''
    const statusField = header(headers, 'status')
    const status = statusField ? findStatus(statusField) : undefined
    const diagnostic = oneLine((header(headers, 'diagnostic-code') ?? '').replace(/^[\w-]+\s*;\s*/, ''))
    const kind =
      action === 'delivered' || action === 'relayed' || action === 'expanded'
        ? 'delivered'
        : action === 'delayed'
          ? 'soft_bounce'
          : classifyFailure(status, diagnostic, 'hard_bounce')
    out.push({ recipient, kind, ...(status ? { status } : {}), diagnostic })
  }
  return out
}

/**
 * The complaint of a feedback report, one entry per Original-Rcpt-To (else the returned message's
 * To). Empty when the feedback type is no complaint or the provider redacted every recipient.
 */
export function readFeedbackReport(part: MimePart, returned: Headers | undefined): BounceRecipient[] | undefined {
  const { headers } = parseHeaders(partText(part).replace(/^\s*\r?\n/, ''), 'text')
  const type = (header(headers, 'feedback-type') ?? '').trim().toLowerCase()
  if (!COMPLAINT_TYPES.has(type)) return undefined
  const rcpts = headerAll(headers, 'original-rcpt-to').map(bareAddress)
  if (rcpts.every((r) => !r) && returned) rcpts.push(...headerAll(returned, 'to').map(bareAddress))
  const diagnostic = `Feedback-Type: ${type}`
  const seen = new Set<string>()
  return rcpts
    .filter((r): r is string => !!r && !seen.has(r) && !!seen.add(r))
    .slice(0, MAX_RECIPIENTS)
    .map((recipient) => ({ recipient, kind: 'complaint' as const, diagnostic }))
}

/** `rfc822; user@example.net` → `user@example.net`; other address types are not ours. */
function typedAddress(value: string | undefined): string | undefined {
  const m = /^\s*([\w-]+)\s*;\s*(.+)$/.exec(value ?? '')
  if (!m || !/^(rfc822|utf-8)$/i.test(m[1]!)) return undefined
  return bareAddress(m[2]!)
}

/** The address in `Name <user@example.net>`, `<user@example.net>` or `user@example.net`, lower case. */
export function bareAddress(value: string): string | undefined {
  const m = /<([^<>\s]+@[^<>\s]+)>/.exec(value) ?? /([^\s<>"',;:()[\]]+@[^\s<>"',;:()[\]]+)/.exec(value)
  return m ? m[1]!.toLowerCase().replace(/\.$/, '') : undefined
}
