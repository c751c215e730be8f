/**
 * The minimal baseline the HTTP benchmarks compare against: bare Fastify, no authentication, no
 * schemas, no logging, running the same SQL as the service's routes on a `pg` pool of the
 * service's size (DATABASE_URL) or on PGlite (PGLITE_DIR). What the service does beyond this
 * (auth, validation, serialisation, audit, events) is what the ratio prices.
 *
 *   GET /read/:id     the sheet read: the account row and its slot holders (two queries)
 *   GET /read-named/:id  the same two queries as named (prepared) statements, each parsed and
 *                     planned once per connection: the fastest honest read (PostgreSQL only)
 *   GET /preview/:id  the recipients of `invoice`: the service's own routing SQL
 *   PUT /write/:id    a primary contact change: one UPDATE and one audit INSERT in a transaction
 */
import { PGlite } from '@electric-sql/pglite'
import Fastify from 'fastify'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'

import type { Database } from '../../src/db/database.ts'
import { oneAccount, resolveRecipientsSql } from '../../src/routing/recipients.repository.ts'
import { DEFAULT_POLICY } from '../../src/routing/routing-policy.ts'

type Query = (text: string, params: unknown[]) => Promise<unknown[]>
interface Db {
  query: Query
  /** The query as a named statement: prepared on a connection's first use, then only bound and run. */
  named?: (name: string, text: string, params: unknown[]) => Promise<unknown[]>
  transaction<T>(f: (q: Query) => Promise<T>): Promise<T>
}

function postgres(url: string): Db {
  const pool = new pg.Pool({ connectionString: url, max: 10 })
  return {
    query: async (text, params) => (await pool.query(text, params)).rows,
    named: async (name, text, values) => (await pool.query({ name, text, values })).rows,
    async transaction(f) {
      const c = await pool.connect()
      try {
        await c.query('begin')
        const out = await f(async (text, params) => (await c.query(text, params)).rows)
        await c.query('commit')
        return out
      } catch (e) {
        await c.query('rollback')
        throw e
      } finally {
        c.release()
      }
    },
  }
}

async function pglite(dir: string): Promise<Db> {
  const db = await PGlite.create(dir)
  return {
    query: async (text, params) => (await db.query(text, params)).rows,
    transaction: (f) => db.transaction((tx) => f(async (text, params) => (await tx.query(text, params)).rows)),
  }
}

const ACCOUNT_SQL = 'select * from accounts where id = $1'
const SHEET_SQL =
  'select s.slot, s.position, s.user_id, s.email, s.verification, s.assigned_at, u.email as user_email, u.name as user_name ' +
  'from contact_slots as s left join users as u on u.account_id = s.account_id and u.id = s.user_id ' +
  'where s.account_id = $1 order by s.slot, s.position'

// The routing SQL compiled once, as the service's query builder produces it; the account id is
// its first parameter.
const compiler = new Kysely<Database>({ dialect: new PostgresDialect({ pool: {} as pg.Pool }) })
const preview = resolveRecipientsSql(oneAccount('\u0000'), DEFAULT_POLICY.invoice).compile(compiler)
const previewAt = preview.parameters.indexOf('\u0000')

const db = process.env.DATABASE_URL ? postgres(process.env.DATABASE_URL) : await pglite(process.env.PGLITE_DIR!)
const app = Fastify({ logger: false })

app.get('/ready', async () => ({ ok: true }))

app.get<{ Params: { id: string } }>('/read/:id', async (req, reply) => {
  const [account] = await db.query(ACCOUNT_SQL, [req.params.id])
  if (!account) return reply.code(404).send({ error: 'not found' })
  return { account, slots: await db.query(SHEET_SQL, [req.params.id]) }
})

const named = db.named
// PGlite's query takes no statement name: this route is PostgreSQL's
if (named) {
  app.get<{ Params: { id: string } }>('/read-named/:id', async (req, reply) => {
    const [account] = await named('bench_account', ACCOUNT_SQL, [req.params.id])
    if (!account) return reply.code(404).send({ error: 'not found' })
    return { account, slots: await named('bench_sheet', SHEET_SQL, [req.params.id]) }
  })
}

app.get<{ Params: { id: string } }>('/preview/:id', async (req, reply) => {
  const params = [...preview.parameters]
  params[previewAt] = req.params.id
  const [row] = await db.query(preview.sql, params)
  if (!row) return reply.code(404).send({ error: 'not found' })
  return row
})

app.put<{ Params: { id: string }; Body: { userId: string } }>('/write/:id', async (req) => {
  const { id } = req.params
  const { userId } = req.body
  await db.transaction(async (q) => {
    await q(
      "update contact_slots set user_id = $2, assigned_at = now() where account_id = $1 and slot = 'primary' and position = 0",
      [id, userId],
    )
    await q(
      "insert into audit_events (account_id, id, actor_type, actor_id, action, before, after, request_id) values ($1, $2, 'api_key', 'baseline', 'contacts.updated', null, $3, $4)",
      [
        id,
        `ae_${process.hrtime.bigint()}_${Math.random().toString(36).slice(2)}`,
        JSON.stringify({ primary: userId }),
        req.id,
      ],
    )
  })
  return { ok: true }
})

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
