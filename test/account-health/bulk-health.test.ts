import assert from 'node:assert/strict'
import { test } from 'node:test'

import { allAccountsHealth } from '../../src/account-health/account-health-report.ts'
import { buildTestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { makeHealthCases } from '../helpers/health-fixtures.ts'

// The report judges every account in one query a page (account-health.repository.ts); GET .../health
// reads one account's sheet. Both must say the same, word for word.

for (const kind of DATABASES) {
  test(`[${kind}] the bulk health of every account equals the single-account health, across pages`, async (t) => {
    const app = await buildTestApp(t, kind)
    const expected = await makeHealthCases(app)

    const bulk = []
    // a page size of 3 makes several pages, with a partial one at the end
    for await (const page of allAccountsHealth(app.services.db, {
      now: app.services.clock.now(),
      reviewIntervalDays: 180,
      pageSize: 3,
    }))
      bulk.push(...page)
    assert.deepEqual(
      bulk.map((h) => h.accountId),
      [...expected.keys()].sort(),
      'every account once, in id order',
    )

    for (const { name, ...h } of bulk) {
      assert.ok(name.length > 0)
      assert.deepEqual(h, await app.services.health.get(h.accountId), h.accountId)
      assert.deepEqual(
        h.problems.map((p) => p.code),
        expected.get(h.accountId),
        h.accountId,
      )
    }
    const refused = bulk.find((h) => h.problems.some((p) => p.message.includes('does not arrive')))
    assert.match(
      refused?.problems[0]?.message ?? '',
      /^mail to admin-\S+@example\.com, billing-\S+@example\.com does not arrive/,
      'both contacts, sorted, not the former address',
    )
  })
}
