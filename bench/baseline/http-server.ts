/**
 * The minimal baseline the HTTP benchmarks compare against: bare Fastify, no authentication, no
 * schemas, no logging, running the same SQL as the service's routes on a `pg` pool of the
 * service's size (DATABASE_URL) or on PGlite (PGLITE_DIR). What the service does beyond this
 * (auth, validation, serialisation, audit, events) is what the ratio prices.
 *
 *   GET /read/:id     the sheet read: the account row and its slot holders (two queries)
 *   GET /read-named/:id  the same two queries as named (prepared) statements, each parsed and
 *                     planned once per connection: the fastest honest read (PostgreSQL only)
 *   GET /preview/:id  the recipients of `invoice`: the service's own routing SQL, as a named
 *                     statement on PostgreSQL (the limit: the service names it too)
 *   PUT /write/:id    a primary contact change: one UPDATE and one audit INSERT in a transaction
 *                     (4 statements with begin and commit), the old baseline kept for reference
 *   PUT /write-one/:id   the same logical work as ours, in one round trip: a PL/pgSQL function
 *                     this server creates at start-up (`bench_write_primary`, below), the limit
 *   POST /email-events   a batch of SendGrid events: the same signature check (ECDSA over the
 *                     timestamp and the body, SENDGRID_PUBLIC_KEY) and reference check as ours,
 *                     then one UPDATE of the deliveries they name (benchmark 11)
 */
import { createPublicKey, verify } from 'node:crypto'

import { PGlite } from '@electric-sql/pglite'
import Fastify from 'fastify'
import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'

import { verifyRef } from '../../src/bounces/return-path.ts'
import type { Database } from '../../src/db/database.ts'
import { EMAIL_MAX_ATTEMPTS, WEBHOOK_MAX_ATTEMPTS } from '../../src/delivery/retry-policy.ts'
import { CALLER_NAMES } from '../../src/i18n/labels.ts'
import { createSecretDeriver } from '../../src/lib/derived-secrets.ts'
import { newId } from '../../src/lib/ids.ts'
import { renderSystemMail } from '../../src/mail/system-mail.ts'
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
// the holders with their suppression, as ours reads them: a bounced address is marked in the sheet
const SHEET_SQL =
  'select s.slot, s.position, s.user_id, s.email, s.verification, s.assigned_at, u.email as user_email, u.name as user_name, ' +
  'x.kind as suppressed_kind, x.reason as suppressed_reason, x.at as suppressed_at ' +
  'from contact_slots as s left join users as u on u.account_id = s.account_id and u.id = s.user_id ' +
  'left join suppressions as x on x.account_id = s.account_id and x.email = lower(coalesce(u.email, s.email)) ' +
  'where s.account_id = $1 order by s.slot, s.position'

// The routing SQL compiled once, as the service's query builder produces it; the account id is
// its first parameter.
const compiler = new Kysely<Database>({ dialect: new PostgresDialect({ pool: {} as pg.Pool }) })
const preview = resolveRecipientsSql(oneAccount('\u0000'), DEFAULT_POLICY.invoice).compile(compiler)
const previewAt = preview.parameters.indexOf('\u0000')

