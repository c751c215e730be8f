import assert from 'node:assert/strict'
import fs from 'node:fs'
import { describe, test } from 'node:test'

import { migrateToLatest } from '../../src/db/migrate.ts'
import { dumpSchema } from '../../src/db/schema-dump.ts'
import { DATABASES, freshDatabase } from '../helpers/databases.ts'

const snapshot = fs.readFileSync(new URL('../../src/db/schema.snapshot.sql', import.meta.url), 'utf8')

for (const kind of DATABASES) {
  describe(`[${kind}] migrations`, () => {
    test('an empty database migrated to the latest matches schema.snapshot.sql (npm run db:snapshot rewrites it)', async (t) => {
      const handle = await freshDatabase(kind)
      t.after(() => handle.close())
      assert.equal(await dumpSchema(handle.db), snapshot)
    })

    test('migrating again is a no-op', async (t) => {
      const handle = await freshDatabase(kind)
      t.after(() => handle.close())
      const again = await migrateToLatest(handle.db)
      assert.deepEqual(again.results, [])
    })
  })
}
