import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { test, type TestContext } from 'node:test'

import { PGlite } from '@electric-sql/pglite'
import { Kysely, PGliteDialect, sql } from 'kysely'

import { pendingMigrations } from '../../src/db/migrate.ts'
import { unpackTemplate } from '../../src/db/pglite-template.ts'
import { pgliteTemplateFile } from '../helpers/databases.ts'

/*
 * The build's PGlite template (db/pglite-template.ts): a new data folder is unpacked from it
 * instead of made by initdb. The template here is the suite's own, written by the same
 * writeTemplate the build runs.
 */

function folder(t: TestContext) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'account-contacts-template-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

test('a new folder unpacked from the template opens as a database with every migration run', async (t) => {
  const pgdata = path.join(folder(t), 'pgdata')
  assert.equal(unpackTemplate(pgdata, await pgliteTemplateFile()), true)
  assert.ok(fs.existsSync(path.join(pgdata, 'PG_VERSION')))
  assert.equal(fs.statSync(pgdata).mode & 0o777, 0o700)
  const pglite = await PGlite.create(pgdata)
  const db = new Kysely<unknown>({ dialect: new PGliteDialect({ pglite }) })
  t.after(() => db.destroy())
  assert.deepEqual(await pendingMigrations(db), [])
  await sql`insert into accounts (id, name) values ('acct_t', 'Template Oy')`.execute(db)
  const { rows } = await sql<{ name: string }>`select name from accounts`.execute(db)
  assert.deepEqual(rows, [{ name: 'Template Oy' }])
})

test('what a killed unpacking left is replaced; without a template nothing is made', async (t) => {
  const dir = folder(t)
  const pgdata = path.join(dir, 'pgdata')
  fs.mkdirSync(`${pgdata}.unpacking`)
  fs.writeFileSync(`${pgdata}.unpacking/PG_VERSION`, 'half')
  assert.equal(unpackTemplate(pgdata, await pgliteTemplateFile()), true)
  assert.notEqual(fs.readFileSync(path.join(pgdata, 'PG_VERSION'), 'utf8'), 'half')
  assert.deepEqual(fs.readdirSync(dir), ['pgdata'])

  const other = path.join(dir, 'other')
  assert.equal(unpackTemplate(other, path.join(dir, 'no-such-template.tar.gz')), false)
  assert.equal(fs.existsSync(other), false)
})