/** A string as an SQL literal (standard_conforming_strings is on in both engines). */
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`

/**
 * The `contact_changed` mail of the service (src/mail/system-mail.ts), rendered once here with
 * markers where the account's and the two holders' names go, in both languages; the function
 * puts the names in with replace(). The names are not HTML-escaped there, which the dataset's
 * names ("User 1 of 42") never need; the text is the service's own, of the same size.
 */
function mailTemplate(locale: 'en' | 'fi') {
  const m = renderSystemMail(
    {
      kind: 'contact-changed',
      accountName: 'XACCOUNTX',
      slots: ['primary'],
      previousName: 'XPREVIOUSX',
      newHolder: 'XNEWX',
      // the benchmark's caller is an API key, named so in mail without a query
      changedBy: CALLER_NAMES[locale].platform,
    },
    locale,
  )
  const fill = (part: string) =>
    `replace(replace(replace(${literal(part)}, 'XACCOUNTX', acc.name), 'XPREVIOUSX', prev->>'name'), 'XNEWX', newu.name)`
  return { subject: fill(m.subject), text: fill(m.text), html: fill(m.html) }
}
const mail = { en: mailTemplate('en'), fi: mailTemplate('fi') }
const inLocale = (part: 'subject' | 'text' | 'html') =>
  `case when coalesce(prev_locale, acc.locale) = 'fi' then ${mail.fi[part]} else ${mail.en[part]} end`

/**
 * What our `PUT /v1/accounts/{id}/contacts/primary` does (src/contacts/contacts.service.ts
 * `change`), as one PL/pgSQL function: one round trip, each statement inside planned once per
 * connection and run on a fresh snapshot (read committed), so the slots read after the lock
 * are the lock holder's committed ones, as in ours. In order: lock the account; read the sheet
 * (its slot holders with their users); refuse a user who is not an active user of the account;
 * answer the sheet unchanged, writing nothing, when the user already is the primary contact; else
 * put them in the slot, bump the version and set the review date, append the audit event (the
 * whole sheet before and after, as ours stores it), record the `contacts.updated` event with
 * one webhook delivery per enabled endpoint that takes it (src/webhooks/events.repository.ts),
 * and queue the `contact_changed` mail to the previous holder, a system notification with
 * its delivery (src/notifications/fan-out.repository.ts `systemMailInserts`). Answers the new
 * sheet as JSON text. The ids are made by the caller, as ours makes them (src/lib/ids.ts).
 */
const WRITE_FUNCTION = `
create or replace function bench_write_primary(
  p_account text, p_user text, p_audit_id text, p_event_id text, p_mail_id text,
  p_actor_type text, p_actor_id text, p_request_id text
) returns text language plpgsql as $fn$
declare
  acc accounts%rowtype;
  newu users%rowtype;
  state jsonb;
  before_sheet jsonb;
  after_sheet jsonb;
  prev jsonb;
  prev_locale text;
