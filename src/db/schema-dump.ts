import { sql } from 'kysely'

import type { Db } from './database.ts'

/**
 * The public schema as stable text: tables with their columns, constraints and indexes, sorted.
 * Made from the catalogue by SQL, so it reads the same on PostgreSQL and PGlite (no pg_dump needed).
 * `schema.snapshot.sql` holds it after all migrations; a test compares.
 */
export async function dumpSchema(db: Db): Promise<string> {
  const columns = await sql<{ t: string; line: string }>`
    select c.table_name as t,
      format('  %s %s%s%s', c.column_name, c.data_type,
        case when c.is_nullable = 'NO' then ' not null' else '' end,
        case when c.column_default is not null then ' default ' || c.column_default else '' end) as line
    from information_schema.columns c
    where c.table_schema = 'public' and c.table_name not like 'kysely_%'
    order by c.table_name, c.ordinal_position`.execute(db)
  const constraints = await sql<{ t: string; line: string }>`
    select cl.relname as t, format('  constraint %s %s', co.conname, pg_get_constraintdef(co.oid)) as line
    from pg_constraint co join pg_class cl on cl.oid = co.conrelid join pg_namespace n on n.oid = cl.relnamespace
    where n.nspname = 'public' and cl.relname not like 'kysely_%'
      -- PostgreSQL 18 (PGlite) lists NOT NULL as constraints too; the columns already say it
      and co.contype <> 'n'
    order by cl.relname, co.conname`.execute(db)
  const indexes = await sql<{ t: string; line: string }>`
    select tablename as t, indexdef || ';' as line from pg_indexes
    where schemaname = 'public' and tablename not like 'kysely_%'
    order by tablename, indexname`.execute(db)
  const byTable = new Map<string, string[]>()
  for (const r of [...columns.rows, ...constraints.rows]) byTable.set(r.t, [...(byTable.get(r.t) ?? []), r.line])
  const out: string[] = ['-- The schema after all migrations. Generated: npm run db:snapshot', '']
  for (const [t, lines] of [...byTable.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    out.push(`table ${t} (`, lines.join(',\n'), ');', '')
  }
  for (const r of indexes.rows) out.push(r.line)
  return out.join('\n') + '\n'
}
