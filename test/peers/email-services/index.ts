import type { EmailService } from './email-service.ts'
import { mailgun } from './mailgun.ts'
import { postmark } from './postmark.ts'
import { sendgrid } from './sendgrid.ts'
import { startSes } from './ses.ts'

export type { EmailService, ServiceEvent, WebhookPost } from './email-service.ts'
export { RETURN_PATH } from './email-service.ts'

/** The email service of `provider`, ready to post (SES first makes its certificate and starts serving it). */
export function startEmailService(provider: EmailService['provider']): Promise<EmailService> {
  switch (provider) {
    case 'ses':
      return startSes()
    case 'sendgrid':
      return Promise.resolve(sendgrid())
    case 'mailgun':
      return Promise.resolve(mailgun())
    case 'postmark':
      return Promise.resolve(postmark())
  }
}
