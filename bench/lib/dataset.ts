/**
 * The benchmark data, generated in SQL (a million accounts would take an hour through the API):
 * N accounts, five active users each (a super admin, a billing admin, three members) and a full
 * contact sheet (primary, two billing contacts, decision maker, onboarding, security and technical
 * administrator, all users). The same statements fill PostgreSQL and PGlite. A dataset of trees
 * (benchmarks 12 and 13) has the same accounts and users arranged in trees of 10 instead, each
 * below the root holding part of the sheet and inheriting the rest (fillTreeChunk).
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

/** The USERS_PER_ACCOUNT active users of accounts `from..to`: u1 a super admin, u2 a billing admin, the others members. */
const fillUsers = (db: Kysely<Database>, from: number, to: number) =>
  sql`
    insert into users (account_id, id, email, name, role, status)
    select 'a' || lpad(i::text, 7, '0'), 'u' || j, 'user' || j || '.' || i || '@company' || i || '.example', 'User ' || j || ' of ' || i,
      case j when 1 then 'super_admin' when 2 then 'billing_admin' else 'member' end, 'active'
    from generate_series(${from}::int, ${to}::int) i, generate_series(1, ${USERS_PER_ACCOUNT}::int) j`.execute(db)

/** Fills accounts `from..to` (inclusive) in three statements. */
async function fillChunk(db: Kysely<Database>, from: number, to: number): Promise<void> {
  await sql`
    insert into accounts (id, name, locale, contacts_version, contacts_reviewed_at)
    select 'a' || lpad(i::text, 7, '0'), 'Company ' || i, case when i % 3 = 0 then 'fi' else 'en' end, 1, now()
    from generate_series(${from}::int, ${to}::int) i`.execute(db)
  await fillUsers(db, from, to)
  await sql`
    insert into contact_slots (account_id, slot, position, user_id, user_status)
    select 'a' || lpad(i::text, 7, '0'), s.slot, s.position, s.user_id, 'active'
    from generate_series(${from}::int, ${to}::int) i,
      (values ('primary', 0, 'u1'), ('billing', 0, 'u2'), ('billing', 1, 'u3'), ('decisionMaker', 0, 'u4'),
              ('onboarding', 0, 'u5'), ('security', 0, 'u1'), ('technicalAdmin', 0, 'u2')) s(slot, position, user_id)`.execute(
    db,
  )
}

/** The accounts of a tree dataset's trees: a root, 3 children, and 2 grandchildren under each child. */
export const TREE_SIZE = 10

/** Accounts per statement of fillTreeChunk: small enough that the tree check's lock row stays small. */
const TREE_BATCH = 2000

/**
 * Fills accounts `from..to` (inclusive; `from` a tree's root, the chunk whole trees) as trees of
 * TREE_SIZE, for the tree benchmarks (12, 13). The root is a flat account's twin: no parent, no
 * rules, the same full sheet. Each child holds decisionMaker, onboarding and technicalAdmin and
 * inherits primary, billing and security from the root. The grandchildren mix what they hold and
 * how, by place:
 * - even places (4, 6, 8): billing `add` (its own u2 beside the root's two), onboarding `none`,
 *   security `replace` (its own u1), decisionMaker its own, primary from the root (2 levels up),
 *   technicalAdmin from the child;
 * - odd places (5, 7, 9): technicalAdmin `add` (its own u5 and the child's), security `replace`,
 *   decisionMaker its own; primary and billing from the root, onboarding from the child.
 *
 * The accounts go in level by level, parents before children, so that accounts_check_tree, which
 * runs on every insert, checks each child against a parent already there: nothing is disabled.
 */
