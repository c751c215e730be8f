import { call } from './client.ts'
import type { CorrectionRequest, CorrectionRequestList } from './types.ts'

const requests = (accountId: string) => `/v1/accounts/${encodeURIComponent(accountId)}/correction-requests`

/** What recipients said through "Not the right person?" and nobody has dismissed yet, newest first (the API's default page). */
export const listOpenCorrections = (accountId: string) =>
  call<CorrectionRequestList>(`${requests(accountId)}?status=open`)

/** Takes a request off the banner (admins only: a member is answered 403); answers it as it is now. */
export const dismissCorrection = (accountId: string, requestId: string) =>
  call<CorrectionRequest>(`${requests(accountId)}/${encodeURIComponent(requestId)}/dismiss`, { method: 'POST' })
