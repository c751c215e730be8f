import assert from 'node:assert/strict'
import { test } from 'node:test'

import { sql } from 'kysely'

import type { MailEvent, MailEventKind } from '../../src/bounces/mail-event.ts'
import { REF_LIFETIME_DAYS, signRef } from '../../src/bounces/return-path.ts'
import { buildTestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { makeAccount, putSheet } from '../helpers/factories.ts'
import { testWorker } from '../helpers/test-worker.ts'
import { startSmtpSink } from '../peers/smtp-sink.ts'

/*
 * A reference is taken for REF_LIFETIME_DAYS after its delivery was created: a report about an
 * older one is refused as unmatched, alone or in a batch, a bounce as a delivery report, and
 * changes nothing.
 */

const report = (id: string, ref: string, kind: MailEventKind, recipient: string): MailEvent => ({
  source: 'sendgrid',
  eventId: id,
  kind,
  ref,
  recipient,
  diagnostic: '550 5.1.1 no such user',
  at: new Date(),
})

for (const kind of DATABASES) {
  test(`[${kind}] a report about a delivery older than REF_LIFETIME_DAYS is unmatched and changes nothing`, async (t) => {
    const app = await buildTestApp(t, kind)
    const sink = await startSmtpSink()
    t.after(() => sink.close())
    const { drain } = testWorker(t, app, { smtpUrl: sink.url })
    const { accountId, users } = await makeAccount(app)
    await putSheet(app, accountId, { primary: { userId: users.admin! }, billing: [{ userId: users.member! }] })
    for (const subject of ['Old', 'Young'])
      await app.call({
        method: 'POST',
        url: `/v1/accounts/${accountId}/notifications`,
        payload: { category: 'receipt', subject, text: 'Thanks.' },
      })
    await drain()
    // one a day past the lifetime, the other a day within it
    await sql`
      update deliveries d set created_at = now() - make_interval(days => case n.subject when 'Old' then ${REF_LIFETIME_DAYS + 1}::int else ${REF_LIFETIME_DAYS - 1}::int end)
      from notifications n where n.account_id = d.account_id and n.id = d.notification_id`.execute(app.handle.db)
    const refs = await sql<{ subject: string; return_token: string }>`
      select n.subject, d.return_token from deliveries d join notifications n on n.account_id = d.account_id and n.id = d.notification_id`.execute(
      app.handle.db,
    )
    const ref = (subject: string) =>
      signRef(app.services.secrets, refs.rows.find((r) => r.subject === subject)!.return_token)
    const member = `${users.member}@example.com`
    const mailEvents = async () =>
      (await sql<{ n: number }>`select count(*)::int as n from mail_events`.execute(app.handle.db)).rows[0]!.n

    assert.deepEqual(await app.services.bounces.ingest([report('e1', ref('Old'), 'hard_bounce', member)]), [
      'unmatched',
    ])
    assert.deepEqual(await app.services.bounces.ingest([report('e2', ref('Old'), 'delivered', member)]), ['unmatched'])
    assert.equal(await mailEvents(), 0)
    assert.deepEqual(
      await app.services.bounces.ingest([
        report('e3', ref('Old'), 'hard_bounce', member),
        report('e4', ref('Young'), 'hard_bounce', member),
      ]),
      ['unmatched', 'bounced'],
    )
    const statuses = await sql<{ subject: string; status: string }>`
      select n.subject, d.status from deliveries d join notifications n on n.account_id = d.account_id and n.id = d.notification_id
      where d.recipient = ${member} order by n.subject`.execute(app.handle.db)
    assert.deepEqual(statuses.rows, [
      { subject: 'Old', status: 'delivered' },
      { subject: 'Young', status: 'bounced' },
    ])
    assert.equal(await mailEvents(), 1)
  })
}
