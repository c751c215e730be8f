import { sql } from 'kysely'
import type { TestApp } from '../helpers/build-test-app.ts'
import { makeAccount, putSheet, sessionFor } from '../helpers/factories.ts'
import { IdRef } from './fuzz-arbitraries.ts'

/*
 * The data the fuzzer aims at: an account with users and a full contact sheet, a notification, a
 * webhook endpoint and a broadcast, plus sessions of its super admin, billing admin and member.
 * The pools grow with whatever the fuzzed requests create, so later requests reach that too.
 */

export interface Fixture {
  accountId: string
  sessions: { admin: string; billing: string; member: string }
}

export class FuzzState {
  current!: Fixture
  readonly accounts: string[] = []
  readonly users = new Map<string, string[]>()
  readonly notifications = new Map<string, string[]>()
  readonly broadcasts: string[] = []
  readonly endpoints: string[] = []
  readonly cursors: string[] = []
  readonly idempotencyKeys = ['fuzz-key-1', 'fuzz-key-2', 'fuzz-key-3']
  seeds = 0

  constructor(private readonly t: TestApp) {}

  /** A new fixture account: the old ones stay, as "other" accounts of later requests. */
  async seed(): Promise<void> {
    const t = this.t
    const a = await makeAccount(t, { extraUsers: 6, locale: this.seeds % 2 ? 'fi' : 'en', ...(this.seeds % 3 === 2 ? { allowedEmailDomains: ['example.org'] } : {}) })
    const u = a.users
    await putSheet(t, a.accountId, {
      primary: { userId: u.admin },
      // two of three billing places taken: adding one can succeed, and then the limit answers
      billing: [{ userId: u.billing }, { userId: u.u1 }],
      decisionMaker: { userId: u.u3 },
      onboarding: { userId: u.u4 },
      security: { email: 'soc@example.org' },
      technicalAdmin: { userId: u.u5 },
    })
    // a deactivated user, so that "user-not-active" is reachable
    await this.expect(201, t.call({ method: 'PUT', url: `/v1/accounts/${a.accountId}/users/${u.u6}`, payload: { email: `${u.u6}@example.com`, name: 'Gone', role: 'member', status: 'deactivated' } }), 200)
    const sent = await this.expect(202, t.call({ method: 'POST', url: `/v1/accounts/${a.accountId}/notifications`, payload: { category: 'invoice', subject: 'Invoice 1', text: 'Hello' } }))
    const hook = await this.expect(201, t.call({ method: 'POST', url: '/v1/webhook-endpoints', payload: { url: 'http://127.0.0.1:9/fuzz-hook' } }))
    const cast = await this.expect(202, t.call({ method: 'POST', url: '/v1/broadcasts', payload: { category: 'renewal', subject: 'Renewal', text: 'Hi', accountIds: [a.accountId] } }))
    this.accounts.push(a.accountId)
    this.users.set(a.accountId, Object.values(u))
    this.notifications.set(a.accountId, [sent.id])
    this.endpoints.push(hook.id)
    this.broadcasts.push(cast.id)
    this.current = {
      accountId: a.accountId,
      sessions: { admin: await sessionFor(t, a.accountId, u.admin!), billing: await sessionFor(t, a.accountId, u.billing!), member: await sessionFor(t, a.accountId, u.member!) },
    }
    this.seeds++
  }

  private async expect(status: number, res: Promise<{ statusCode: number; body: string; json(): any }>, alt?: number) {
    const r = await res
    if (r.statusCode !== status && r.statusCode !== alt) throw new Error(`fuzz fixture: ${r.statusCode} ${r.body}`)
    return r.json()
  }