async function fillTreeChunk(db: Kysely<Database>, from: number, to: number): Promise<void> {
  const place = sql`(i - 1) % ${sql.lit(TREE_SIZE)}`
  const root = sql`i - ${place}`
  const parent = sql`case when ${place} <= 3 then ${root} else ${root} + 1 + (${place} - 4) / 2 end`
  const rules = sql`case when ${place} <= 3 then '{}'::jsonb
    when ${place} % 2 = 0 then '{"billing": "add", "onboarding": "none", "security": "replace"}'::jsonb
    else '{"technicalAdmin": "add", "security": "replace"}'::jsonb end`
  for (const [lo, hi] of [
    [0, 0],
    [1, 3],
    [4, 9],
  ] as const) {
    // the check's lookups (by id, by parent) plan as index scans only once the new parents are counted
    if (lo > 0) await sql`analyze accounts`.execute(db)
    for (let a = from; a <= to; a += TREE_BATCH) {
      await sql`
        insert into accounts (id, name, locale, contacts_version, contacts_reviewed_at, parent_account_id, slot_rules)
        select 'a' || lpad(i::text, 7, '0'), 'Company ' || i, case when i % 3 = 0 then 'fi' else 'en' end, 1, now(),
          case when ${place} = 0 then null else 'a' || lpad((${parent})::text, 7, '0') end, ${rules}
        from generate_series(${a}::int, ${Math.min(to, a + TREE_BATCH - 1)}::int) i
        where ${place} between ${lo} and ${hi}
        order by i`.execute(db)
      // every row's check updated the one row of account_tree_lock: its dead versions, which the
      // next check's UPDATE would scan, go before the next batch (slower and slower without)
      if (lo > 0) await sql`vacuum account_tree_lock`.execute(db)
    }
  }
  await fillUsers(db, from, to)
  await sql`
    insert into contact_slots (account_id, slot, position, user_id, user_status)
    select 'a' || lpad(i::text, 7, '0'), s.slot, s.position, s.user_id, 'active'
    from generate_series(${from}::int, ${to}::int) i
    join (values
      ('root', 'primary', 0, 'u1'), ('root', 'billing', 0, 'u2'), ('root', 'billing', 1, 'u3'), ('root', 'decisionMaker', 0, 'u4'),
      ('root', 'onboarding', 0, 'u5'), ('root', 'security', 0, 'u1'), ('root', 'technicalAdmin', 0, 'u2'),
      ('child', 'decisionMaker', 0, 'u4'), ('child', 'onboarding', 0, 'u5'), ('child', 'technicalAdmin', 0, 'u2'),
      ('even', 'billing', 0, 'u2'), ('even', 'decisionMaker', 0, 'u4'), ('even', 'security', 0, 'u1'),
      ('odd', 'decisionMaker', 0, 'u4'), ('odd', 'technicalAdmin', 0, 'u5'), ('odd', 'security', 0, 'u1')
    ) s(kind, slot, position, user_id)
      on s.kind = case when ${place} = 0 then 'root' when ${place} <= 3 then 'child'
        when ${place} % 2 = 0 then 'even' else 'odd' end`.execute(db)
}

/** What a dataset's accounts are: flat (no parents), or trees of TREE_SIZE (fillTreeChunk). */
export type DatasetShape = 'flat' | 'trees'

/** Migrates and fills an empty database with `accounts` accounts, saying how far it got. */
export async function generate(
  db: Kysely<Database>,
  accounts: number,
  say: (line: string) => void,
  shape: DatasetShape = 'flat',
): Promise<void> {
  await migrateToLatest(db)
  await sql`create table if not exists bench_meta (accounts int not null, generated_at timestamptz not null default now())`.execute(
    db,
  )
  // marks a tree dataset, so that neither kind is taken for the other
  if (shape === 'trees') {
    await sql`create table bench_trees (tree_size int not null)`.execute(db)
    await sql`insert into bench_trees values (${TREE_SIZE})`.execute(db)
  }
  const started = Date.now()
  for (let from = 1; from <= accounts; from += CHUNK) {
    const to = Math.min(accounts, from + CHUNK - 1)
    await (shape === 'trees' ? fillTreeChunk(db, from, to) : fillChunk(db, from, to))
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
async function isComplete(db: Kysely<Database>, name: string, accounts: number, shape: DatasetShape): Promise<boolean> {
  const t = await sql<{ ok: boolean; trees: boolean; tables: number }>`
    select to_regclass('bench_meta') is not null as ok, to_regclass('bench_trees') is not null as trees,
      (select count(*)::int from pg_tables where schemaname = 'public') as tables`.execute(db)
  if (!t.rows[0]?.ok) {
    if (t.rows[0]!.tables === 0) return false
    throw new Error(`database ${name} has tables but is not a benchmark dataset: drop it, or name another (--dataset)`)
  }
  if (t.rows[0].trees !== (shape === 'trees'))
    throw new Error(
      `database ${name} is a dataset of ${t.rows[0].trees ? 'trees' : 'flat accounts'}, not ${shape}: name another (--dataset)`,
    )
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
  shape: DatasetShape = 'flat',
): Promise<string> {
  if (shape === 'trees' && accounts % TREE_SIZE !== 0)
    throw new Error(`a dataset of trees of ${TREE_SIZE} needs a multiple of ${TREE_SIZE} accounts, not ${accounts}`)
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
    if (!(await isComplete(handle.db, name, accounts, shape))) {
      say(
        `Generating ${accounts.toLocaleString('en')} ${shape === 'trees' ? `accounts in trees of ${TREE_SIZE}` : 'accounts'} in PostgreSQL database ${name} (kept for later runs)…`,
      )
      await sql`drop schema public cascade`.execute(handle.db)
      await sql`create schema public`.execute(handle.db)
      await generate(handle.db, accounts, say, shape)
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
