/**
 * The benchmark data, generated in SQL (a million accounts would take an hour through the API):
 * N accounts, five active users each (a super admin, a billing admin, three members) and a full
 * contact sheet (primary, two billing contacts, decision maker, onboarding, security and technical
 * administrator, all users). The same statements fill PostgreSQL and PGlite.
 *
 * A PostgreSQL dataset lives in its own database, `ac_bench_<N>` unless the run names another
 * (--dataset), and is reused by later runs when it is complete (a marker row says so); only what
 * the benchmarks add (audit events, outbox rows) is cleared at the start of a run, so every run
 * starts from the same state. Two runs at once must each name their own, or one wipes the other's.
 */
import { type Kysely, sql } from 'kysely'
import pg from 'pg'

import { connectPostgres } from '../../src/db/connect.ts'
import type { Database } from '../../src/db/database.ts'
import { migrateToLatest } from '../../src/db/migrate.ts'

/** Account ids are `a<seven digits>`: index i (1-based) is `accountId(i)`. */
export const accountId = (i: number) => `a${String(i).padStart(7, '0')}`
export const USERS_PER_ACCOUNT = 5

const CHUNK = 50_000

/** The database of an `accounts`-sized dataset when the run names none. */
export const defaultDataset = (accounts: number) => `ac_bench_${accounts}`

/**
 * A name the run may give its dataset: a bare lower-case identifier (it goes into `create
 * database` unquoted), short enough for the suffixes of the run's other databases, and none of
 * the server's own.
 */
export function checkDatasetName(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,39}$/.test(name) || ['postgres', 'template0', 'template1'].includes(name))
    throw new Error(
      `dataset name ${JSON.stringify(name)}: lower-case letters, digits and _, at most 40, not a digit first, not the server's own`,
    )
  return name
}

/**
 * The database of another dataset of the run (the growth benchmark's 10,000 accounts, the
 * retention history): its usual name when the main dataset has its default name, else the main
 * one's name with `suffix`, so that a run with its own dataset shares no database with another.
 */
export const relatedDataset = (opts: { dataset: string; accounts: number }, usual: string, suffix: string) =>
  opts.dataset === defaultDataset(opts.accounts) ? usual : `${opts.dataset}_${suffix}`

/** Fills accounts `from..to` (inclusive) in three statements. */
async function fillChunk(db: Kysely<Database>, from: number, to: number): Promise<void> {
  await sql`
    insert into accounts (id, name, locale, contacts_version, contacts_reviewed_at)
    select 'a' || lpad(i::text, 7, '0'), 'Company ' || i, case when i % 3 = 0 then 'fi' else 'en' end, 1, now()
    from generate_series(${from}::int, ${to}::int) i`.execute(db)
  await sql`
    insert into users (account_id, id, email, name, role, status)
    select 'a' || lpad(i::text, 7, '0'), 'u' || j, 'user' || j || '.' || i || '@company' || i || '.example', 'User ' || j || ' of ' || i,
      case j when 1 then 'super_admin' when 2 then 'billing_admin' else 'member' end, 'active'
    from generate_series(${from}::int, ${to}::int) i, generate_series(1, ${USERS_PER_ACCOUNT}::int) j`.execute(db)
  await sql`
    insert into contact_slots (account_id, slot, position, user_id, user_status)
    select 'a' || lpad(i::text, 7, '0'), s.slot, s.position, s.user_id, 'active'
    from generate_series(${from}::int, ${to}::int) i,
      (values ('primary', 0, 'u1'), ('billing', 0, 'u2'), ('billing', 1, 'u3'), ('decisionMaker', 0, 'u4'),
              ('onboarding', 0, 'u5'), ('security', 0, 'u1'), ('technicalAdmin', 0, 'u2')) s(slot, position, user_id)`.execute(
    db,
  )
}

/** Migrates and fills an empty database with `accounts` accounts, saying how far it got. */
export async function generate(db: Kysely<Database>, accounts: number, say: (line: string) => void): Promise<void> {
  await migrateToLatest(db)
  await sql`create table if not exists bench_meta (accounts int not null, generated_at timestamptz not null default now())`.execute(
    db,
  )
  const started = Date.now()
  for (let from = 1; from <= accounts; from += CHUNK) {
    const to = Math.min(accounts, from + CHUNK - 1)
    await fillChunk(db, from, to)
    say(
      `  generated ${to.toLocaleString('en')} / ${accounts.toLocaleString('en')} accounts (${((Date.now() - started) / 1000).toFixed(0)} s)`,
    )
  }
  await sql`analyze`.execute(db)
  await sql`insert into bench_meta (accounts) values (${accounts})`.execute(db)
}

/**
 * Whether the database holds a complete dataset of this size. A database with tables but no
 * dataset marker, or with a complete dataset of another size, is refused rather than wiped: its
 * name may have been given by mistake.
 */
async function isComplete(db: Kysely<Database>, name: string, accounts: number): Promise<boolean> {
  const t = await sql<{ ok: boolean; tables: number }>`
    select to_regclass('bench_meta') is not null as ok,
      (select count(*)::int from pg_tables where schemaname = 'public') as tables`.execute(db)
  if (!t.rows[0]?.ok) {
    if (t.rows[0]!.tables === 0) return false
    throw new Error(`database ${name} has tables but is not a benchmark dataset: drop it, or name another (--dataset)`)
  }
  const r = await sql<{ accounts: number }>`select accounts from bench_meta`.execute(db)
  const other = r.rows.find((x) => x.accounts !== accounts)
  if (other)
    throw new Error(`database ${name} holds ${other.accounts} accounts, not ${accounts}: name another (--dataset)`)
  return r.rows.length > 0
}

/** What the benchmarks write, removed so that each run starts from the generated state. */
async function resetRunState(db: Kysely<Database>): Promise<void> {
  await sql`truncate notifications, deliveries, events, audit_events, idempotency_keys, sessions, broadcasts, email_verifications, suppressions, mail_events`.execute(
    db,
  )
  // the write benchmark moves primary contacts around; put them back
  await sql`update contact_slots set user_id = 'u1' where slot = 'primary' and user_id <> 'u1'`.execute(db)
  await sql`update accounts set contacts_version = 1 where contacts_version <> 1`.execute(db)
}

/**
 * The PostgreSQL database `name` holding an `accounts`-sized dataset (created and filled when
 * missing or of another size), ready for a run. Answers its connection string.
 */
export async function postgresDataset(
  adminUrl: string,
  name: string,
  accounts: number,
  say: (line: string) => void,
): Promise<string> {
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  try {
    const exists = await admin.query('select 1 from pg_database where datname = $1', [name])
    if (exists.rowCount === 0) await admin.query(`create database ${name}`)
  } finally {
    await admin.end()
  }
  const handle = connectPostgres(url.toString(), { max: 2, statementTimeoutMs: 0 })
  try {
    if (!(await isComplete(handle.db, name, accounts))) {
      say(`Generating ${accounts.toLocaleString('en')} accounts in PostgreSQL database ${name} (kept for later runs)…`)
      await sql`drop schema public cascade`.execute(handle.db)
      await sql`create schema public`.execute(handle.db)
      await generate(handle.db, accounts, say)
    } else {
      await migrateToLatest(handle.db)
    }
    await resetRunState(handle.db)
    await sql`vacuum analyze accounts, contact_slots`.execute(handle.db)
  } finally {
    await handle.close()
  }
  return url.toString()
}
