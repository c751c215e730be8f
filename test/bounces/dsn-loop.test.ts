import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { startBounceListener } from '../../src/bounces/bounce-listener.ts'
import { dsnEvents } from '../../src/bounces/dsn-events.ts'
import { verifyRef } from '../../src/bounces/return-path.ts'
import { buildTestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { makeAccount, putSheet } from '../helpers/factories.ts'
import { testWorker } from '../helpers/test-worker.ts'
import { startBouncingRelay } from '../peers/bouncing-relay.ts'

/*
 * The bounce loop with no email service at all: a relay takes the mail (250), then finds the
 * mailbox gone and sends a real delivery status notification to the mail's envelope sender, our
 * return path, where the bounce listener takes it. The same consequences follow as for a
 * provider's event (test/bounces/bounce-loop.test.ts).
 */
const RETURN_PATH = 'bounces@mail.test'
const quiet = { info() {}, warn() {} }

for (const kind of DATABASES) {
  describe(`[${kind}] bounces by DSN`, () => {
    test('a receipt accepted by the relay and bounced later reaches the primary contact; the report again changes nothing', async (t) => {
      const app = await buildTestApp(t, kind)
      const taken: string[] = []
      const listener = await startBounceListener({
        port: 0,
        host: '127.0.0.1',
        returnPath: RETURN_PATH,
        verifyRef: (ref) => verifyRef(app.services.secrets, ref),
        log: quiet,
        async onReport(r) {
          taken.push(...(await app.services.bounces.ingest(dsnEvents(r))))
        },
      })
      t.after(() => listener.close())
      const { accountId, users } = await makeAccount(app)
      const [admin, member] = [users.admin!, users.member!]
      const dead = `${member}@example.com`
      const relay = await startBouncingRelay({
        dead: (to) => to === dead,
        deliverTo: { host: '127.0.0.1', port: listener.port },
      })
      t.after(() => relay.close())
      const { drain } = testWorker(t, app, { smtpUrl: relay.url, options: { returnPath: RETURN_PATH } })
      await putSheet(app, accountId, { primary: { userId: admin }, billing: [{ userId: member }] })

      const sent = await app.call({
        method: 'POST',
        url: `/v1/accounts/${accountId}/notifications`,
        payload: { category: 'receipt', subject: 'Receipt 12', text: 'Paid.' },
      })
      assert.equal(sent.statusCode, 202, sent.body)
      await drain()
      // the relay said 250 for the billing contact; its envelope sender was our signed return path
      const first = relay.accepted.find((a) => a.subject === 'Receipt 12')!
      assert.equal(first.to, dead)
      assert.match(first.from, /^bounces\+[0-9a-f]{32}\.[0-9a-f]{12}@mail\.test$/)
      await relay.reportsSent(1)
      assert.deepEqual(taken, ['bounced'])

      // flagged before any worker runs again
      const sheet = (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/contacts` })).json()
      assert.equal(sheet.billing[0].undeliverable.kind, 'hard_bounce')
      assert.match(sheet.billing[0].undeliverable.reason, /5\.1\.1/)
      const health = (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/health` })).json()
      assert.match(JSON.stringify(health.problems), new RegExp(dead.replace('.', '\\.')))

      // one worker run later: the primary contact has the receipt, the admin the "fix this contact"
      await drain()
      const to = (subject: RegExp) =>
        relay.accepted
          .filter((a) => subject.test(a.subject))
          .map((a) => a.to)
          .sort()
      assert.deepEqual(to(/^Receipt 12$/), [`${admin}@example.com`, dead].sort())
      assert.deepEqual(to(/^Fix a contact/), [`${admin}@example.com`])
      const got = (
        await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/notifications/${sent.json().id}` })
      ).json()
      const byTo = Object.fromEntries(got.deliveries.map((d: { recipient: string }) => [d.recipient, d]))
      assert.equal(byTo[dead].status, 'bounced')
      assert.equal(byTo[`${admin}@example.com`].status, 'delivered')
      assert.equal(byTo[`${admin}@example.com`].fallbackFor, byTo[dead].id)

      assert.equal(relay.accepted.length, 3)

      // the same report delivered again (the relay missed our answer) changes nothing
      await relay.resendReports()
      assert.deepEqual(taken, ['bounced', 'duplicate'])
      await drain()
      assert.equal(relay.accepted.length, 3)
    })
  })
}
