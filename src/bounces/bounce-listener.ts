/**
 * The SMTP server our bounces come back to. Every mail we send has the envelope sender
 * `bounces+<ref>@…` (return-path.ts), so a receiving server that gives up, late or at once, sends
 * its report there; this server accepts mail only for such addresses whose reference verifies,
 * reads the report (dsn.ts) and hands it on once per reference.
 *
 * Nothing is lost on our side: a report is answered 250 only after `onReport` has taken it, and
 * 451 when it throws, so the reporting server keeps the report and tries again later. `onReport`
 * must therefore be idempotent (a retried report comes again with the same Message-ID).
 */
import type { AddressInfo } from 'node:net'

import { SMTPServer, type SMTPServerSession } from 'smtp-server'

import { type Clock, systemClock } from '../lib/clock.ts'
import { type BounceReport, parseBounceReport } from './dsn.ts'
import { refFromAddress } from './return-path.ts'

export interface BounceListenerOptions {
  port: number
  /** The interface to listen on; all of them when absent. */
  host?: string
  /** MAIL_RETURN_PATH, the base address (`bounces@mail.example.com`). */
  returnPath: string
  /** The token of a reference whose signature holds, else undefined (return-path.ts verifyRef). */
  verifyRef: (ref: string) => string | undefined
  /** Takes one report for one of our mails; a throw makes the sender retry the whole message. */
  onReport: (r: { ref: string; token: string; report: BounceReport; receivedAt: Date }) => Promise<void>
  log: { info(o: object, m?: string): void; warn(o: object, m?: string): void }
  /** The largest message accepted, in bytes (1 MiB by default); a larger one is answered 552. */
  maxBytes?: number
  /** Offer STARTTLS with this key and certificate; without them it is not offered. */
  tls?: { key: string | Buffer; cert: string | Buffer }
  clock?: Clock
}

export interface BounceListener {
  /** The port listened on (the one picked when `port` was 0). */
  port: number
  /** Stops accepting connections, lets open sessions finish for a moment, then ends them. */
  close(): Promise<void>
}

const DEFAULT_MAX_BYTES = 1024 * 1024
// How long close() waits for open sessions before cutting them.
const CLOSE_TIMEOUT_MS = 2000
// A report concerns one mail of ours; a transaction with more of our addresses is not one.
const MAX_RECIPIENTS = 20
/**
 * Sessions open at once; one more is answered 421 (try again later) and closed. Reporting servers
 * send a DSN each in a short session and retry a 421, so this is far above their need, and it
 * keeps a flood of idle connections from using up the process's file descriptors and memory.
 */
export const MAX_CLIENTS = 100

/** An error that smtp-server sends as the reply `code message`. */
function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code })
}

/** An address as it may be logged: its domain only. */
function redact(address: string): string {
  const at = address.lastIndexOf('@')
  return at === -1 ? '(no domain)' : address.slice(at + 1).toLowerCase()
}

/** Starts the bounce listener; resolves once it listens. */
export async function startBounceListener(opts: BounceListenerOptions): Promise<BounceListener> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES
  const clock = opts.clock ?? systemClock
  const { log } = opts

  /** The reference in a recipient address and its token, when the address is ours and verifies. */
  const refOf = (address: string) => {
    const ref = refFromAddress(opts.returnPath, address)
    const token = ref === undefined ? undefined : opts.verifyRef(ref)
    return { ref, token }
  }

  /** The verified references of a session's accepted recipients (each once): ref → token. */
  const acceptedRefs = (session: SMTPServerSession) => {
    const refs = new Map<string, string>()
    for (const { address } of session.envelope.rcptTo) {
      const { ref, token } = refOf(address)
      if (ref !== undefined && token !== undefined) refs.set(ref, token)
    }
    return refs
  }

  /** The reply to a complete message of at most maxBytes. */
  const handle = async (raw: Buffer, session: SMTPServerSession): Promise<Error | string> => {
    const refs = acceptedRefs(session)
    const report = parseBounceReport(raw)
    if (!report) {
      // An auto-reply or spam to a bounce address: taking it stops the sender from retrying.
      log.info({ session: session.id, bytes: raw.length }, 'bounce listener: not a bounce report, dropped')
      return 'Accepted (not a report)'
    }
    const receivedAt = clock.now()
    let failed = 0
    for (const [ref, token] of refs) {
      try {
        await opts.onReport({ ref, token, report, receivedAt })
      } catch (err) {
        failed++
        log.warn({ err, session: session.id, token }, 'bounce listener: the report could not be taken')
      }
    }
    if (failed > 0) return smtpError(451, '4.3.0 Temporary failure, please try again later')
    const kinds = report.recipients.map((r) => r.kind)
    log.info({ session: session.id, tokens: [...refs.values()], kinds }, 'bounce listener: report received')
    return 'Report received'
  }

  const server = new SMTPServer({
    logger: false,
    banner: 'bounce listener',
    authOptional: true,
    disabledCommands: opts.tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    ...(opts.tls ? { key: opts.tls.key, cert: opts.tls.cert } : {}),
    size: maxBytes,
    maxRecipients: MAX_RECIPIENTS,
    maxClients: MAX_CLIENTS,
    // The client's name is of no use here, and a reverse lookup costs a DNS round trip per session.
    disableReverseLookup: true,
    closeTimeout: CLOSE_TIMEOUT_MS,

    onRcptTo(address, session, callback) {
      const { ref, token } = refOf(address.address)
      if (token !== undefined) return callback()
      const reason = ref === undefined ? 'not a bounce address' : 'reference does not verify'
      log.warn({ session: session.id, domain: redact(address.address), reason }, 'bounce listener: recipient refused')
      callback(smtpError(550, `5.1.1 Recipient refused: ${reason}`))
    },

    onData(stream, session, callback) {
      const chunks: Buffer[] = []
      let received = 0
      // Past maxBytes the rest is read and thrown away: the client must finish sending before
      // it can read our 552.
      stream.on('data', (chunk: Buffer) => {
        if (received + chunk.length <= maxBytes) chunks.push(chunk)
        received += chunk.length
      })
      stream.on('end', () => {
        if (stream.sizeExceeded || received > maxBytes) {
          log.warn({ session: session.id, bytes: received }, 'bounce listener: message too large, refused')
          return callback(smtpError(552, '5.3.4 Message too large'))
        }
        handle(Buffer.concat(chunks), session).then(
          (reply) => (typeof reply === 'string' ? callback(null, reply) : callback(reply)),
          (err: unknown) => {
            // handle() catches onReport's errors; this is a bug of ours, and the sender may retry
            log.warn({ err, session: session.id }, 'bounce listener: failed to handle a message')
            callback(smtpError(451, '4.3.0 Temporary failure, please try again later'))
          },
        )
      })
    },
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    const listening = () => {
      server.off('error', reject)
      resolve()
    }
    if (opts.host === undefined) server.listen(opts.port, listening)
    else server.listen(opts.port, opts.host, listening)
  })
  // smtp-server reports a client's broken connection as an 'error' event; unheard, it would end the process.
  server.on('error', (err) => log.warn({ err }, 'bounce listener: connection error'))

  return {
    port: (server.server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
