import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { PassThrough } from 'node:stream'
import { test } from 'node:test'

import { parse } from 'csv-parse/sync'

import { fileIdentity, saveCheckpoint } from '../../src/import/checkpoint.ts'
import { exportCsv } from '../../src/import/export.service.ts'
import { importCsv, type ImportOptions } from '../../src/import/import.service.ts'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { DATABASES } from '../helpers/databases.ts'
import { tempDir } from './cli-harness.ts'

// The account tree (issue 16) in CSV: each account's parent in the users file, each slot's rule
// in the sheets file (docs/CSV.md). Parents are set after every account of the file is there, so
// a child may come first and a file may move accounts; a parent the database refuses is a
// rejected row with the reason, and the rest lands.

const importInto = (app: TestApp, opts: ImportOptions) =>
  importCsv({ db: app.services.db, users: app.services.users, contacts: app.services.contacts }, opts)

async function exportText(app: TestApp, format: 'users' | 'sheets'): Promise<string> {
  const out = new PassThrough()
  const chunks: Buffer[] = []
  out.on('data', (c: Buffer) => chunks.push(c))
  await exportCsv(app.handle.db, { format, out })
  return Buffer.concat(chunks).toString('utf8')
}

async function call(app: TestApp, opts: Parameters<TestApp['call']>[0], status = 200) {
  const res = await app.call(opts)
  assert.equal(res.statusCode, status, `${opts.method} ${opts.url}: ${res.body}`)
  return res.json()
}

/** Account id → its parent, as the API shows them. */
async function parents(app: TestApp): Promise<Record<string, string | null>> {
  const { data } = await call(app, { method: 'GET', url: '/v1/accounts?limit=200' })
  return Object.fromEntries(
    (data as { id: string; parentAccountId: string | null }[]).map((a) => [a.id, a.parentAccountId]),
  )
}

const rulesOf = async (app: TestApp, id: string) =>
  (await call(app, { method: 'GET', url: `/v1/accounts/${id}/contacts` })).rules as Record<string, string>

function readRejects(file: string) {
  const [, ...rows] = parse(fs.readFileSync(file), { relax_column_count: true }) as string[][]
  return new Map(rows.map(([line, code, , detail, ...cells]) => [Number(line), { code, detail: detail ?? '', cells }]))
}

const USERS_HEADER = 'account_id,account_name,account_locale,parent_account_id,user_id,email,name,role,status,locale'
const account = (id: string, parent = '') => `${id},${id} Oy,en,${parent},,,,,,`

function write(dir: string, name: string, lines: string[]): string {
  const file = path.join(dir, name)
  fs.writeFileSync(file, lines.join('\n') + '\n')
  return file
}

