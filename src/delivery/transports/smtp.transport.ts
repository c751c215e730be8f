/**
 * Mail over SMTP (`SMTP_URL`) through nodemailer's connection pool.
 *
 * `send` never throws: the server's answer becomes a `DeliveryResult` and the worker decides what
 * happens next. 4xx and connection trouble are worth another try; 5xx is final, and a 5xx about the
 * mailbox marks the contact undeliverable. Several workers share one process-wide pool.
 */
import nodemailer, {
  type NodemailerError,
  type SendMailOptions,
  type SMTPSentMessageInfo,
  type SMTPTransportOptions,
  type Transporter,
} from 'nodemailer'

import type { DeliveryResult, EmailTransport, OutgoingEmail } from './transport.ts'

/**
 * Nodemailer turns `{ path }` / `{ href }` content into a file read or an HTTP fetch. Our messages
 * carry text that users typed, so no message may make the server read a local file or call a URL.
 * Both mail transports pass these options; nodemailer then forces them onto every message.
 */
export const SMTP_SAFETY_OPTIONS = Object.freeze({ disableFileAccess: true, disableUrlAccess: true } as const)

/**
 * nodemailer's defaults (2 min to connect, 10 min of silence) would hold a worker's claim for
 * minutes on a dead server; a retry later is cheaper. The send deadline also covers the time a
 * message waits in the pool queue and a server that answers one byte at a time.
 */
const TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000, dnsTimeout: 10_000 }
const SEND_DEADLINE_MS = 60_000

export interface SmtpTransportOptions {
  /** `smtp://user:pass@host:port` (STARTTLS when offered) or `smtps://…` (TLS from the start). */
  url: string
  /** From for a mail whose own `from` is empty. */
  from?: string | undefined
  /** One pool of up to 5 connections (default), or a new connection per mail. */
  pool?: boolean | undefined
  /** Deadline for one send, queueing included. */
  sendDeadlineMs?: number | undefined
}

/** Creates the SMTP transport. Throws only on a malformed `url` (a boot-time configuration error). */
export function createSmtpTransport(opts: SmtpTransportOptions): EmailTransport {
  const connection = connectionFromUrl(opts.url)
  const options: SMTPTransportOptions = { ...connection, ...TIMEOUTS, logger: false, ...SMTP_SAFETY_OPTIONS }
  const transporter: Transporter<SMTPSentMessageInfo, SMTPTransportOptions> =
    opts.pool === false
      ? nodemailer.createTransport(options)
      : nodemailer.createTransport({ ...options, pool: true, maxConnections: 5 })
  const redact = redactor(connection.auth?.pass)
  const deadlineMs = opts.sendDeadlineMs ?? SEND_DEADLINE_MS

  return {
    async send(mail) {
      const built = buildMailOptions(mail, opts.from)
      if ('refused' in built) return built.refused
      try {
        const info = await transporter.sendMail({ ...built.options, signal: AbortSignal.timeout(deadlineMs) })
        return redact(resultFromInfo(info))
      } catch (err) {
        return redact(resultFromError(err))
      }
    },
    async close() {
      // Idle pooled connections close now; one in the middle of a message finishes it first.
      transporter.close()
    },
  }
}

/**
 * Parsed by hand rather than handing `url` to nodemailer: nodemailer lets `?query` keys of the URL
 * override the options object, so `?disableFileAccess=false` would reopen the sandbox.
 */
function connectionFromUrl(raw: string) {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    // Node's own error carries the input, password included: say what is wrong without it.
    throw new Error('SMTP_URL is not a valid URL')
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new Error('SMTP_URL must be smtp:// or smtps://')
  if (url.search) throw new Error('SMTP_URL must not carry ?options')
  const secure = url.protocol === 'smtps:'
  const user = decodeURIComponent(url.username)
  const pass = decodeURIComponent(url.password)
  return {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'), // an IPv6 literal loses its brackets
    port: url.port ? Number(url.port) : secure ? 465 : 587,
    secure,
    ...(user || pass ? { auth: { user, pass } } : {}),
  }
}

// RFC 5322 field name: printable ASCII but ':'. Anything else could end the header block early.
const HEADER_NAME = /^[!-9;-~]+$/
// Headers the OutgoingEmail fields own; an extra header must not re-route or re-identify a mail.
const OWNED_HEADER =
  /^(from|sender|to|cc|bcc|subject|message-id|date|mime-version|content-type|content-transfer-encoding)$/i
// One mailbox, no display name, no list: a ',' here would make nodemailer add a second recipient.
const ONE_ADDRESS = /^[^\s<>,;:"()[\]\\@]+@[^\s<>,;:"()[\]\\@]+$/
const MESSAGE_ID = /^<[^\s<>@]+@[^\s<>@]+>$/
const singleLine = (s: string) => s.replace(/[\r\n]+/g, ' ')
const PLAIN_VALUE = /^[\x20-\x7e]*$/

/**
 * The nodemailer message for `mail`, shared by the SMTP and `.eml` transports, or a permanent
 * refusal when `mail` cannot be sent as given. Every header value is made a single line here
 * (nodemailer does it too; this keeps header injection out whatever the library version).
 */
