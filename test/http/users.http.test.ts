import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { sql } from 'kysely'

import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { getSheet, makeAccount, putSheet, sessionFor } from '../helpers/factories.ts'

const auditActions = async (app: TestApp, accountId: string): Promise<string[]> =>
  (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/audit-events?limit=200` }))
    .json()
    .data.map((e: { action: string }) => e.action)

/** Makes `holder` the primary contact and the second of two billing contacts. */
async function holdPrimaryAndBilling(app: TestApp, accountId: string, holder: string, other: string) {
  await putSheet(app, accountId, { primary: { userId: holder }, billing: [{ userId: other }, { userId: holder }] })
}

for (const kind of DATABASES) {
  describe(`[${kind}] users`, () => {
    test('PUT is an idempotent upsert from the host product', async (t) => {
      const app = await buildTestApp(t, kind)
      const { accountId } = await makeAccount(app)
      const body = { email: 'new.person@example.com', name: 'New Person', role: 'member' }
      const first = await app.call({ method: 'PUT', url: `/v1/accounts/${accountId}/users/np`, payload: body })
      assert.equal(first.statusCode, 201)
      const before = await auditActions(app, accountId)
      const again = await app.call({ method: 'PUT', url: `/v1/accounts/${accountId}/users/np`, payload: body })
      assert.equal(again.statusCode, 200)
      assert.deepEqual(again.json(), first.json())
      assert.deepEqual(await auditActions(app, accountId), before, 'the same body twice changes nothing')
      const renamed = await app.call({
        method: 'PUT',
        url: `/v1/accounts/${accountId}/users/np`,
        payload: { ...body, name: 'Renamed' },
      })
      assert.equal(renamed.json().name, 'Renamed')
      assert.equal((await auditActions(app, accountId))[0], 'user.updated')
    })

    test('two active users of one account cannot share an address', async (t) => {
      const app = await buildTestApp(t, kind)
      const { accountId, users } = await makeAccount(app)
      const res = await app.call({
        method: 'PUT',
        url: `/v1/accounts/${accountId}/users/copycat`,
        payload: { email: `${users.admin}@EXAMPLE.com`, name: 'Copy', role: 'member' },
      })
      assert.equal(res.statusCode, 409)
    })

    test('deactivating a user empties their primary and billing slots and audits it, in one transaction', async (t) => {
      const app = await buildTestApp(t, kind)
      const { accountId, users } = await makeAccount(app)
      const holder = users.billing!
      await holdPrimaryAndBilling(app, accountId, holder, users.admin!)
      const holderToken = await sessionFor(app, accountId, holder)

      const res = await app.call({
        method: 'PATCH',
        url: `/v1/accounts/${accountId}/users/${holder}`,
        payload: { status: 'deactivated' },
      })
      assert.equal(res.statusCode, 200)
      assert.equal(res.json().status, 'deactivated')

      const { sheet } = await getSheet(app, accountId)
      assert.equal(sheet.primary, null)
      assert.deepEqual(
        sheet.billing.map((c: { userId: string }) => c.userId),
        [users.admin],
      )

      const events = (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/audit-events?limit=2` })).json()
        .data
      assert.deepEqual(
        events.map((e: { action: string }) => e.action),
        ['user.deactivated', 'contacts.vacated'],
      )
      const vacated = events[1]
      assert.equal(vacated.before.primary.userId, holder)
      assert.equal(vacated.after.primary, null)
      assert.equal(events[0].requestId, vacated.requestId, 'both events come from the one request')

      // their session stops working at once
      const denied = await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/contacts`, token: holderToken })
      assert.equal(denied.statusCode, 401)
    })

    test('a deactivation that fails half-way changes nothing', async (t) => {
      const app = await buildTestApp(t, kind)
      const { accountId, users } = await makeAccount(app)
      const holder = users.billing!
      await holdPrimaryAndBilling(app, accountId, holder, users.admin!)
      const before = await getSheet(app, accountId)
      const actionsBefore = await auditActions(app, accountId)

      // The last write of a deactivation is its audit event: make the database refuse exactly that
      // one, after the slots were vacated and the user updated in the same transaction.
      const db = app.handle.db
      await sql`create function refuse_deactivation_audit() returns trigger language plpgsql as $$
        begin
          if new.action = 'user.deactivated' then raise exception 'injected failure'; end if;
          return new;
        end $$`.execute(db)
      await sql`create trigger refuse_deactivation_audit before insert on audit_events
        for each row execute function refuse_deactivation_audit()`.execute(db)

      const res = await app.call({
        method: 'PATCH',
        url: `/v1/accounts/${accountId}/users/${holder}`,
        payload: { status: 'deactivated' },
      })
      assert.equal(res.statusCode, 500)
      assert.equal(res.json().type, '/problems/internal')
      assert.doesNotMatch(res.body, /injected failure/, 'a 5xx never shows the internal message')

      const after = await getSheet(app, accountId)
      assert.deepEqual(after.sheet, before.sheet, 'the slots are still held')
      assert.equal(
        (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/users/${holder}` })).json().status,
        'active',
      )
      assert.deepEqual(await auditActions(app, accountId), actionsBefore, 'no audit event of the failed attempt')
    })

    test('the database refuses to deactivate a user who still holds a slot', async (t) => {
      const app = await buildTestApp(t, kind)
      const { accountId, users } = await makeAccount(app)
      await holdPrimaryAndBilling(app, accountId, users.billing!, users.admin!)
      await assert.rejects(
        app.handle.db
          .updateTable('users')
          .set({ status: 'deactivated' })
          .where('account_id', '=', accountId)
          .where('id', '=', users.billing!)
          .execute(),
        /foreign key/,
      )
    })

    test('a reactivated user can be a contact again', async (t) => {
      const app = await buildTestApp(t, kind)
      const { accountId, users } = await makeAccount(app)
      const u = users.member!
      await app.call({
        method: 'PATCH',
        url: `/v1/accounts/${accountId}/users/${u}`,
        payload: { status: 'deactivated' },
      })
      const refused = await app.call({
        method: 'PUT',
        url: `/v1/accounts/${accountId}/contacts/onboarding`,
        payload: { userId: u },
      })
      assert.equal(refused.statusCode, 422)
      await app.call({ method: 'PATCH', url: `/v1/accounts/${accountId}/users/${u}`, payload: { status: 'active' } })
      const ok = await app.call({
        method: 'PUT',
        url: `/v1/accounts/${accountId}/contacts/onboarding`,
        payload: { userId: u },
      })
      assert.equal(ok.statusCode, 200)
      assert.equal((await auditActions(app, accountId)).includes('user.reactivated'), true)
    })
  })
}
