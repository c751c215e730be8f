import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

import { DATABASES } from '../helpers/databases.ts'
import { makeAccount } from '../helpers/factories.ts'
import { makeHealthCases } from '../helpers/health-fixtures.ts'
import { cli, cliDatabase, type CliResult, listeningApp, tempDir } from './cli-harness.ts'

// report, notify and broadcast through `runCli`: locally (the CLI opens the database itself) and
// remotely (--url/--api-key, through the typed client, against a listening test app).

const okRun = (r: CliResult) => {
  assert.equal(r.code, 0, `exit ${r.code}\n${r.stderr}`)
  return r
}

/** account id → problem codes, from each format, to compare with what the fixtures made. */
function parseReport(format: 'table' | 'csv' | 'json', stdout: string): Map<string, string[]> {
  const found = new Map<string, string[]>()
  const add = (id: string, code: string) => found.set(id, [...(found.get(id) ?? []), code])
  if (format === 'json') {
    for (const a of JSON.parse(stdout) as { accountId: string; problems: { code: string }[] }[])
      for (const p of a.problems) add(a.accountId, p.code)
  } else if (format === 'csv') {
    const [header, ...rows] = stdout.trimEnd().split('\n')
    assert.equal(header, 'account_id,account_name,problem,message')
    for (const row of rows) {
      const [id, , code] = row.split(',')
      add(id!, code!)
    }
  } else {
    // columns start where the header's names do
    const [header, ...rows] = stdout.split('\n')
    assert.match(header!, /^ACCOUNT\s+NAME\s+PROBLEM\s+DETAIL$/)
    const [name, problem, detail] = ['NAME', 'PROBLEM', 'DETAIL'].map((h) => header!.indexOf(h))
    for (const row of rows.filter((r) => r.length > detail!))
      add(row.slice(0, name).trim(), row.slice(problem, detail).trim())
  }
  return found
}

const withProblems = (expected: Map<string, string[]>) => new Map([...expected].filter(([, codes]) => codes.length > 0))