export function buildMailOptions(
  mail: OutgoingEmail,
  defaultFrom?: string,
): { options: SendMailOptions } | { refused: DeliveryResult } {
  const refuse = (detail: string) => ({ refused: { ok: false, retryable: false, detail } })
  if (!ONE_ADDRESS.test(mail.to.email)) return refuse('invalid recipient address')
  if (!MESSAGE_ID.test(mail.messageId)) return refuse('invalid Message-ID (expected <id@host>)')
  if (mail.envelopeFrom !== undefined && !ONE_ADDRESS.test(mail.envelopeFrom))
    return refuse('invalid envelope sender address')
  const headers: Record<string, string | { prepared: true; value: string }> = {}
  for (const [name, value] of Object.entries(mail.headers ?? {})) {
    if (!HEADER_NAME.test(name) || OWNED_HEADER.test(name))
      return refuse(`header name not allowed: ${JSON.stringify(name)}`)
    const line = singleLine(value)
    // Plain ASCII that fits a line goes as it is: nodemailer would otherwise turn a long value
    // without spaces (an email service's JSON metadata) into RFC 2047 encoded words, which the
    // service reads as garbage. Anything else is still encoded by nodemailer.
    headers[name] = PLAIN_VALUE.test(line) && name.length + line.length <= 996 ? { prepared: true, value: line } : line
  }
  return {
    options: {
      messageId: mail.messageId,
      from: singleLine(mail.from || defaultFrom || ''),
      to: { name: singleLine(mail.to.name ?? ''), address: mail.to.email },
      subject: singleLine(mail.subject),
      text: mail.text,
      ...(mail.html === undefined ? {} : { html: mail.html }),
      headers,
      ...(mail.envelopeFrom === undefined ? {} : { envelope: { from: mail.envelopeFrom, to: mail.to.email } }),
    },
  }
}

/** The server took the message; only a refused recipient (possible once a list is sent) spoils it. */
function resultFromInfo(info: SMTPSentMessageInfo): DeliveryResult {
  if (info.rejected.length > 0) {
    const first = info.rejectedErrors?.[0]
    return first
      ? resultFromError(first)
      : { ok: false, retryable: false, recipientRejected: true, detail: 'recipient rejected' }
  }
  return { ok: true, retryable: false, detail: brief(info.response) }
}

// Local errors that another try would meet again: the message itself cannot be built or sent.
const PERMANENT_LOCAL = new Set(['EENVELOPE', 'ECONFIG', 'EFILEACCESS', 'EURLACCESS', 'EMAXRECIPIENTS', 'EOTP'])
// Our own credentials failing is an operator's fix, not the message's fault: keep retrying.
const OUR_SIDE = new Set(['EAUTH', 'ENOAUTH'])

/** Maps a nodemailer (or file system) error to a result. Exported for the `.eml` transport and tests. */
export function resultFromError(err: unknown): DeliveryResult {
  const e = (err ?? {}) as NodemailerError
  const status = e.responseCode
  if (typeof status === 'number' && status >= 400 && status < 600 && !OUR_SIDE.has(e.code ?? '')) {
    const detail = brief(e.response || String(status))
    // 503 is "bad sequence of commands": a session out of step, which a new connection cures.
    if (status < 500 || status === 503) return { ok: false, retryable: true, detail }
    return isMailboxRefusal(e)
      ? { ok: false, retryable: false, recipientRejected: true, detail }
      : { ok: false, retryable: false, detail }
  }
  if (e.code === 'EABORT') return { ok: false, retryable: true, detail: 'no answer before the send deadline' }
  const code = [e.code, e.originalCode].filter(Boolean).join('/')
  const detail = brief(code ? `${code}: ${e.message ?? ''}` : String(e.message ?? err))
  // Connection refused/reset, DNS, TLS, timeouts, a dropped session and anything unknown: retry.
  return { ok: false, retryable: !PERMANENT_LOCAL.has(e.code ?? ''), detail }
}

/**
 * A 5xx says "never", but only some say "this mailbox": the enhanced status 5.1.x (address) or
 * 5.2.x (mailbox) does; 5.7.x (policy, e.g. relaying denied to *us*) does not. Without an enhanced
 * status, a refusal of RCPT TO is about the recipient.
 */
function isMailboxRefusal(e: NodemailerError): boolean {
  const enhanced = /\b5\.(\d{1,3})\.\d{1,3}\b/.exec(e.response ?? '')
  if (enhanced) return enhanced[1] === '1' || enhanced[1] === '2'
  return (e.command ?? '').toUpperCase().startsWith('RCPT')
}

/** One short line for `lastError` and the log. */
function brief(s: string): string {
  const line = s.replace(/\s+/g, ' ').trim()
  return line.length > 300 ? `${line.slice(0, 297)}...` : line
}

/** Belt and braces: no server answer or error text should echo the password, but never let it. */
function redactor(secret: string | undefined) {
  if (!secret || secret.length < 4) return (r: DeliveryResult) => r
  return (r: DeliveryResult) => ({ ...r, detail: r.detail.split(secret).join('***') })
}
