import { sql } from 'kysely'

import type { HealthProblemCode } from '../../src/account-health/account-health.schemas.ts'
import { suppressWrite } from '../../src/bounces/bounces.repository.ts'
import type { TestApp } from './build-test-app.ts'
import { makeAccount } from './factories.ts'

const DAY_MS = 24 * 60 * 60 * 1000

async function ok(res: Promise<{ statusCode: number; body: string }>, what: string) {
  const r = await res
  if (r.statusCode >= 300) throw new Error(`${what}: ${r.statusCode} ${r.body}`)
}

/**
 * Accounts in every state of health, made through the API (and the delivery record, for refused
 * addresses): two healthy ones, and one or more of each problem. Answers each account's expected
 * problem codes; healthy accounts have none.
 */
export async function makeHealthCases(app: TestApp): Promise<Map<string, HealthProblemCode[]>> {
  const expected = new Map<string, HealthProblemCode[]>()
  const filled = async (extra?: (id: string, users: Record<string, string>) => Promise<void>) => {
    const { accountId, users } = await makeAccount(app)
    await ok(
      app.call({ method: 'PUT', url: `/v1/accounts/${accountId}/contacts/primary`, payload: { userId: users.admin } }),
      'primary',
    )
    await ok(
      app.call({
        method: 'POST',
        url: `/v1/accounts/${accountId}/contacts/billing`,
        payload: { userId: users.billing },
      }),
      'billing',
    )
    await extra?.(accountId, users)
    return { accountId, users }
  }

  expected.set((await filled()).accountId, [])
  const withUserSecurity = await filled((id, users) =>
    ok(
      app.call({ method: 'PUT', url: `/v1/accounts/${id}/contacts/security`, payload: { userId: users.member } }),
      'security user',
    ),
  )
  expected.set(withUserSecurity.accountId, [])

  expected.set((await makeAccount(app)).accountId, ['no-primary-contact', 'no-billing-contact'])

  const pending = await filled((id) =>
    ok(
      app.call({
        method: 'PUT',
        url: `/v1/accounts/${id}/contacts/security`,
        payload: { email: `soc-${id}@outside.example` },
      }),
      'security email',
    ),
  )
  expected.set(pending.accountId, ['security-contact-unverified'])

  const overdue = await filled()
  await app.services.db
    .updateTable('accounts')
    .set({ contacts_reviewed_at: new Date(Date.now() - 200 * DAY_MS) })
    .where('id', '=', overdue.accountId)
    .execute()
  expected.set(overdue.accountId, ['review-overdue'])

  // never reviewed: counts from the account's creation
  const old = await makeAccount(app)
  await sql`update accounts set created_at = now() - interval '200 days' where id = ${old.accountId}`.execute(
    app.services.db,
  )
  expected.set(old.accountId, ['no-primary-contact', 'no-billing-contact', 'review-overdue'])

  // nobody to receive it: no users at all
  const empty = `empty-${Date.now().toString(36)}`
  await ok(
    app.call({ method: 'POST', url: '/v1/accounts', payload: { id: empty, name: 'Nobody Oy' } }),
    'empty account',
  )
  await ok(
    app.call({
      method: 'POST',
      url: `/v1/accounts/${empty}/notifications`,
      payload: { category: 'invoice', subject: 'Invoice', text: 'x' },
    }),
    'notify',
  )
  expected.set(empty, ['no-primary-contact', 'no-billing-contact', 'undeliverable-notifications'])

  // refused by the mail server: two current contacts (listed) and a former address (ignored)
  const refused = await filled()
  for (const email of [
    `${refused.users.billing}@example.com`,
    `${refused.users.admin}@EXAMPLE.com`,
    'former@example.com',
  ]) {
    await refuse(app.services.db, refused.accountId, email)
  }
  expected.set(refused.accountId, ['undeliverable-notifications'])

  const formerOnly = await filled()
  await refuse(app.services.db, formerOnly.accountId, 'former@example.com')
  expected.set(formerOnly.accountId, [])

  // a child judged on what it inherits (issue 16): the parent's primary and billing contacts count,
  // and so does the parent's address refused on the child's own list; a `none` rule takes them away
  const parent = await filled()
  expected.set(parent.accountId, [])
  const child = await makeAccount(app, { parentAccountId: parent.accountId })
  expected.set(child.accountId, [])
  const grandchild = await makeAccount(app, { parentAccountId: child.accountId })
  await refuse(app.services.db, grandchild.accountId, `${parent.users.billing}@example.com`)
  expected.set(grandchild.accountId, ['undeliverable-notifications'])
  const cut = await makeAccount(app, { parentAccountId: parent.accountId })
  await ok(
    app.call({ method: 'PUT', url: `/v1/accounts/${cut.accountId}/contacts/rules/billing`, payload: { rule: 'none' } }),
    'rule',
  )
  expected.set(cut.accountId, ['no-billing-contact'])
  return expected
}

/** A mail server refused the address for good: it is on the account's suppression list. */
const refuse = (db: Parameters<typeof suppressWrite>[0], accountId: string, email: string) =>
  suppressWrite(db, {
    accountId,
    email,
    kind: 'hard_bounce',
    reason: '550 no such user',
    source: 'smtp',
    deliveryId: 'd',
  }).execute()