begin
  select * into acc from accounts where id = p_account for update;
  if not found then
    raise exception 'account % not found', p_account using errcode = 'BW404';
  end if;
  select jsonb_build_object('primary', null, 'decisionMaker', null, 'onboarding', null, 'security', null,
      'technicalAdmin', null)
    || coalesce(jsonb_object_agg(x.slot, x.c) filter (where x.slot <> 'billing'), '{}')
    || jsonb_build_object('billing', coalesce(jsonb_agg(x.c order by x.position) filter (where x.slot = 'billing'), '[]')),
    max(x.locale) filter (where x.slot = 'primary')
  into state, prev_locale
  from (
    select s.slot, s.position, u.locale,
      case when s.user_id is not null
        then jsonb_build_object('type', 'user', 'userId', s.user_id, 'email', coalesce(u.email, ''), 'name', coalesce(u.name, ''))
        else jsonb_build_object('type', 'email', 'email', s.email, 'verification', coalesce(s.verification, 'pending'))
      end as c
    from contact_slots s left join users u on u.account_id = s.account_id and u.id = s.user_id
    where s.account_id = p_account
  ) x;
  select * into newu from users where account_id = p_account and id = p_user and status = 'active';
  if not found then
    raise exception 'user % is not an active user of account %', p_user, p_account using errcode = 'BW422';
  end if;
  before_sheet := state || jsonb_build_object('version', acc.contacts_version, 'contactsReviewedAt',
    to_char(acc.contacts_reviewed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));
  prev := state->'primary';
  if prev->>'type' = 'user' and prev->>'userId' = p_user then
    return before_sheet::text;
  end if;

  update contact_slots set user_id = p_user, user_status = 'active', email = null, verification = null, assigned_at = now()
    where account_id = p_account and slot = 'primary' and position = 0;
  if not found then
    insert into contact_slots (account_id, slot, position, user_id, user_status) values (p_account, 'primary', 0, p_user, 'active');
  end if;
  update accounts set contacts_reviewed_at = now(), updated_at = now(), contacts_version = contacts_version + 1
    where id = p_account returning * into acc;
  after_sheet := state
    || jsonb_build_object('primary', jsonb_build_object('type', 'user', 'userId', newu.id, 'email', newu.email, 'name', newu.name),
      'version', acc.contacts_version,
      'contactsReviewedAt', to_char(acc.contacts_reviewed_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'));

  insert into audit_events (account_id, id, actor_type, actor_id, action, before, after, request_id)
    values (p_account, p_audit_id, p_actor_type, p_actor_id, 'contacts.updated', before_sheet, after_sheet, p_request_id);

  insert into events (account_id, id, type, payload)
    values (p_account, p_event_id, 'contacts.updated', jsonb_build_object('type', 'contacts.updated', 'accountId', p_account,
      'data', jsonb_build_object('contacts', after_sheet),
      'timestamp', to_char(now() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')));
  insert into deliveries (account_id, id, channel, event_id, endpoint_id, recipient, max_attempts)
    select p_account, p_event_id || '.' || w.id, 'webhook', p_event_id, w.id, w.url, ${WEBHOOK_MAX_ATTEMPTS}
    from webhook_endpoints w
    where w.status = 'enabled' and (w.event_types is null or 'contacts.updated' = any(w.event_types));

  -- the previous holder is told, unless the slot was empty (a user: the primary slot holds no
  -- outside address; the caller is an API key, never the previous holder themselves)
  if prev->>'type' = 'user' then
    insert into notifications (account_id, id, category, subject, text, html, kind, fallback, status, recipients,
        broadcast_id, actor_type, actor_id, request_id)
      values (p_account, p_mail_id, 'contact_changed', ${inLocale('subject')}, ${inLocale('text')}, ${inLocale('html')},
        'system', null, 'queued',
        jsonb_build_array(jsonb_build_object('email', prev->>'email', 'name', prev->>'name', 'userId', prev->>'userId',
          'slots', '[]'::jsonb)),
        null, p_actor_type, p_actor_id, p_request_id);
    insert into deliveries (account_id, id, channel, notification_id, recipient, recipient_name, max_attempts)
      values (p_account, p_mail_id || '.0', 'email', p_mail_id, prev->>'email', prev->>'name', ${EMAIL_MAX_ATTEMPTS});
  end if;
  return after_sheet::text;
end
$fn$`

const db = process.env.DATABASE_URL ? postgres(process.env.DATABASE_URL) : await pglite(process.env.PGLITE_DIR!)
await db.query(WRITE_FUNCTION, [])
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
  const [row] = await (named ? named('bench_preview', preview.sql, params) : db.query(preview.sql, params))
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

const WRITE_ONE_SQL = 'select bench_write_primary($1, $2, $3, $4, $5, $6, $7, $8) as sheet'
const writeErrors: Record<string, number> = { BW404: 404, BW422: 422 }

app.put<{ Params: { id: string }; Body: { userId: string } }>('/write-one/:id', async (req, reply) => {
  const params = [
    req.params.id,
    req.body.userId,
    newId('evt'),
    newId('evt'),
    newId('ntf'),
    'api_key',
    'baseline',
    req.id,
  ]
  try {
    const [row] = (await (named
      ? named('bench_write_one', WRITE_ONE_SQL, params)
      : db.query(WRITE_ONE_SQL, params))) as {
      sheet: string
    }[]
    return reply.type('application/json').send(row!.sheet)
  } catch (e) {
    const status = writeErrors[(e as { code?: string }).code ?? '']
    if (!status) throw e
    return reply.code(status).send({ error: (e as Error).message })
  }
})

const sendgridKey = process.env.SENDGRID_PUBLIC_KEY
if (sendgridKey) {
  const key = createPublicKey({ key: Buffer.from(sendgridKey, 'base64'), format: 'der', type: 'spki' })
  const secrets = createSecretDeriver(process.env.SECRET_KEY ?? '')
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers()
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body))
    scope.post<{ Body: Buffer }>('/email-events', async (req, reply) => {
      const timestamp = String(req.headers['x-twilio-email-event-webhook-timestamp'] ?? '')
      const signature = Buffer.from(String(req.headers['x-twilio-email-event-webhook-signature'] ?? ''), 'base64')
      const signed = Buffer.concat([Buffer.from(timestamp), req.body])
      if (!verify('sha256', signed, key, signature)) return reply.code(401).send({ error: 'bad signature' })
      const events = JSON.parse(req.body.toString('utf8')) as { event: string; ac_ref: string; reason?: string }[]
      const rows = events.flatMap((e) => {
        const token = verifyRef(secrets, e.ac_ref)
        return token ? [{ token, bounced: e.event === 'bounce', reason: e.reason ?? '' }] : []
      })
      await db.query(
        `update deliveries d set status = case when x.bounced then 'bounced' else d.status end,
           last_error = case when x.bounced then x.reason else d.last_error end, updated_at = now()
         from unnest($1::text[], $2::boolean[], $3::text[]) as x(token, bounced, reason)
         where d.return_token = x.token`,
        [rows.map((r) => r.token), rows.map((r) => r.bounced), rows.map((r) => r.reason)],
      )
      return { received: events.length }
    })
  })
}

await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
