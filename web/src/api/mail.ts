import { call } from './client.ts'
import type { Notification, NotificationPage } from './types.ts'

const notifications = (accountId: string) => `/v1/accounts/${encodeURIComponent(accountId)}/notifications`

/** The account's notifications with their deliveries, newest first, a page at a time. */
export const listNotifications = (accountId: string, cursor: string | null, limit: number) =>
  call<NotificationPage>(
    `${notifications(accountId)}?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
  )

/** Sends a notification again to whoever its category reaches now and has not had it; answers it as it is now. */
export const resendNotification = (accountId: string, notificationId: string) =>
  call<Notification>(`${notifications(accountId)}/${encodeURIComponent(notificationId)}/resend`, { method: 'POST' })
