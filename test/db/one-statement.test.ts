import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import { sql } from 'kysely'

import type { Db } from '../../src/db/database.ts'
import { executeAsOne, oneStatement } from '../../src/db/one-statement.ts'
import { transaction } from '../../src/db/transaction.ts'
import { DATABASES, freshDatabase, type TestDatabaseHandle } from '../helpers/databases.ts'

const notification = (db: Db, accountId: string, id: string) =>
  db.insertInto('notifications').values({
    account_id: accountId,
    id,
    category: 'test',
    subject: `subject of ${id}`,
    text: 'text',
    status: 'queued',
    recipients: '[]',
    actor_type: 'system',
    actor_id: 'test',
  })

const delivery = (db: Db, accountId: string, notificationId: string) =>
  db.insertInto('deliveries').values({
    account_id: accountId,
    id: `${notificationId}.0`,
    channel: 'email',
    notification_id: notificationId,
    recipient: 'someone@example.com',
    max_attempts: 3,
  })

for (const kind of DATABASES)
  describe(`[${kind}] several writes as one statement (db/one-statement.ts)`, () => {
    let handle: TestDatabaseHandle
    before(async () => {
      handle = await freshDatabase(kind)
    })
    after(() => handle.close())

    test("each write's parameters land in its own rows", async () => {
      const { db } = handle
      await executeAsOne(db, [
        db.insertInto('accounts').values({ id: 'acct_p1', name: 'First', locale: 'en' }),
        db.insertInto('accounts').values({ id: 'acct_p2', name: 'Second', locale: 'fi' }),
        sql`insert into accounts (id, name) values (${'acct_p3'}, ${'Third'})`,
      ])
      const rows = await db.selectFrom('accounts').select(['id', 'name', 'locale']).orderBy('id').execute()
      assert.deepEqual(
        rows.filter((r) => r.id.startsWith('acct_p')),
        [
          { id: 'acct_p1', name: 'First', locale: 'en' },
          { id: 'acct_p2', name: 'Second', locale: 'fi' },
          { id: 'acct_p3', name: 'Third', locale: 'en' },
        ],
      )
    })

    test('a row may reference one that another write of the statement inserts, listed before or after it', async () => {
      const { db } = handle
      await db.insertInto('accounts').values({ id: 'acct_fk', name: 'FK', locale: 'en' }).execute()
      await transaction(db, (trx) =>
        executeAsOne(trx, [delivery(trx, 'acct_fk', 'ntf_a'), notification(trx, 'acct_fk', 'ntf_a')]),
      )
      await transaction(db, (trx) =>
        executeAsOne(trx, [notification(trx, 'acct_fk', 'ntf_b'), delivery(trx, 'acct_fk', 'ntf_b')]),
      )
      const ds = await db
        .selectFrom('deliveries')
        .select('id')
        .where('account_id', '=', 'acct_fk')
        .orderBy('id')
        .execute()
      assert.deepEqual(
        ds.map((d) => d.id),
        ['ntf_a.0', 'ntf_b.0'],
      )
    })

    test('a reference to a row that nobody inserts fails the whole statement: nothing of it is written', async () => {
      const { db } = handle
      await db.insertInto('accounts').values({ id: 'acct_fk2', name: 'FK2', locale: 'en' }).execute()
      await assert.rejects(
        executeAsOne(db, [notification(db, 'acct_fk2', 'ntf_c'), delivery(db, 'acct_fk2', 'ntf_missing')]),
        /foreign key/,
      )
      const n = await db.selectFrom('notifications').select('id').where('account_id', '=', 'acct_fk2').execute()
      assert.deepEqual(n, [])
    })

    test('the text depends on which writes there are, not on their values', () => {
      const { db } = handle
      const text = (id: string, name: string) =>
        oneStatement([
          db.insertInto('accounts').values({ id, name, locale: 'en' }),
          db.updateTable('accounts').set({ name }).where('id', '=', id),
        ]).compile(db).sql
      assert.equal(text('a', 'x'), text('b', 'y'))
      assert.match(
        text('a', 'x'),
        /^with "w0" as \(insert into "accounts" .*\), "w1" as \(update "accounts" .*\) select 1$/,
      )
    })
  })
