import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { sql } from 'kysely'

import { seedAccountsWithPrimary, startBroadcast } from '../helpers/broadcast-fixtures.ts'
import type { TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { platformPart } from '../helpers/mail-parts.ts'
import { appWithMail } from '../helpers/test-worker.ts'

/** 20 kB of text that compresses badly (TOAST would hide a repeated string), the same each run. */
const bulkyText = (seed: number) =>
  Array.from({ length: 2_000 }, (_, i) => ((i * 2654435761 + seed) >>> 0).toString(36).padStart(9, '0')).join(' ')

/** How many notification rows the broadcast has, and the bytes of text and html they hold. */
async function storedContent(app: TestApp, broadcastId: string) {
  const res = await sql<{ rows: number; bytes: number }>`
    select count(*)::int as rows, coalesce(sum(coalesce(octet_length(text), 0) + coalesce(octet_length(html), 0)), 0)::int as bytes
    from notifications where broadcast_id = ${broadcastId}`.execute(app.handle.db)
  return res.rows[0]!
}

for (const kind of DATABASES) {
  describe(`[${kind}] a broadcast's content`, () => {
    test('its text is stored once, whatever the number of accounts, and every mail still carries it', async (t) => {
      const { app, sink, drain } = await appWithMail(t, kind)
      const accounts = await seedAccountsWithPrimary(app.handle.db, 'ct', 12)
      const text = bulkyText(1)

      const few = await startBroadcast(app, { subject: 'To two', text, accountIds: accounts.slice(0, 2) })
      const many = await startBroadcast(app, { subject: 'To twelve', text })
      await drain()

      // what the notification rows hold of the text: nothing, for two accounts as for twelve
      assert.deepEqual(await storedContent(app, few.id), { rows: 2, bytes: 0 })
      assert.deepEqual(await storedContent(app, many.id), { rows: 12, bytes: 0 })
      // the broadcast's own row holds it, once
      const own = await sql<{ text: string }>`select text from broadcasts where id = ${many.id}`.execute(app.handle.db)
      assert.equal(own.rows[0]!.text, text)

      // and each of the 14 mails carries the whole text
      const mails = sink.messages.filter((m) => m.subject === 'To two' || m.subject === 'To twelve')
      assert.equal(mails.length, 14)
      for (const m of mails) assert.equal(platformPart(m.text), text)
    })

    test('an html part is stored once on the broadcast too, and goes out in every mail', async (t) => {
      const { app, sink, drain } = await appWithMail(t, kind)
      await seedAccountsWithPrimary(app.handle.db, 'ht', 3)
      const html = `<p>${bulkyText(2)}</p>`
      const b = await startBroadcast(app, { subject: 'With html', text: 'Plain version.', html })
      await drain()
      assert.deepEqual(await storedContent(app, b.id), { rows: 3, bytes: 0 })
      const mails = sink.messages.filter((m) => m.subject === 'With html')
      assert.equal(mails.length, 3)
      for (const m of mails) {
        assert.equal(platformPart(m.text), 'Plain version.')
        assert.ok(typeof m.html === 'string' && m.html.includes(html), 'the html part')
      }
    })

    test('a notification written with its own copy of the text (before the change) still sends it', async (t) => {
      const { app, sink, drain } = await appWithMail(t, kind)
      const [account] = await seedAccountsWithPrimary(app.handle.db, 'od', 1)
      const b = await startBroadcast(app, { subject: 'Old style', text: 'The broadcast row text.' })
      // as fan-out wrote it before: the text copied into the notification, and a delivery
      await sql`update broadcasts set status = 'done', processed = 1, finished_at = now() where id = ${b.id}`.execute(
        app.handle.db,
      )
      await sql`insert into notifications (account_id, id, category, subject, text, status, recipients, broadcast_id, actor_type, actor_id)
        values (${account}, ${b.id + '.' + account}, 'account_update', 'Old style', 'Its own copy.', 'queued',
          ${JSON.stringify([{ email: `owner@${account}.example`, name: 'Owner' }])}::jsonb, ${b.id}, 'api_key', 'k')`.execute(
        app.handle.db,
      )
      await sql`insert into deliveries (account_id, id, channel, notification_id, recipient, max_attempts)
        values (${account}, ${b.id + '.' + account + '.0'}, 'email', ${b.id + '.' + account}, ${`owner@${account}.example`}, 3)`.execute(
        app.handle.db,
      )
      await drain()
      const mail = sink.messages.find((m) => m.subject === 'Old style')
      assert.equal(mail?.text?.trim(), 'Its own copy.')
    })
  })
}