for (const kind of DATABASES) {
  test(`[${kind}] report lists exactly the accounts with problems, as a table, CSV and JSON`, async (t) => {
    const db = await cliDatabase(t, kind)
    const expected = await db.use((app) => makeHealthCases(app))
    for (const format of ['table', 'csv', 'json'] as const) {
      const res = okRun(await cli(['report', ...(format === 'table' ? [] : ['--format', format])], db.env))
      assert.deepEqual(parseReport(format, res.stdout), withProblems(expected), format)
      const summary = `${withProblems(expected).size} of ${expected.size} account(s) have contact problems.`
      assert.ok(
        (format === 'table' ? res.stdout : res.stderr).includes(summary),
        `${format}: ${res.stdout}${res.stderr}`,
      )
    }
    const bad = await cli(['report', '--format', 'xml'], db.env)
    assert.equal(bad.code, 1)
    assert.match(bad.stderr, /--format "xml" is not one of table, csv, json/)
  })

  test(`[${kind}] report through a server (--url/--api-key, or the environment) lists the same, without a database`, async (t) => {
    const { app, url, flags } = await listeningApp(t, kind)
    const expected = await makeHealthCases(app)
    const dataDir = tempDir(t)
    const json = okRun(await cli(['report', '--format', 'json', ...flags], { DATA_DIR: dataDir }))
    assert.deepEqual(parseReport('json', json.stdout), withProblems(expected))
    const fromEnv = okRun(
      await cli(['report', '--format', 'csv'], {
        DATA_DIR: dataDir,
        ACCOUNT_CONTACTS_URL: url,
        ACCOUNT_CONTACTS_API_KEY: app.apiKey,
      }),
    )
    assert.deepEqual(parseReport('csv', fromEnv.stdout), withProblems(expected))
    assert.deepEqual(fs.readdirSync(dataDir), [], 'no database was opened')

    const wrongKey = await cli(['report', '--url', url, '--api-key', 'acpk_nope'], { DATA_DIR: dataDir })
    assert.equal(wrongKey.code, 1)
    assert.match(wrongKey.stderr, /answered 401 unauthenticated/)
    const noKey = await cli(['report', '--url', url], { DATA_DIR: dataDir })
    assert.match(noKey.stderr, /needs a platform API key: --api-key KEY/)
  })

  test(`[${kind}] notify locally prints the id and recipients, stores it, and honours --idempotency-key`, async (t) => {
    const db = await cliDatabase(t, kind)
    const { accountId, users } = await db.use(async (app) => {
      const made = await makeAccount(app)
      await app.call({
        method: 'PUT',
        url: `/v1/accounts/${made.accountId}/contacts/primary`,
        payload: { userId: made.users.admin },
      })
      await app.call({
        method: 'POST',
        url: `/v1/accounts/${made.accountId}/contacts/billing`,
        payload: { userId: made.users.billing },
      })
      return made
    })
    const argv = [
      'notify',
      '--account',
      accountId,
      '--category',
      'invoice',
      '--subject',
      'Invoice 42',
      '--text',
      'Due in 14 days.',
      '--idempotency-key',
      'inv-42',
    ]
    const res = okRun(await cli(argv, db.env))
    const id = res.stdout.match(/^(ntf_\w+) queued for 2 recipient\(s\):/)?.[1]
    assert.ok(id, res.stdout)
    assert.match(res.stdout, new RegExp(`<${users.admin}@example\\.com>  primary\\n`))
    assert.match(res.stdout, new RegExp(`<${users.billing}@example\\.com>  billing\\n`))
    assert.match(res.stdout, /delivery workers send it/)

    const again = okRun(await cli(argv, db.env))
    assert.ok(again.stdout.startsWith(`${id} queued`), 'the same key answers the first notification')
    const stored = await db.use(async (app) =>
      (await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/notifications` })).json(),
    )
    assert.deepEqual(
      stored.data.map((n: { id: string }) => n.id),
      [id],
      'sent once',
    )
    assert.deepEqual(
      stored.data[0].deliveries.map((d: { status: string }) => d.status),
      ['queued', 'queued'],
    )

    const missing = await cli(['notify', '--account', accountId, '--category', 'invoice'], db.env)
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /notify needs --subject, --text/)
    const gone = await cli(
      ['notify', '--account', 'no-such', '--category', 'invoice', '--subject', 's', '--text', 't'],
      db.env,
    )
    assert.equal(gone.code, 1)
    assert.equal(gone.stderr, 'No account "no-such". (not-found)\n')
  })

  test(`[${kind}] notify through a server with the platform key`, async (t) => {
    const { app, flags } = await listeningApp(t, kind)
    const { accountId, users } = await makeAccount(app)
    await app.call({
      method: 'PUT',
      url: `/v1/accounts/${accountId}/contacts/primary`,
      payload: { userId: users.admin },
    })
    const res = okRun(
      await cli(
        [
          'notify',
          ...flags,
          '--account',
          accountId,
          '--category',
          'security',
          '--subject',
          'New login',
          '--text',
          'Was it you?',
        ],
        { DATA_DIR: tempDir(t) },
      ),
    )
    const id = res.stdout.match(/^(ntf_\w+) queued for 1 recipient\(s\):/)?.[1]
    assert.ok(id, res.stdout)
    assert.match(res.stdout, /primary/)
    const stored = await app.call({ method: 'GET', url: `/v1/accounts/${accountId}/notifications/${id}` })
    assert.equal(stored.statusCode, 200)
    assert.equal(stored.json().category, 'security')

    const gone = await cli(
      ['notify', ...flags, '--account', 'no-such', '--category', 'invoice', '--subject', 's', '--text', 't'],
      { DATA_DIR: tempDir(t) },
    )
    assert.equal(gone.code, 1)
    assert.match(gone.stderr, /answered 404 not-found/)
  })

  test(`[${kind}] broadcast locally fans out every account itself, with progress to completion`, async (t) => {
    const db = await cliDatabase(t, kind)
    const ids = await db.use(async (app) => {
      const made = []
      for (let i = 0; i < 3; i++) {
        const { accountId, users } = await makeAccount(app)
        await app.call({
          method: 'PUT',
          url: `/v1/accounts/${accountId}/contacts/primary`,
          payload: { userId: users.admin },
        })
        made.push(accountId)
      }
      await app.call({ method: 'POST', url: '/v1/accounts', payload: { id: 'zz-nobody', name: 'Nobody Oy' } })
      return made
    })
    const res = okRun(
      await cli(
        ['broadcast', '--category', 'account_update', '--subject', 'Maintenance', '--text', 'Sunday 02:00'],
        db.env,
      ),
    )
    const id = res.stdout.match(/^Broadcast (bc_\w+) started for 4 account\(s\)\./)?.[1]
    assert.ok(id, res.stdout)
    assert.match(res.stderr, new RegExp(`Broadcast ${id}: 0 / 4 accounts`), res.stderr)
    assert.match(res.stderr, new RegExp(`Broadcast ${id}: 4 / 4 accounts .*100\\.0%`), res.stderr)
    assert.match(res.stderr, new RegExp(`Broadcast ${id}: done in \\S+ — 3 notification\\(s\\) queued`))
    assert.match(
      res.stdout,
      /4 account\(s\), 3 notification\(s\) queued, 1 with nobody to receive it\. The delivery workers send the mail/,
    )

    const after = await db.use(async (app) => ({
      broadcast: (await app.call({ method: 'GET', url: `/v1/broadcasts/${id}` })).json(),
      sent: await Promise.all(
        ids.map(
          async (a) => (await app.call({ method: 'GET', url: `/v1/accounts/${a}/notifications` })).json().data.length,
        ),
      ),
    }))
    assert.equal(after.broadcast.status, 'done')
    assert.deepEqual(after.sent, [1, 1, 1])

    const only = okRun(
      await cli(
        ['broadcast', '--category', 'invoice', '--subject', 'S', '--text', 'T', '--accounts', `${ids[0]},no-such`],
        db.env,
      ),
    )
    assert.match(only.stdout, /started for 1 account\(s\)/)
  })

  test(`[${kind}] broadcast through a server follows GET /v1/broadcasts/{id} while a worker fans out`, async (t) => {
    const { app, flags } = await listeningApp(t, kind)
    const { accountId, users } = await makeAccount(app)
    await app.call({
      method: 'PUT',
      url: `/v1/accounts/${accountId}/contacts/primary`,
      payload: { userId: users.admin },
    })
    // the test app runs no worker: stand in for one
    let stop = false
    const worker = (async () => {
      while (!stop) if (!(await app.services.broadcasts.processBatch())) await new Promise((r) => setTimeout(r, 50))
    })()
    // stopped here, not in t.after: the app's own after-hook closes the database first
    const res = await cli(
      ['broadcast', ...flags, '--category', 'commercial', '--subject', 'Offer', '--text', 'Ten percent off.'],
      { DATA_DIR: tempDir(t) },
    ).finally(async () => {
      stop = true
      await worker
    })
    okRun(res)
    assert.match(
      res.stdout,
      /1 account\(s\), 1 notification\(s\) queued, 0 with nobody to receive it\. The server's delivery workers send the mail/,
    )
    assert.match(res.stderr, /1 \/ 1 accounts .*100\.0%/)
  })
}

test('[pglite] a data dir held by a running server: the message points at --url and --api-key', async (t) => {
  const dir = tempDir(t)
  okRun(await cli(['migrate'], { DATA_DIR: dir, LOG_LEVEL: 'silent' }))
  const holder = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
  await once(holder, 'spawn')
  t.after(() => holder.kill())
  fs.writeFileSync(
    path.join(dir, 'pgdata.lock'),
    JSON.stringify({ pid: holder.pid, purpose: 'account-contacts serve', since: new Date().toISOString() }),
  )
  const res = await cli(['report'], { DATA_DIR: dir, PORT: '4321' })
  assert.equal(res.code, 1)
  assert.match(res.stderr, /in use/)
  assert.ok(res.stderr.includes('--url http://localhost:4321 --api-key KEY'), res.stderr)
  const keys = await cli(['keys', 'list', '--url', 'http://localhost:4321'], { DATA_DIR: dir })
  assert.match(keys.stderr, /keys works on the database itself; --url is for report, notify, broadcast/)
})
