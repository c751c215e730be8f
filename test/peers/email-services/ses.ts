import { execFileSync } from 'node:child_process'
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import {
  type EmailService,
  HARD,
  rawHeader,
  reply,
  RETURN_PATH,
  type ServiceEvent,
  type SmtpReply,
  SOFT,
} from './email-service.ts'

const TOPIC = 'arn:aws:sns:eu-north-1:123456789012:ses-events'
// The fields an SNS Notification's signature covers, in byte order of their names.
const SIGNED = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']

/**
 * Amazon SES through an SNS topic's HTTP subscription: Notifications signed with SignatureVersion 2
 * (SHA256withRSA) under a key and self-signed certificate openssl makes, the certificate served on
 * 127.0.0.1 (the prefix the app is told to allow).
 */
export async function startSes(): Promise<EmailService> {
  const dir = mkdtempSync(join(tmpdir(), 'sns-peer-'))
  const [keyFile, certFile] = [join(dir, 'key.pem'), join(dir, 'cert.pem')]
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1'].concat([
      '-subj',
      '/CN=sns.peer.test',
    ]),
    { stdio: 'ignore' },
  )
  const key = readFileSync(keyFile, 'utf8')
  const cert = readFileSync(certFile)
  const server = createServer((req, res) =>
    req.url === '/cert.pem' ? res.writeHead(200).end(cert) : res.writeHead(404).end(),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  let otherKey: KeyObject | undefined

  return {
    provider: 'ses',
    providers: { ses: { topicArns: [TOPIC], certUrlPrefixes: [base] } },
    // SES takes it from the envelope sender (mail.source), which carries the same reference as our header.
    refOf: (mail) => rawHeader(mail, 'x-account-contacts-ref'),
    hardBounceReason: `smtp; ${reply(HARD)}`,
    post(e, opts = {}) {
      const m: Record<string, string> = {
        Type: 'Notification',
        MessageId: e.eventId,
        TopicArn: TOPIC,
        Subject: 'Amazon SES Email Event Notification',
        Message: JSON.stringify(sesNotification(e)),
        Timestamp: new Date().toISOString(),
        SignatureVersion: '2',
        SigningCertURL: `${base}cert.pem`,
        UnsubscribeURL: `${base}?Action=Unsubscribe&SubscriptionArn=${TOPIC}:1`,
      }
      if (opts.forged) otherKey ??= generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
      const canonical = SIGNED.map((n) => `${n}\n${m[n]}\n`).join('')
      m.Signature = sign('sha256', Buffer.from(canonical), opts.forged ? otherKey! : key).toString('base64')
      const headers = {
        'content-type': 'text/plain; charset=UTF-8',
        'x-amz-sns-message-type': 'Notification',
        'x-amz-sns-message-id': e.eventId,
        'x-amz-sns-topic-arn': TOPIC,
      }
      return { url: '/v1/email-events/ses', headers, body: JSON.stringify(m) }
    },
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** The SES notification (the SNS Message) about one recipient; `mail.source` is the envelope sender SES used. */
function sesNotification(e: ServiceEvent): Record<string, unknown> {
  const at = new Date().toISOString()
  const [local, domain] = RETURN_PATH.split('@')
  const mail = {
    timestamp: at,
    messageId: `0102018e-${e.eventId}`,
    source: `Contacts <${local}+${e.ref}@${domain}>`,
    destination: [e.recipient],
    headersTruncated: false,
  }
  const bounce = (bounceType: string, bounceSubType: string, r: SmtpReply) => ({
    notificationType: 'Bounce',
    bounce: {
      bounceType,
      bounceSubType,
      bouncedRecipients: [
        { emailAddress: e.recipient, action: 'failed', status: r.status, diagnosticCode: `smtp; ${reply(r)}` },
      ],
      timestamp: at,
      feedbackId: `feedback-${e.eventId}`,
      reportingMTA: 'dsn; a1-2.smtp-out.eu-north-1.amazonses.com',
    },
    mail,
  })
  switch (e.kind) {
    case 'hard_bounce':
      return bounce('Permanent', 'General', HARD)
    case 'soft_bounce':
      return bounce('Transient', 'MailboxFull', SOFT)
    case 'complaint': {
      const complainedRecipients = [{ emailAddress: e.recipient }]
      const complaint = {
        complainedRecipients,
        timestamp: at,
        feedbackId: `f-${e.eventId}`,
        complaintFeedbackType: 'abuse',
      }
      return { notificationType: 'Complaint', complaint, mail }
    }
    case 'delivered': {
      const delivery = {
        timestamp: at,
        recipients: [e.recipient],
        smtpResponse: '250 2.0.0 OK',
        processingTimeMillis: 512,
      }
      return { notificationType: 'Delivery', delivery, mail }
    }
  }
}
