import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { Kysely, PostgresDialect } from 'kysely'

import type { Database } from '../../src/db/database.ts'
import { whereKeys } from '../../src/db/keys.ts'
import type { DeliveryStatus } from '../../src/delivery/deliveries.table.ts'
import { countByStatus, notificationStatus, outcomeEvent } from '../../src/notifications/notification-status.ts'

const of = (...statuses: DeliveryStatus[]) => countByStatus(statuses.map((status) => ({ status })))

describe('[notifications] one status for the API and the outcome event', () => {
  const cases: [DeliveryStatus[], string, string | undefined][] = [
    [[], 'queued', undefined],
    [['queued', 'queued'], 'queued', undefined],
    [['queued', 'sending'], 'sending', undefined],
    [['queued', 'retrying'], 'sending', undefined],
    [['delivered', 'queued'], 'sending', undefined],
    [['failed', 'retrying'], 'sending', undefined],
    [['delivered', 'delivered'], 'delivered', 'notification.delivered'],
    [['delivered', 'failed'], 'partially_failed', 'notification.failed'],
    [['failed', 'failed'], 'failed', 'notification.failed'],
    [['failed', 'cancelled'], 'failed', 'notification.failed'],
    [['delivered', 'cancelled'], 'cancelled', 'notification.delivered'],
    [['cancelled'], 'cancelled', 'notification.delivered'],
  ]
  for (const [statuses, status, event] of cases) {
    test(`deliveries [${statuses.join(', ')}]: ${status}, ${event ?? 'no event yet'}`, () => {
      assert.equal(notificationStatus('queued', of(...statuses)), status)
      assert.equal(outcomeEvent(notificationStatus('queued', of(...statuses))), event)
    })
  }

  test('a notification that found nobody is undeliverable and raises nothing', () => {
    assert.equal(notificationStatus('undeliverable', {}), 'undeliverable')
    assert.equal(outcomeEvent('undeliverable'), undefined)
  })

  test('counts read in SQL (statuses with none absent) give what the listed deliveries give', () => {
    assert.equal(notificationStatus('queued', { delivered: 2, failed: 1 }), 'partially_failed')
    assert.deepEqual(of('delivered', 'failed', 'delivered'), { delivered: 2, failed: 1 })
  })
})

describe('[db] whereKeys', () => {
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: {} as never }) })
  const q = (keys: { account_id: string; id: string }[]) =>
    db
      .selectFrom('deliveries')
      .select('id')
      .where((eb) => whereKeys(eb, keys))
      .compile()

  test('one array parameter per column, whatever the number of keys: one statement text for any list', () => {
    const c = q([
      { account_id: 'acc_a', id: 'd1' },
      { account_id: 'acc_b', id: 'd2' },
    ])
    assert.match(
      c.sql,
      /where \("account_id", "id"\) in \(select \* from unnest\(cast\(\$1 as text\[\]\), cast\(\$2 as text\[\]\)\)\)$/,
    )
    assert.deepEqual(c.parameters, [
      ['acc_a', 'acc_b'],
      ['d1', 'd2'],
    ])
    assert.equal(q([{ account_id: 'acc_a', id: 'd1' }]).sql, c.sql)
  })

  test('no keys match no rows', () => {
    assert.match(q([]).sql, /where false$/)
  })

  test('a key with an undefined part throws instead of matching every row of the other part', () => {
    assert.throws(() => q([{ account_id: undefined as unknown as string, id: 'd1' }]), /account_id is undefined/)
  })
})
