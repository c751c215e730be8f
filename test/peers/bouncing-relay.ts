/**
 * A relay as email services and smarthosts behave: it accepts every mail (250) and only then finds
 * out that some mailboxes do not exist. For those it writes a delivery status notification
 * (RFC 3464: multipart/report with a message/delivery-status part and the returned headers) and
 * sends it, over real SMTP, to the mail's envelope sender: our return path, `bounces+<ref>@…`,
 * served by the bounce listener. `deliverTo` says where the return path's domain is (its MX).
 */
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'

import nodemailer from 'nodemailer'
import { SMTPServer } from 'smtp-server'

export interface BouncingRelay {
  url: string
  /** Mail accepted, by recipient: whether it was taken for a live mailbox or bounced later. */
  accepted: { to: string; from: string; subject: string; bounced: boolean }[]
  /** Sends every report again, as a sending server does when it did not see our answer. */
  resendReports(): Promise<void>
  /** Resolves once `n` reports were sent back (or rejects after `timeoutMs`). */
  reportsSent(n: number, timeoutMs?: number): Promise<void>
  close(): Promise<void>
}

export async function startBouncingRelay(opts: {
  /** Whether this recipient's mailbox is gone. */
  dead: (rcpt: string) => boolean
  /** Where the bounce listener answers. */
  deliverTo: { host: string; port: number }
}): Promise<BouncingRelay> {
  const accepted: BouncingRelay['accepted'] = []
  let sent = 0
  const reports: { returnPath: string; raw: string }[] = []
  const waiting = new Set<() => void>()
  const back = nodemailer.createTransport({
    host: opts.deliverTo.host,
    port: opts.deliverTo.port,
    secure: false,
    ignoreTLS: true,
  })

  async function report(to: string, returnPath: string, headers: string) {
    const id = `<dsn-${Date.now()}-${Math.random().toString(36).slice(2)}@relay.test>`
    const raw = [
      'From: Mail Delivery System <MAILER-DAEMON@relay.test>',
      `To: ${returnPath}`,
      'Subject: Undelivered Mail Returned to Sender',
      `Message-ID: ${id}`,
      'Auto-Submitted: auto-replied',
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      `Your message to ${to} could not be delivered.`,
      '',
      '--b1',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; relay.test',
      '',
      `Final-Recipient: rfc822; ${to}`,
      'Action: failed',
      'Status: 5.1.1',
      `Diagnostic-Code: smtp; 550 5.1.1 <${to}>: Recipient address rejected: User unknown`,
      '',
      '--b1',
      'Content-Type: text/rfc822-headers',
      '',
      headers.trimEnd(),
      '',
      '--b1--',
      '',
    ].join('\r\n')
    await back.sendMail({ envelope: { from: '', to: returnPath }, raw })
    reports.push({ returnPath, raw })
    sent++
    for (const wake of waiting) wake()
  }

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 200,
    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        const headers = text.slice(0, Math.max(0, text.search(/\r?\n\r?\n/)))
        const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : ''
        const subject = /^Subject: (.*)$/im.exec(headers)?.[1]?.trim() ?? ''
        for (const r of session.envelope.rcptTo) {
          const to = r.address.toLowerCase()
          const bounced = opts.dead(to)
          accepted.push({ to, from, subject, bounced })
          // later, as a relay would: after the sender has its 250
          if (bounced && from) setTimeout(() => void report(to, from, headers), 50)
        }
        callback(null) // 250: taken, whatever happens next
      })
    },
  })
  server.on('error', () => {})
  server.listen(0, '127.0.0.1')
  await once(server.server, 'listening')
  const { port } = server.server.address() as AddressInfo
  return {
    url: `smtp://127.0.0.1:${port}`,
    accepted,
    async resendReports() {
      for (const r of reports) await back.sendMail({ envelope: { from: '', to: r.returnPath }, raw: r.raw })
    },
    reportsSent(n, timeoutMs = 5000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (sent < n) return
          clearTimeout(timer)
          waiting.delete(check)
          resolve()
        }
        const timer = setTimeout(() => {
          waiting.delete(check)
          reject(new Error(`bouncing relay: ${sent} of ${n} reports after ${timeoutMs} ms`))
        }, timeoutMs)
        waiting.add(check)
        check()
      })
    },
    async close() {
      back.close()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
