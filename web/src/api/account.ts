import { call } from './client.ts'
import type {
  Account,
  AccountHealth,
  AuditEventPage,
  DemoMailList,
  DescendantHealth,
  PageSession,
  RecipientsPreview,
  SendableCategory,
  SentNotification,
} from './types.ts'

const base = (accountId: string) => `/v1/accounts/${encodeURIComponent(accountId)}`

/** Exchanges the sign-in link's token for the cookie session. */
export const signIn = (token: string) =>
  call<Pick<PageSession, 'accountId' | 'userId' | 'role'>>('/ui/session', { method: 'POST', body: { token } })
export const getSession = () => call<PageSession>('/ui/session')
export const signOut = () => call<undefined>('/ui/sign-out', { method: 'POST' })
export const getDemoMail = () => call<DemoMailList>('/ui/demo-mail')

export const getAccount = (accountId: string) => call<Account>(base(accountId))
export const getHealth = (accountId: string) => call<AccountHealth>(`${base(accountId)}/health`)
/** The accounts below this one, which its admins manage, each with its health (in id order). */
export const listDescendants = (accountId: string) =>
  call<{ data: DescendantHealth[] }>(`${base(accountId)}/descendants`)
/** Who receives each category now, and why, in the policy's order: one request for the whole table. */
export const previewRouting = (accountId: string) => call<{ data: RecipientsPreview[] }>(`${base(accountId)}/routing`)

export const sendTest = (accountId: string, category: SendableCategory) =>
  call<SentNotification>(`${base(accountId)}/notifications/test`, { method: 'POST', body: { category } })

export const listAuditEvents = (accountId: string, cursor: string | null, limit = 20) =>
  call<AuditEventPage>(
    // a sign-in is not a change of the contacts: the page's history leaves the host product's sessions out
    `${base(accountId)}/audit-events?limit=${limit}&exclude=session.created${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
  )
