/**
 * Concurrent writes through the real HTTP API, and the check that each one either fully landed or
 * changed nothing and answered a problem. Used by faults.test.ts while faults are injected.
 *
 * Every request carries its own `X-Request-Id`, which the service writes into the audit event (or
 * the notification) of the change: so "did it land?" is read back from the database, directly,
 * per request, not inferred from the answer.
 */
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'

import { sql } from 'kysely'

import type { Db } from '../../src/db/database.ts'
import type { TestApp } from '../helpers/build-test-app.ts'
import { type MadeAccount, makeAccount } from '../helpers/factories.ts'

export type WriteKind = 'sheet' | 'billing' | 'user' | 'notify'

export interface Sent {
  kind: WriteKind
  phase: string
  accountId: string
  requestId: string
  method: string
  url: string
  payload: unknown
  headers: Record<string, string>
  status: number
  contentType: string
  body: Record<string, unknown> | undefined
  ms: number
}

/** Per phase: what was sent and how it ended. `lost` (answered 2xx, not there) must be 0. */
export interface PhaseFigures {
  sent: number
  ok: number
  landed: number
  /** Answered a problem and changed nothing: by a rule (4xx, e.g. a fourth billing contact)... */
  refused: number
  /** ...or because of the fault (5xx). */
  failed: number
  /** Answered a problem although the change committed: the answer was lost after COMMIT. */
  ambiguous: number
  lost: number
  slowestMs: number
}

// A 5xx must say nothing about what failed inside; these would give it away.
const LEAK = /postgres|pg_|sql|econn|etimedout|timeout|terminat|socket|connection|stack|kysely|node_modules/i

/** A small seeded generator (mulberry32), so a failing run can be replayed with its seed. */
function rng(seed: number) {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return { next, pick: <T>(xs: T[]): T => xs[Math.floor(next() * xs.length)]! }
}

/**
 * A write workload over `accounts` accounts of `app` (listening on a real port). `burst(phase)`
 * sends, per account and at once: a whole-sheet PUT (If-Match), two billing adds, two user
 * upserts and two notifications with an Idempotency-Key.
 */
