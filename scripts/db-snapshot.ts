// Rewrites src/db/schema.snapshot.sql from a fresh, migrated PGlite. Run after adding a migration.
import fs from 'node:fs'

import { connectPglite } from '../src/db/connect.ts'
import { migrateToLatest } from '../src/db/migrate.ts'
import { dumpSchema } from '../src/db/schema-dump.ts'

const handle = await connectPglite(undefined)
await migrateToLatest(handle.db)
fs.writeFileSync(new URL('../src/db/schema.snapshot.sql', import.meta.url), await dumpSchema(handle.db))
await handle.close()
console.log('wrote src/db/schema.snapshot.sql')
