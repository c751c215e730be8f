/**
 * The delivery baseline: a bare loop sending COUNT mails to SMTP_URL through a nodemailer pool of
 * the service's size (5 connections), keeping as many in flight as the worker claims at once (20).
 * No database, no outbox: what the SMTP path alone costs.
 */
import nodemailer from 'nodemailer'

const count = Number(process.env.COUNT)
const url = new URL(process.env.SMTP_URL!)
const transport = nodemailer.createTransport({
  host: url.hostname,
  port: Number(url.port),
  secure: false,
  pool: true,
  maxConnections: 5,
  logger: false,
})
const IN_FLIGHT = 20

let next = 0
async function lane() {
  while (next < count) {
    const i = next++
    await transport.sendMail({
      messageId: `<baseline-${i}@bench.invalid>`,
      from: 'bench@bench.invalid',
      to: `user${i}@company${i}.example`,
      subject: 'Important account notice',
      text: 'Your account has news for you.',
    })
  }
}
await Promise.all(Array.from({ length: IN_FLIGHT }, lane))
transport.close()