  /** The value an id reference stands for now; `accountId` is the request's account, for users and notifications. */
  async resolve(ref: IdRef, accountId: string | undefined): Promise<string> {
    if (ref.from === 'random') return ref.random
    const pickFrom = (list: readonly string[]) => (list.length > 0 ? list[Math.floor(ref.pick * list.length)]! : ref.random)
    const other = ref.from === 'other'
    const acc = accountId ?? this.current.accountId
    switch (ref.kind) {
      case 'account':
        return other ? pickFrom(this.accounts) : this.current.accountId
      case 'user':
        return other ? pickFrom([...this.users.values()].flat()) : pickFrom(this.users.get(acc) ?? [])
      case 'notification':
        return other ? pickFrom([...this.notifications.values()].flat()) : pickFrom(this.notifications.get(acc) ?? [])
      case 'broadcast':
        return pickFrom(this.broadcasts)
      case 'endpoint':
        return pickFrom(this.endpoints)
      case 'cursor':
        return pickFrom(this.cursors)
      case 'idempotencyKey':
        return pickFrom(this.idempotencyKeys)
      case 'verificationToken': {
        // the links of the verification mails queued so far (single use: a second visit is refused)
        const { rows } = await sql<{ token: string }>`select substring(text from 'verify-email[?]token=([A-Za-z0-9_.%-]+)') as token
          from notifications where kind = 'system' and text like '%verify-email?token=%' order by id`.execute(this.t.handle.db)
        return pickFrom(rows.map((r) => decodeURIComponent(r.token)))
      }
      case 'etag': {
        const row = await this.t.handle.db.selectFrom('accounts').select('contacts_version').where('id', '=', acc).executeTakeFirst()
        if (!row) return ref.random
        // "other": a stale version, or a form the server must not take for the current one
        return other ? pickFrom([`"${row.contacts_version - 1}"`, `W/"${row.contacts_version}"`, '*', `${row.contacts_version}`]) : `"${row.contacts_version}"`
      }
    }
  }

  /** Remembers what a successful answer created, for later requests to use. */
  harvest(operationId: string, accountId: string | undefined, status: number, body: any): void {
    if (status >= 300 || body === null || typeof body !== 'object') return
    if (typeof body.nextCursor === 'string' && this.cursors.length < 50) this.cursors.push(body.nextCursor)
    const add = (map: Map<string, string[]>, key: string, id: string) => {
      const list = map.get(key) ?? []
      if (!list.includes(id)) list.push(id)
      map.set(key, list)
    }
    if (operationId === 'createAccount') this.accounts.push(body.id)
    if (operationId === 'putUser' && accountId) add(this.users, accountId, body.id)
    if ((operationId === 'sendNotification' || operationId === 'sendTestNotification') && accountId) add(this.notifications, accountId, body.id)
    if (operationId === 'createBroadcast') this.broadcasts.push(body.id)
    if (operationId === 'createWebhookEndpoint') this.endpoints.push(body.id)
  }
}

/**
 * What the service has stored, in one string: any write changes it. Cheap enough to take after
 * every request: rows that are only ever added are counted, rows that change carry `updated_at`
 * or a version, and the contact slots are hashed whole. API keys are left out (using one stamps
 * `last_used_at`, which is not a change a request makes).
 */
export async function fingerprint(t: TestApp): Promise<string> {
  const count = (table: string) => sql.raw(`(select count(*)::text from ${table})`)
  const { rows } = await sql<{ f: string }>`select concat_ws(' ',
    (select concat_ws('/', count(*), sum(contacts_version), max(updated_at), max(contacts_reviewed_at)) from accounts),
    (select concat_ws('/', count(*), max(updated_at)) from users),
    (select md5(coalesce(string_agg(x::text, '|' order by x::text), '')) from contact_slots x),
    (select concat_ws('/', count(*), count(used_at)) from email_verifications),
    ${count('webhook_endpoints')}, ${count('undeliverable_addresses')}, ${count('audit_events')}, ${count('events')},
    ${count('notifications')}, ${count('deliveries')}, ${count('broadcasts')}, ${count('idempotency_keys')}, ${count('sessions')}) as f`.execute(t.handle.db)
  return rows[0]!.f
}
