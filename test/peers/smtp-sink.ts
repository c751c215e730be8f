/**
 * A real SMTP server in the test process (what is outside our process is still real in tests, so
 * the mail is tested as it is sent). It accepts every mail unless `respond` says otherwise, and reads each one back with
 * mailparser, so a test asserts on what a receiver would see, not on what we meant to send.
 */
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'

import { type ParsedMail, simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'

/** An SMTP answer; `at: 'data'` holds it back until the message has been sent (RCPT TO is accepted). */
export interface SinkAnswer {
  code: number
  message: string
  at?: 'rcpt' | 'data'
}

export interface SmtpSinkOptions {
  /** Called once per RCPT TO; `attempt` counts that recipient's RCPT TOs from 1. Undefined accepts. */
  respond?: (rcpt: string, attempt: number) => SinkAnswer | undefined
}

export interface SmtpSink {
  port: number
  url: string
  /** Every accepted message, parsed, in arrival order. */
  messages: ParsedMail[]
  received(): number
  /** Resolves once `n` messages were accepted; rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs?: number): Promise<void>
  close(): Promise<void>
}

/** An error whose `responseCode` smtp-server sends as the reply code. */
function smtpError({ code, message }: SinkAnswer): Error {
  return Object.assign(new Error(message), { responseCode: code })
}

export async function startSmtpSink(opts: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: ParsedMail[] = []
  const attempts = new Map<string, number>()
  // RCPT TO answers held back for DATA, per SMTP session.
  const atData = new Map<string, SinkAnswer>()
  const arrived = new Set<() => void>()

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // Pooled clients keep connections open; a test's close() should not wait 30 s for them.
    closeTimeout: 200,
    onRcptTo(address, session, callback) {
      const rcpt = address.address.toLowerCase()
      const attempt = (attempts.get(rcpt) ?? 0) + 1
      attempts.set(rcpt, attempt)
      const answer = opts.respond?.(rcpt, attempt)
      if (answer?.at === 'data') atData.set(session.id, answer)
      callback(answer && answer.at !== 'data' ? smtpError(answer) : null)
    },
    onData(stream, session, callback) {
      const answer = atData.get(session.id)
      atData.delete(session.id)
      simpleParser(stream).then(
        (mail) => {
          if (answer) return callback(smtpError(answer))
          messages.push(mail)
          for (const wake of arrived) wake()
          callback(null)
        },
        (err: Error) => callback(err),
      )
    },
  })
  // A client that drops its connection (a reset, a test's fault proxy) is the client's business;
  // smtp-server reports it as an 'error' event, which would otherwise end the test process.
  server.on('error', () => {})
  server.listen(0, '127.0.0.1')
  await once(server.server, 'listening')
  const { port } = server.server.address() as AddressInfo

  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    messages,
    received: () => messages.length,
    waitFor(n, timeoutMs = 5_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (messages.length < n) return
          clearTimeout(timer)
          arrived.delete(check)
          resolve()
        }
        const timer = setTimeout(() => {
          arrived.delete(check)
          reject(new Error(`smtp sink: ${messages.length} of ${n} messages after ${timeoutMs} ms`))
        }, timeoutMs)
        arrived.add(check)
        check()
      })
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

/** Who the sink received mail with a subject matching `subject` for, lower-cased and sorted. */
export const receivedBy = (sink: Pick<SmtpSink, 'messages'>, subject: RegExp) =>
  sink.messages
    .filter((m) => subject.test(m.subject ?? ''))
    .flatMap((m) => (Array.isArray(m.to) ? m.to : m.to ? [m.to] : []).flatMap((a) => a.value.map((v) => v.address!)))
    .map((a) => a.toLowerCase())
    .sort()
