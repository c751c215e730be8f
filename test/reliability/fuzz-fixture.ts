import { sql } from 'kysely'

import type { TestApp } from '../helpers/build-test-app.ts'
import { makeAccount, putSheet, sessionFor } from '../helpers/factories.ts'
import { type IdRef } from './fuzz-arbitraries.ts'

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
    const a = await makeAccount(t, {
      extraUsers: 6,
      locale: this.seeds % 2 ? 'fi' : 'en',
      ...(this.seeds % 3 === 2 ? { allowedEmailDomains: ['example.org'] } : {}),
    })
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
    await this.expect(
      201,
      t.call({
        method: 'PUT',
        url: `/v1/accounts/${a.accountId}/users/${u.u6}`,
        payload: { email: `${u.u6}@example.com`, name: 'Gone', role: 'member', status: 'deactivated' },
      }),
      200,
    )
    const sent = await this.expect(
      202,
      t.call({
        method: 'POST',
        url: `/v1/accounts/${a.accountId}/notifications`,
        payload: { category: 'invoice', subject: 'Invoice 1', text: 'Hello' },
      }),
    )
    const hook = await this.expect(
      201,
      t.call({ method: 'POST', url: '/v1/webhook-endpoints', payload: { url: 'http://127.0.0.1:9/fuzz-hook' } }),
    )
    const cast = await this.expect(
      202,
      t.call({
        method: 'POST',
        url: '/v1/broadcasts',
        payload: { category: 'renewal', subject: 'Renewal', text: 'Hi', accountIds: [a.accountId] },
      }),
    )
    this.accounts.push(a.accountId)
    this.users.set(a.accountId, Object.values(u))
    this.notifications.set(a.accountId, [sent.id])
    this.endpoints.push(hook.id)
    this.broadcasts.push(cast.id)
    this.current = {
      accountId: a.accountId,
      sessions: {
        admin: await sessionFor(t, a.accountId, u.admin!),
        billing: await sessionFor(t, a.accountId, u.billing!),
        member: await sessionFor(t, a.accountId, u.member!),
      },
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
    const pickFrom = (list: readonly string[]) =>
      list.length > 0 ? list[Math.floor(ref.pick * list.length)]! : ref.random
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
        // the links of the verification mails queued so far: the token is derived from the
        // secret key and the verification's id, as the worker does when it sends the mail
        const rows = await this.t.handle.db
          .selectFrom('email_verifications')
          .select(['account_id', 'id'])
          .orderBy('id')
          .execute()
        return pickFrom(rows.map((r) => this.t.services.secrets.verificationToken(r.account_id, r.id)))
      }
      case 'etag': {
        const row = await this.t.handle.db
          .selectFrom('accounts')
          .select('contacts_version')
          .where('id', '=', acc)
          .executeTakeFirst()
        if (!row) return ref.random
        // "other": a stale version, or a form the server must not take for the current one
        return other
          ? pickFrom([`"${row.contacts_version - 1}"`, `W/"${row.contacts_version}"`, '*', `${row.contacts_version}`])
          : `"${row.contacts_version}"`
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
    if ((operationId === 'sendNotification' || operationId === 'sendTestNotification') && accountId)
      add(this.notifications, accountId, body.id)
    if (operationId === 'createBroadcast') this.broadcasts.push(body.id)
    if (operationId === 'createWebhookEndpoint') this.endpoints.push(body.id)
  }
}

/**
 * Counts every row written from now on, in this test's own database: a row trigger on each table
 * adds one to `fuzz_writes.n`, in the writer's transaction (so a write that rolls back counts
 * nothing). API keys are left out: using one stamps `last_used_at`, which is not a change a
 * request makes. Reading the count after each request is one tiny query, where hashing the
 * tables would cost more than the request.
 */
export async function countWrites(t: TestApp): Promise<void> {
  const db = t.handle.db
  await sql`create table fuzz_writes (n bigint not null)`.execute(db)
  await sql`insert into fuzz_writes values (0)`.execute(db)
  await sql
    .raw(
      `create function fuzz_count_write() returns trigger language plpgsql as $$
    begin update fuzz_writes set n = n + 1; return null; end $$`,
    )
    .execute(db)
  const { rows } = await sql<{ name: string }>`select table_name as name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE'
      and table_name not in ('api_keys', 'fuzz_writes') and table_name not like 'kysely_migration%'`.execute(db)
  if (rows.length < 10) throw new Error(`fuzz: only ${rows.length} tables to watch`)
  for (const { name } of rows) {
    await sql`create trigger fuzz_count_write after insert or update or delete on ${sql.table(name)} for each row execute function fuzz_count_write()`.execute(
      db,
    )
  }
}

/** How many rows have been written so far (see `countWrites`). */
export async function fingerprint(t: TestApp): Promise<string> {
  const { rows } = await sql<{ n: string }>`select n::text as n from fuzz_writes`.execute(t.handle.db)
  return rows[0]!.n
}