export async function writeWorkload(app: TestApp, opts: { accounts: number; seed: number; reader?: Db }) {
  await app.app.listen({ port: 0, host: '127.0.0.1' })
  const base = `http://127.0.0.1:${(app.app.server.address() as AddressInfo).port}`
  // not through any proxy: what really landed; a pool of its own (`reader`) where the fault
  // ends the service's connections, which would otherwise end these reads too
  const direct = opts.reader ?? app.handle.db
  const made: MadeAccount[] = []
  for (let i = 0; i < opts.accounts; i++) made.push(await makeAccount(app, { extraUsers: 8 }))
  const r = rng(opts.seed)
  const sent: Sent[] = []
  let n = 0

  async function send(
    s: Omit<Sent, 'requestId' | 'status' | 'contentType' | 'body' | 'ms'>,
    requestId = `flt-${s.phase}-${n++}`,
  ): Promise<Sent> {
    const started = Date.now()
    let out: Sent
    try {
      const res = await fetch(base + s.url, {
        method: s.method,
        headers: {
          authorization: `Bearer ${app.apiKey}`,
          'content-type': 'application/json',
          'x-request-id': requestId,
          ...s.headers,
        },
        body: JSON.stringify(s.payload),
        // far above every bound the service has: reaching it means a request hung
        signal: AbortSignal.timeout(45_000),
      })
      const text = await res.text()
      out = {
        ...s,
        requestId,
        status: res.status,
        contentType: res.headers.get('content-type') ?? '',
        body: text ? JSON.parse(text) : undefined,
        ms: Date.now() - started,
      }
    } catch (err) {
      throw new Error(`${s.method} ${s.url} (${requestId}) got no answer: ${String(err)}`, { cause: err })
    }
    sent.push(out)
    return out
  }

  async function sheetPut(a: MadeAccount, phase: string) {
    // the version and holder are read directly, so the PUT is the only request of this write
    const { contacts_version } = await direct
      .selectFrom('accounts')
      .select('contacts_version')
      .where('id', '=', a.accountId)
      .executeTakeFirstOrThrow()
    const primary = await direct
      .selectFrom('contact_slots')
      .select('user_id')
      .where('account_id', '=', a.accountId)
      .where('slot', '=', 'primary')
      .executeTakeFirst()
    // a holder other than the current one, so a 200 is always a change
    const userId = r.pick(Object.values(a.users).filter((u) => u !== primary?.user_id))
    return send({
      kind: 'sheet',
      phase,
      accountId: a.accountId,
      method: 'PUT',
      url: `/v1/accounts/${a.accountId}/contacts`,
      headers: { 'if-match': `"${contacts_version}"` },
      payload: { primary: { userId } },
    })
  }

  const billingAdd = (a: MadeAccount, phase: string) =>
    send({
      kind: 'billing',
      phase,
      accountId: a.accountId,
      method: 'POST',
      url: `/v1/accounts/${a.accountId}/contacts/billing`,
      headers: {},
      payload: { userId: r.pick(Object.values(a.users)) },
    })

  const userPut = (a: MadeAccount, phase: string) => {
    const userId = `f${n}-${Math.floor(r.next() * 1e9).toString(36)}`
    return send({
      kind: 'user',
      phase,
      accountId: a.accountId,
      method: 'PUT',
      url: `/v1/accounts/${a.accountId}/users/${userId}`,
      headers: {},
      payload: { email: `${userId}@example.com`, name: `Faulty ${userId}`, role: 'member' },
    })
  }

  const notify = (a: MadeAccount, phase: string) =>
    send({
      kind: 'notify',
      phase,
      accountId: a.accountId,
      method: 'POST',
      url: `/v1/accounts/${a.accountId}/notifications`,
      headers: { 'idempotency-key': `key-${phase}-${n}-${Math.floor(r.next() * 1e9).toString(36)}` },
      payload: { category: 'account_update', subject: `Maintenance ${n}`, text: 'The service pauses on Saturday.' },
    })

  return {
    base,
    accounts: made,
    sent,

    /** One burst of concurrent writes; resolves with what each answered. */
    burst(phase: string): Promise<Sent[]> {
      const jobs: Promise<Sent>[] = []
      for (const a of made) {
        jobs.push(
          sheetPut(a, phase),
          billingAdd(a, phase),
          billingAdd(a, phase),
          userPut(a, phase),
          userPut(a, phase),
          notify(a, phase),
          notify(a, phase),
        )
      }
      return Promise.all(jobs)
    },

    /** Sends `s` again as it was (same Idempotency-Key), with a new request id. */
    resend: (s: Sent, phase: string) =>
      send({
        kind: s.kind,
        phase,
        accountId: s.accountId,
        method: s.method,
        url: s.url,
        headers: s.headers,
        payload: s.payload,
      }),

    /**
     * Reads back what landed and checks every request and every account (see the file's
     * comment); answers the figures by phase.
     */
    async verify(opts: { ambiguousAllowedIn: string[] }): Promise<Record<string, PhaseFigures>> {
      const ids = sent.map((s) => s.requestId)
      const audits = await direct
        .selectFrom('audit_events')
        .select(['request_id', 'action', 'account_id'])
        .where('request_id', 'in', ids)
        .execute()
      const notes = await direct
        .selectFrom('notifications')
        .select(['request_id', 'id', 'account_id'])
        .where('kind', '=', 'notification')
        .where('request_id', 'in', ids)
        .execute()
      const auditsOf = new Map<string, number>()
      for (const a of audits) auditsOf.set(a.request_id!, (auditsOf.get(a.request_id!) ?? 0) + 1)
      const noteOf = new Map(notes.map((x) => [x.request_id!, x]))
      const figures: Record<string, PhaseFigures> = {}

      for (const s of sent) {
        const f = (figures[s.phase] ??= {
          sent: 0,
          ok: 0,
          landed: 0,
          refused: 0,
          failed: 0,
          ambiguous: 0,
          lost: 0,
          slowestMs: 0,
        })
        f.sent++
        f.slowestMs = Math.max(f.slowestMs, s.ms)
        const what = `${s.method} ${s.url} (${s.requestId}, phase ${s.phase}) answered ${s.status} ${JSON.stringify(s.body)}`
        // exactly one audit event per change, never two
        assert.ok((auditsOf.get(s.requestId) ?? 0) <= 1, `${what}: more than one audit event`)
        const landed = s.kind === 'notify' ? noteOf.has(s.requestId) : auditsOf.has(s.requestId)
        if (landed) f.landed++
        if (s.kind === 'user') {
          const userId = s.url.split('/').at(-1)!
          const row = await direct
            .selectFrom('users')
            .select('id')
            .where('account_id', '=', s.accountId)
            .where('id', '=', userId)
            .executeTakeFirst()
          assert.equal(Boolean(row), landed, `${what}: the user row and its audit event disagree`)
        }
        if (s.kind === 'notify' && landed) {
          // the notification came with its deliveries and its key's stored answer, or not at all
          const id = noteOf.get(s.requestId)!.id
          const d = await sql<{
            n: number
          }>`select count(*)::int as n from deliveries where account_id = ${s.accountId} and notification_id = ${id}`.execute(
            direct,
          )
          assert.ok(d.rows[0]!.n >= 1, `${what}: a notification without deliveries`)
          const key = await direct
            .selectFrom('idempotency_keys')
            .select(['status', 'response_body'])
            .where('account_id', '=', s.accountId)
            .where('key', '=', s.headers['idempotency-key']!)
            .executeTakeFirstOrThrow()
          assert.equal(key.status, 'done', `${what}: landed but its key is not done`)
          assert.equal((key.response_body as { id: string }).id, id, `${what}: the key answers another notification`)
        }
        if (s.status >= 200 && s.status < 300) {
          f.ok++
          if (!landed) f.lost++
          assert.ok(landed, `${what}: answered success but nothing landed`)
          continue
        }
        // a refusal: a problem, with the request id; a 5xx says nothing of what broke inside
        assert.match(s.contentType, /^application\/problem\+json/, what)
        assert.equal(s.body?.requestId, s.requestId, what)
        assert.equal(s.body?.status, s.status, what)
        if (s.status >= 500) {
          // a database that cannot be reached is a 503 (retry); anything else broken inside, a 500
          assert.ok(
            s.body?.code === 'internal' || s.body?.code === 'unavailable' || s.body?.code === 'service-unavailable',
            what,
          )
          assert.doesNotMatch(String(s.body?.detail).replace(s.requestId, ''), LEAK, what)
        } else {
          assert.ok(!landed, `${what}: refused with a 4xx but landed`)
        }
        if (landed) {
          f.ambiguous++
          assert.ok(
            opts.ambiguousAllowedIn.includes(s.phase),
            `${what}: landed although it answered a problem, with no connection cut`,
          )
        } else if (s.status >= 500) {
          f.failed++
        } else {
          f.refused++
        }
      }

      // per account: the version counts the changes, each change has its one audit event
      for (const a of made) {
        const { contacts_version } = await direct
          .selectFrom('accounts')
          .select('contacts_version')
          .where('id', '=', a.accountId)
          .executeTakeFirstOrThrow()
        const changes = await sql<{ n: number }>`
          select count(*)::int as n from audit_events where account_id = ${a.accountId} and action = 'contacts.updated'`.execute(
          direct,
        )
        assert.equal(contacts_version - 1, changes.rows[0]!.n, `${a.accountId}: version and audited changes disagree`)
        const landedHere = sent.filter(
          (s) =>
            s.accountId === a.accountId && (s.kind === 'sheet' || s.kind === 'billing') && auditsOf.has(s.requestId),
        ).length
        assert.equal(contacts_version - 1, landedHere, `${a.accountId}: version and landed sheet writes disagree`)
        const billing = await sql<{ n: number }>`
          select count(*)::int as n from contact_slots where account_id = ${a.accountId} and slot = 'billing'`.execute(
          direct,
        )
        assert.ok(billing.rows[0]!.n <= 3, `${a.accountId}: more than three billing contacts`)
      }
      return figures
    },
  }
}

/** Polls GET /readyz until it answers 200; answers how long that took. */
export async function readyAgain(base: string, timeoutMs = 20_000): Promise<number> {
  const started = Date.now()
  for (;;) {
    const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(timeoutMs) }).catch(() => undefined)
    if (res?.status === 200) return Date.now() - started
    await res?.body?.cancel()
    if (Date.now() - started > timeoutMs) throw new Error(`readyz not 200 within ${timeoutMs} ms of the fault clearing`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
