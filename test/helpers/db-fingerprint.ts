import { type Kysely, sql } from 'kysely'

import type { Database } from '../../src/db/database.ts'

/**
 * One hash per table of every row of the public schema's tables (read from information_schema,
 * so a new table is covered without a change here). Two equal fingerprints mean that nothing was
 * written in between. `api_keys.last_used_at` is left out: authenticating with a key touches it
 * (at most once a minute), which is not a change a request makes.
 */
export async function dbFingerprint(db: Kysely<Database>): Promise<Record<string, string>> {
  const tables = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' and table_name not like 'kysely_migration%'
    order by table_name`.execute(db)
  const parts = tables.rows.map(
    ({ name }) => sql`select ${name} as name, coalesce(md5(string_agg(r, '|' order by r)), '') as hash
      from (select (to_jsonb(t) - 'last_used_at')::text as r from ${sql.table(name)} t) x`,
  )
  if (parts.length === 0) return {}
  const rows = await sql<{ name: string; hash: string }>`${sql.join(parts, sql` union all `)}`.execute(db)
  return Object.fromEntries(rows.rows.map((r) => [r.name, r.hash]))
}