for (const kind of DATABASES) {
  test(`[${kind}] a three-level tree with rules: export, then import into an empty database, gives the same parents and rules`, async (t) => {
    const src = await buildTestApp(t, kind)
    // ids in the reverse of the tree: the export, in id order, lists each child before its parent
    for (const [id, parentAccountId] of [
      ['c-root', undefined],
      ['b-mid', 'c-root'],
      ['a-leaf', 'b-mid'],
    ] as const) {
      await call(src, { method: 'POST', url: '/v1/accounts', payload: { id, name: `${id} Oy`, parentAccountId } }, 201)
      await call(
        src,
        {
          method: 'PUT',
          url: `/v1/accounts/${id}/users/boss`,
          payload: { email: `boss@${id}.example`, name: 'Boss', role: 'super_admin' },
        },
        201,
      )
    }
    const rules: [string, string, string][] = [
      ['b-mid', 'billing', 'add'],
      ['b-mid', 'primary', 'replace'],
      ['a-leaf', 'security', 'none'],
      ['a-leaf', 'technical-admin', 'add'],
    ]
    for (const [id, slot, rule] of rules)
      await call(src, { method: 'PUT', url: `/v1/accounts/${id}/contacts/rules/${slot}`, payload: { rule } })
    await call(src, {
      method: 'PUT',
      url: '/v1/accounts/b-mid/contacts',
      headers: { 'if-match': '*' },
      payload: { primary: { userId: 'boss' } },
    })

    const dir = tempDir(t)
    const users = write(dir, 'users.csv', [(await exportText(src, 'users')).trimEnd()])
    const sheets = write(dir, 'sheets.csv', [(await exportText(src, 'sheets')).trimEnd()])
    assert.match(fs.readFileSync(users, 'utf8'), /\na-leaf,a-leaf Oy,en,b-mid,boss,/)
    assert.match(
      fs.readFileSync(sheets, 'utf8'),
      /^account_id,primary,billing_1,billing_2,billing_3,decision_maker,onboarding,security,technical_admin,primary_rule,billing_rule,decision_maker_rule,onboarding_rule,security_rule,technical_admin_rule\n/,
    )
    assert.match(
      fs.readFileSync(sheets, 'utf8'),
      /\nb-mid,boss,,,,,,,,replace,add,,,,\n/,
      'an inheriting slot is empty',
    )

    const dst = await buildTestApp(t, kind)
    const u = await importInto(dst, { file: users })
    assert.deepEqual([u.rejected, u.tally.accountsCreated, u.tally.parentsSet], [0, 3, 2])
    const s = await importInto(dst, { file: sheets })
    assert.deepEqual([s.rejected, s.tally.sheetsChanged], [0, 2])

    assert.deepEqual(await parents(dst), { 'a-leaf': 'b-mid', 'b-mid': 'c-root', 'c-root': null })
    for (const id of ['a-leaf', 'b-mid', 'c-root']) assert.deepEqual(await rulesOf(dst, id), await rulesOf(src, id), id)
    assert.equal(await exportText(dst, 'users'), fs.readFileSync(users, 'utf8'))
    assert.equal(await exportText(dst, 'sheets'), fs.readFileSync(sheets, 'utf8'))

    // the parent is set by the system, audited; a rerun changes nothing
    const audit = await call(dst, { method: 'GET', url: '/v1/accounts/a-leaf/audit-events?limit=50' })
    const moved = (audit.data as { action: string; actor: object; after: { parentAccountId?: string } }[]).filter(
      (e) => e.action === 'account.updated',
    )
    assert.deepEqual(
      moved.map((e) => [e.after.parentAccountId, e.actor]),
      [['b-mid', { type: 'system', id: 'cli-import' }]],
    )
    const again = await importInto(dst, { file: users })
    assert.deepEqual([again.changed, again.tally.parentsSet], [0, 0])
    const sheetsAgain = await importInto(dst, { file: sheets })
    assert.equal(sheetsAgain.changed, 0)
  })

  test(`[${kind}] a child listed before its parent, in another batch, lands under it; an unknown parent is a rejected row`, async (t) => {
    const app = await buildTestApp(t, kind)
    const dir = tempDir(t)
    const file = write(dir, 'users.csv', [
      USERS_HEADER,
      account('kid', 'mom'), // 2
      account('orphan', 'nobody'), // 3
      account('mom', 'gran'), // 4
      account('gran'), // 5
    ])
    // a dry run cannot try the parents of accounts it has not created, but it finds one that is nowhere
    const dry = await importInto(app, { file, batchRows: 1, dryRun: true })
    assert.deepEqual([dry.changed, dry.rejected], [3, 1])
    assert.equal(readRejects(dry.rejectsPath!).get(3)!.code, 'parent-not-found')
    assert.deepEqual(await parents(app), {})

    const s = await importInto(app, { file, batchRows: 1 })
    assert.deepEqual([s.rows, s.changed, s.rejected, s.tally.accountsCreated, s.tally.parentsSet], [4, 3, 1, 4, 2])
    assert.deepEqual(await parents(app), { gran: null, kid: 'mom', mom: 'gran', orphan: null })
    const rejects = readRejects(s.rejectsPath!)
    assert.deepEqual([...rejects.keys()], [3])
    assert.equal(rejects.get(3)!.code, 'parent-not-found')
    assert.equal(
      rejects.get(3)!.detail,
      'No account "nobody" to be the parent. The rest of the row landed; the account keeps the parent it had (none, if it is new).',
    )
    assert.deepEqual(rejects.get(3)!.cells, account('orphan', 'nobody').split(','))
  })

  test(`[${kind}] a file may move accounts; a row that would make a cycle is rejected with the reason, and the other rows land`, async (t) => {
    const app = await buildTestApp(t, kind)
    const dir = tempDir(t)
    const chain = ['m1', 'm2', 'm3', 'm4', 'm5'] // as deep as a tree may be
    const first = await importInto(app, {
      file: write(dir, 'first.csv', [
        USERS_HEADER,
        account('p', ''),
        account('q', 'p'),
        account('r', 'q'),
        account('top'),
        ...chain.map((m, i) => account(m, chain[i - 1])),
      ]),
    })
    assert.equal(first.rejected, 0)
    assert.deepEqual(await parents(app), {
      p: null,
      q: 'p',
      r: 'q',
      top: null,
      m1: null,
      m2: 'm1',
      m3: 'm2',
      m4: 'm3',
      m5: 'm4',
    })

    // one at a time in file order, p under q would be a cycle until q and r move, and m1 under
    // top a tree of six levels until m3 leaves it
    const flipped = await importInto(app, {
      file: write(dir, 'flipped.csv', [
        USERS_HEADER,
        account('p', 'q'),
        account('q', 'r'),
        account('r', ''),
        account('m1', 'top'),
        account('m3', ''),
      ]),
    })
    assert.deepEqual([flipped.rejected, flipped.tally.parentsSet, flipped.changed], [0, 5, 5])
    const moved = { p: 'q', q: 'r', r: null, top: null, m1: 'top', m2: 'm1', m3: null, m4: 'm3', m5: 'm4' }
    assert.deepEqual(await parents(app), moved)

    // r under s, then s under p, which is below r: the second row closes a cycle; the rest lands
    const cyclic = await importInto(app, {
      file: write(dir, 'cyclic.csv', [
        USERS_HEADER,
        account('r', 's'), // 2
        account('s', 'p'), // 3
        'tee,Tee Oy,en,,tina,tina@tee.example,Tina,super_admin,active,', // 4
      ]),
    })
    assert.deepEqual([cyclic.rows, cyclic.rejected, cyclic.tally.parentsSet], [3, 1, 1])
    const rejects = readRejects(cyclic.rejectsPath!)
    assert.deepEqual([...rejects.keys()], [3])
    assert.equal(rejects.get(3)!.code, 'account-tree-cycle')
    assert.match(rejects.get(3)!.detail, /^"p" is this account or one of its descendants/)
    assert.deepEqual(await parents(app), { ...moved, r: 's', s: null, tee: null })
    const users = await call(app, { method: 'GET', url: '/v1/accounts/tee/users' })
    assert.equal(users.data.length, 1)
  })

  test(`[${kind}] rule columns: a bad value is a rejected row; without the columns the rules stay; some of them alone are refused`, async (t) => {
    const app = await buildTestApp(t, kind)
    const dir = tempDir(t)
    await importInto(app, { file: write(dir, 'users.csv', [USERS_HEADER, account('top'), account('sub', 'top')]) })
    const header =
      'account_id,primary,billing_1,billing_2,billing_3,decision_maker,onboarding,security,technical_admin,primary_rule,billing_rule,decision_maker_rule,onboarding_rule,security_rule,technical_admin_rule'
    const s = await importInto(app, {
      file: write(dir, 'sheets.csv', [header, 'sub,,,,,,,,,replace,add,,,none,', 'top,,,,,,,,,,sometimes,,,,']),
    })
    assert.deepEqual([s.changed, s.rejected], [1, 1])
    const rejects = readRejects(s.rejectsPath!)
    assert.equal(rejects.get(3)!.code, 'validation-failed')
    assert.equal(rejects.get(3)!.detail, '/billing_rule must be one of: inherit, add, replace, none')
    assert.deepEqual(await rulesOf(app, 'sub'), {
      primary: 'replace',
      billing: 'add',
      decisionMaker: 'inherit',
      onboarding: 'inherit',
      security: 'none',
      technicalAdmin: 'inherit',
    })

    // the sheets file of before the rules: the holders are replaced, the rules stay
    const old = await importInto(app, {
      file: write(dir, 'old.csv', [
        'account_id,primary,billing_1,billing_2,billing_3,decision_maker,onboarding,security,technical_admin',
        'sub,,,,,,,,',
      ]),
    })
    assert.deepEqual([old.changed, old.rejected], [0, 0])
    assert.equal((await rulesOf(app, 'sub')).billing, 'add')

    await assert.rejects(
      importInto(app, {
        file: write(dir, 'some.csv', [
          'account_id,primary,billing_1,billing_2,billing_3,decision_maker,onboarding,security,technical_admin,billing_rule',
          'sub,,,,,,,,,',
        ]),
      }),
      /some rule columns but not primary_rule, decision_maker_rule, onboarding_rule, security_rule, technical_admin_rule/,
    )
  })

  test(`[${kind}] a resumed import sets the parents of the accounts the interrupted run landed, not of those it rejected`, async (t) => {
    const app = await buildTestApp(t, kind)
    const dir = tempDir(t)
    await importInto(app, { file: write(dir, 'before.csv', [USERS_HEADER, account('old'), account('kid')]) })
    // as an interrupted run leaves it: lines 2 and 3 done, line 2 rejected, the parents not set yet
    const file = write(dir, 'users.csv', [USERS_HEADER, account('old', 'top'), account('kid', 'top'), account('top')])
    const rejectsPath = `${file}.rejects.csv`
    fs.writeFileSync(
      rejectsPath,
      `line,code,title,detail,${USERS_HEADER}\n2,conflict,Conflict,as if,${account('old', 'top')}\n`,
    )
    saveCheckpoint(file, {
      version: 1,
      file: fileIdentity(file),
      encoding: 'utf-8',
      format: 'users',
      line: 3,
      rows: 2,
      rejects: { path: rejectsPath, bytes: fs.statSync(rejectsPath).size },
      tally: { changed: 0, unchanged: 1, rejected: 1 },
    })
    const s = await importInto(app, { file })
    assert.equal(s.resumedAfterLine, 3)
    assert.deepEqual([s.rows, s.changed, s.unchanged, s.rejected, s.tally.parentsSet], [3, 2, 0, 1, 1])
    assert.deepEqual(await parents(app), { kid: 'top', old: null, top: null })
  })
}
