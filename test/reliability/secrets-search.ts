/**
 * The secrets half of the security checks (security.test.ts): every kind of credential made and
 * used against a running service, and the search for them in every row of the database.
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import type { TestContext } from 'node:test'

import { type Kysely, sql } from 'kysely'

import type { Database } from '../../src/db/database.ts'
import type { SmtpSink } from '../peers/smtp-sink.ts'
import type { WebhookReceiver } from '../peers/webhook-receiver.ts'

/** A secret, as sent, URL-encoded, and its random part alone (a prefix or account id is not secret). */
export const needles = (s: string) => [s, encodeURIComponent(s), s.slice(-24)]

/**
 * Makes and uses every kind of credential against a running service, the way callers do and the
 * way they should not (in a query, a Basic header, a cookie): a platform key, a session token as a
 * bearer and as the page's cookie, a webhook secret, a verification link opened from its mail.
 * Answers each credential by name.
 */
export async function driveWithSecrets(
  base: string,
  keys: { platformKey: string; otherKey: string },
  sink: SmtpSink,
  receiver: WebhookReceiver,
): Promise<Record<string, string>> {
  const call = async (
    method: string,
    url: string,
    opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) => {
    const res = await fetch(`${base}${url}`, {
      method,
      headers: {
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
        ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...opts.headers,
      },
      ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
      redirect: 'manual',
    })
    const text = await res.text()
    return { status: res.status, text, json: () => JSON.parse(text), headers: res.headers }
  }
  const ok = async (p: ReturnType<typeof call>, what: string) => {
    const r = await p
    assert.ok(r.status < 300, `${what}: ${r.status} ${r.text}`)
    return r
  }
  const { platformKey, otherKey } = keys

  // an account, users, a webhook endpoint (its secret shown once)
  const accountId = `sec-${Date.now().toString(36)}`
  await ok(call('POST', '/v1/accounts', { token: platformKey, body: { id: accountId, name: 'Secrets Oy' } }), 'account')
  for (const [id, role] of [
    ['admin', 'super_admin'],
    ['billing', 'billing_admin'],
  ] as const) {
    await ok(
      call('PUT', `/v1/accounts/${accountId}/users/${id}`, {
        token: otherKey,
        body: { email: `${id}@secrets.example`, name: id, role },
      }),
      id,
    )
  }
  const endpoint = (
    await ok(call('POST', '/v1/webhook-endpoints', { token: platformKey, body: { url: receiver.url } }), 'endpoint')
  ).json()
  const webhookSecret: string = endpoint.secret
  assert.match(webhookSecret, /^whsec_/)

  // a session token, used as a bearer, then exchanged for the page's cookies and used as them
  const session = (
    await ok(
      call('POST', `/v1/accounts/${accountId}/sessions`, { token: platformKey, body: { userId: 'admin' } }),
      'session',
    )
  ).json()
  const sessionToken: string = session.token
  await ok(call('GET', `/v1/accounts/${accountId}/contacts`, { token: sessionToken }), 'session read')
  const signedIn = await ok(call('POST', '/ui/session', { body: { token: sessionToken } }), 'sign-in')
  const cookies = Object.fromEntries(
    signedIn.headers.getSetCookie().map((c) => c.split(';')[0]!.split('=') as [string, string]),
  )
  const cookie = `ac_session=${cookies.ac_session}; ac_csrf=${cookies.ac_csrf}`
  await ok(call('GET', '/ui/session', { headers: { cookie } }), 'page session')
  await ok(
    call('PUT', `/v1/accounts/${accountId}/contacts/primary`, {
      body: { userId: 'admin' },
      headers: { cookie, 'x-csrf-token': cookies.ac_csrf! },
    }),
    'page write',
  )
  assert.equal(
    (
      await call('POST', `/v1/accounts/${accountId}/contacts/billing`, {
        body: { userId: 'billing' },
        headers: { cookie },
      })
    ).status,
    403,
  )

  // an outside security address: the verification link arrives by mail, and is opened
  await ok(
    call('PUT', `/v1/accounts/${accountId}/contacts/security`, {
      token: sessionToken,
      body: { email: 'soc@outside.example' },
    }),
    'security',
  )
  const deadline = Date.now() + 20_000
  let link: string | undefined
  while (!link) {
    link = sink.messages
      .map((m) => /https?:\/\/\S+\/v1\/verify-email\?token=[^\s"<>]+/.exec(m.text ?? '')?.[0])
      .find(Boolean)
    if (!link) {
      assert.ok(Date.now() < deadline, `no verification link in ${sink.received()} mails after 20 s`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }
  const verificationToken = decodeURIComponent(new URL(link).searchParams.get('token')!)
  assert.equal(
    (await call('GET', `/v1/verify-email?token=${encodeURIComponent(verificationToken)}`)).status,
    200,
    'the link page',
  )
  const verified = await call('POST', '/v1/verify-email', { body: { token: verificationToken } })
  assert.equal(verified.status, 200, verified.text)

  // the same secrets where they do not belong: refused, but still sent to the server
  await call('GET', `/v1/verify-email?token=${encodeURIComponent(verificationToken)}`)
  await call('POST', `/v1/verify-email?token=${encodeURIComponent(verificationToken)}`, {
    body: { token: verificationToken },
  })
  await call('GET', `/v1/accounts?api_key=${platformKey}&limit=1`, { token: `${platformKey}x` })
  await call('GET', '/v1/accounts', {
    headers: {
      authorization: `Basic ${Buffer.from(`u:${otherKey}`).toString('base64')}`,
      cookie: `ac_session=${sessionToken}`,
    },
  })
  await call('POST', '/ui/session', { body: { token: `${sessionToken}x` } })
  await call('GET', `/v1/accounts/${accountId}/contacts`, { headers: { cookie: `ac_session=${webhookSecret}` } })
  await call('POST', '/ui/sign-out', { headers: { cookie } })
  // malformed requests carrying a key, which Node refuses before Fastify sees them (a header block
  // too large, a broken header line): the raw bytes Node keeps with the error must not be logged
  const auth = `authorization: Bearer ${platformKey}\r\n`
  assert.match(
    await rawRequest(base, `GET /v1/accounts HTTP/1.1\r\nhost: x\r\n${auth}x-big: ${'a'.repeat(20_000)}\r\n\r\n`),
    /^HTTP\/1\.1 431/,
  )
  assert.match(
    await rawRequest(base, `POST /v1/accounts HTTP/1.1\r\nhost: x\r\n${auth}bad header: 1\r\n\r\n`),
    /^HTTP\/1\.1 400/,
  )
  // webhooks go out signed with the secret, not carrying it
  await receiver.waitFor(1, 20_000)
  return {
    'platform API key': platformKey,
    'second API key': otherKey,
    'session token': sessionToken,
    'page cookie (ac_session)': decodeURIComponent(cookies.ac_session!),
    'webhook secret': webhookSecret,
    'verification token': verificationToken,
  }
}

/** Sends `text` as it is on a socket of its own; what came back once the server closed it. */
function rawRequest(base: string, text: string): Promise<string> {
  const { hostname, port } = new URL(base)
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => socket.end(text))
    let got = ''
    socket.setEncoding('utf8').on('data', (d: string) => (got += d))
    socket.on('close', () => resolve(got)).on('error', (err) => (got ? resolve(got) : reject(err)))
    socket.setTimeout(10_000, () => socket.destroy(new Error('rawRequest: no answer in 10 s')))
  })
}

/**
 * A log line as text to search: with any Buffer pino wrote as `{"type":"Buffer","data":[…]}`
 * decoded too, since a secret in raw bytes is a list of numbers there.
 */
export function searchableLogLine(line: string): string {
  const buffers = [...line.matchAll(/"type":"Buffer","data":\[([\d,]*)\]/g)].map((m) =>
    Buffer.from(m[1]!.split(',').filter(Boolean).map(Number)).toString('latin1'),
  )
  return [line, ...buffers].join('\n')
}

/** No secret in any row of any table, the outbox's queued mail included. */
export async function assertNotStored(t: TestContext, db: Kysely<Database>, secrets: Record<string, string>) {
  const dump = await dumpTables(db)
  for (const [name, secret] of Object.entries(secrets)) {
    for (const n of needles(secret)) {
      const found = dump.filter((r) => r.row.includes(n)).map((h) => h.table)
      assert.deepEqual(found, [], `the ${name} is stored in ${found.join(', ')}`)
    }
  }
  t.diagnostic(
    `secrets: ${Object.keys(secrets).length} kinds of credential searched in ${dump.length} rows of ${new Set(dump.map((d) => d.table)).size} tables: none stored`,
  )
}

/** Every row of every table of the public schema, as the text PostgreSQL writes for it. */
async function dumpTables(db: Kysely<Database>): Promise<{ table: string; row: string }[]> {
  const tables = await sql<{ name: string }>`
    select table_name as name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`.execute(
    db,
  )
  const out: { table: string; row: string }[] = []
  for (const { name } of tables.rows) {
    const rows = await sql<{ row: string }>`select t::text as row from ${sql.table(name)} t`.execute(db)
    for (const r of rows.rows) out.push({ table: name, row: r.row })
  }
  assert.ok(tables.rows.length >= 10, 'the dump covers the schema')
  return out
}
