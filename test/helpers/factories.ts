import type { UserRole } from '../../src/lib/actor.ts'
import type { TestApp } from './build-test-app.ts'

let n = 0
const unique = () => `${Date.now().toString(36)}${(n++).toString(36)}`

export interface MadeAccount {
  accountId: string
  /** user ids by role-ish name: admin (super_admin), billing (billing_admin), member, plus extra u1..uN (members) */
  users: Record<string, string>
}

/**
 * An account with a super admin, a billing admin, a member and `extraUsers` more members, made
 * through the API as a host product would.
 */
export async function makeAccount(
  t: TestApp,
  opts: { extraUsers?: number; locale?: 'en' | 'fi'; allowedEmailDomains?: string[]; parentAccountId?: string } = {},
): Promise<MadeAccount> {
  const accountId = `acc-${unique()}`
  const res = await t.call({
    method: 'POST',
    url: '/v1/accounts',
    payload: {
      id: accountId,
      name: `Account ${accountId}`,
      ...(opts.locale ? { locale: opts.locale } : {}),
      ...(opts.allowedEmailDomains ? { allowedEmailDomains: opts.allowedEmailDomains } : {}),
      ...(opts.parentAccountId ? { parentAccountId: opts.parentAccountId } : {}),
    },
  })
  if (res.statusCode !== 201) throw new Error(`makeAccount: ${res.statusCode} ${res.body}`)
  const users: Record<string, string> = {}
  const roles: [string, UserRole][] = [
    ['admin', 'super_admin'],
    ['billing', 'billing_admin'],
    ['member', 'member'],
  ]
  for (let i = 1; i <= (opts.extraUsers ?? 0); i++) roles.push([`u${i}`, 'member'])
  for (const [key, role] of roles) {
    const userId = `${key}-${unique()}`
    const r = await t.call({
      method: 'PUT',
      url: `/v1/accounts/${accountId}/users/${userId}`,
      payload: { email: `${userId}@example.com`, name: `User ${key}`, role },
    })
    if (r.statusCode !== 201) throw new Error(`makeAccount user: ${r.statusCode} ${r.body}`)
    users[key] = userId
  }
  return { accountId, users }
}

/** A session token for a user of the account, minted with the platform key. */
export async function sessionFor(t: TestApp, accountId: string, userId: string): Promise<string> {
  const res = await t.call({ method: 'POST', url: `/v1/accounts/${accountId}/sessions`, payload: { userId } })
  if (res.statusCode !== 201) throw new Error(`sessionFor: ${res.statusCode} ${res.body}`)
  return res.json().token
}

/** The sheet and its ETag. */
export async function getSheet(t: TestApp, accountId: string) {
  const res = await t.call({ method: 'GET', url: `/v1/accounts/${accountId}/contacts` })
  return { sheet: res.json(), etag: res.headers.etag as string }
}

/** Replaces the whole sheet with the current ETag, as an admin's page would; fails the test on anything but 200. */
export async function putSheet(t: TestApp, accountId: string, payload: Record<string, unknown>) {
  const { etag } = await getSheet(t, accountId)
  const res = await t.call({
    method: 'PUT',
    url: `/v1/accounts/${accountId}/contacts`,
    headers: { 'if-match': etag },
    payload,
  })
  if (res.statusCode !== 200) throw new Error(`putSheet: ${res.statusCode} ${res.body}`)
  return res.json()
}
