import { createHash } from 'node:crypto'

import type { BounceReport } from './dsn.ts'
import type { MailEvent } from './mail-event.ts'

/**
 * A bounce report that came back to a mail's return path, as the events the bounce service takes:
 * one per recipient it reports on (our mails have one recipient each, so usually one). The
 * report's Message-ID makes the event id, so a report the sending server delivers again is a
 * replay; a report without one is named by what it says.
 */
export function dsnEvents(r: { ref: string; report: BounceReport; receivedAt: Date }): MailEvent[] {
  const { report } = r
  const id = (recipient: string, what: string) =>
    report.messageId
      ? `${report.messageId}/${r.ref}/${recipient}`
      : `sha256:${createHash('sha256').update(`${r.ref}\n${recipient}\n${what}`).digest('hex')}`
  // a complaint whose reporter hid the recipient: the envelope's reference still names the mail
  if (report.recipients.length === 0)
    return [
      {
        source: 'smtp',
        eventId: id('', 'complaint'),
        kind: 'complaint',
        ref: r.ref,
        recipient: '',
        diagnostic: '',
        at: r.receivedAt,
      },
    ]
  return report.recipients.map((x) => {
    const diagnostic =
      x.status && !x.diagnostic.includes(x.status) ? `${x.status} ${x.diagnostic}`.trim() : x.diagnostic
    return {
      source: 'smtp',
      eventId: id(x.recipient, `${x.kind}\n${diagnostic}`),
      kind: x.kind,
      ref: r.ref,
      recipient: x.recipient,
      diagnostic: diagnostic.slice(0, 500),
      at: r.receivedAt,
    }
  })
}
