import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { parse } from 'csv-parse/sync'
import { type Kysely, sql } from 'kysely'

import type { Database } from '../../src/db/database.ts'
import { checkpointPath } from '../../src/import/checkpoint.ts'
import { USERS_COLUMNS } from '../../src/import/csv-formats.ts'
import { importCsv, type ImportOptions } from '../../src/import/import.service.ts'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { killedAtEnd } from '../helpers/children.ts'
import { cliNodeArgs } from '../helpers/cli-command.ts'
import { DATABASES } from '../helpers/databases.ts'
import { cli, cliDatabase, tempDir } from './cli-harness.ts'

// Review M6 (2, 3), M7 and L5: what a hand-edited or foreign CSV file does to an import. A quote
// left open rejects its own line and no more, an oversized row is rejected without being held or
// copied, a file in another encoding is refused whole unless --encoding names it, and a resumed
// import lists each rejected row once.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const HEADER = USERS_COLUMNS.join(',')
const row = (acc: string, name = 'Oy') => `${acc},${name},en,u1,u1@${acc}.example,N1,member,active,`

const importInto = (app: TestApp, opts: ImportOptions) =>
  importCsv({ db: app.services.db, users: app.services.users, contacts: app.services.contacts }, opts)

const count = async (db: Kysely<Database>, table: string) =>
  (await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(db)).rows[0]!.n

const census = async (db: Kysely<Database>) =>
  Object.fromEntries(
    await Promise.all(['accounts', 'users', 'audit_events', 'events'].map(async (t) => [t, await count(db, t)])),
  )

/** The rejects file as line → problem and cells. */
function readRejects(file: string): Map<number, { code: string; detail: string; cells: string[] }> {
  const [header, ...rows] = parse(fs.readFileSync(file), { relax_column_count: true }) as string[][]
  assert.deepEqual(header!.slice(0, 4), ['line', 'code', 'title', 'detail'])
  const map = new Map<number, { code: string; detail: string; cells: string[] }>()
  for (const [line, code, , detail, ...cells] of rows) {
    assert.equal(map.has(Number(line)), false, `line ${line} is listed once`)
    map.set(Number(line), { code: code!, detail: detail!, cells })
  }
  return map
}

for (const kind of DATABASES) {
  test(`[${kind}] a quote left open rejects the line it starts on; the lines it would swallow are read as rows and land`, async (t) => {
    const db = await cliDatabase(t, kind)
    const file = path.join(tempDir(t), 'runaway.csv')
    const lines = [HEADER]
    for (let line = 2; line <= 200; line++) {
      if (line === 2)
        lines.push(row('r2', '"Oy Ab')) // opened here, and closed by the quote of line 50
      else if (line === 50) lines.push(row('r50', '"Puu, Oy"'))
      else if (line === 120)
        lines.push(row('r120', '"Never closed')) // no quote after it: the file ends first
      else lines.push(row(`r${line}`))
    }
    fs.writeFileSync(file, lines.join('\n') + '\n')

    const run = await cli(['import', file], db.env)
    assert.equal(run.code, 3, run.stderr)
    assert.match(run.stdout, /: 199 rows, 197 changed, 0 unchanged, 2 rejected\./)
    assert.match(run.stdout, /2 of the rejected rows cannot be read as CSV \(lines 2, 120\)/)
    const rejects = readRejects(`${file}.rejects.csv`)
    assert.deepEqual(
      [...rejects.keys()],
      [2, 120],
      'each runaway is named by the line it starts on, and nothing else is rejected',
    )
    assert.match(
      rejects.get(2)!.detail,
      /^The row cannot be read as CSV: a quote opened on this line is not closed on it \(it would make one row of lines 2 to 50\); this line is rejected alone/,
    )
    assert.match(rejects.get(120)!.detail, /not closed on it \(the file ends first\)/)
    // the row as it was, its quote a plain character: ready to be fixed and imported again
    assert.deepEqual(rejects.get(2)!.cells, ['r2', '"Oy Ab', 'en', 'u1', 'u1@r2.example', 'N1', 'member', 'active', ''])
    await db.use(async (app) => {
      assert.equal(await count(app.services.db, 'users'), 197)
      const puu = await app.call({ method: 'GET', url: '/v1/accounts/r50' })
      assert.equal(puu.json().name, 'Puu, Oy', 'a quoted cell after the runaway is read as it is')
    })
  })

  test(`[${kind}] a row over the size limit is rejected with its line and not copied; the rest lands`, async (t) => {
    const app = await buildTestApp(t, kind)
    const file = path.join(tempDir(t), 'oversized.csv')
    const big = 'x'.repeat(1024 * 1024)
    const lines = [HEADER]
    for (let line = 2; line <= 40; line++) {
      if (line === 5)
        lines.push(row('o5', `"${big}"`)) // a 1 MB quoted cell on one line
      else if (line === 10)
        lines.push(row('o10', big)) // the same, unquoted
      else if (line === 15)
        lines.push(row('o15', 'y'.repeat(100 * 1024))) // a cell over the field limit, in a row under the record limit
      else if (line === 20)
        lines.push(
          row(
            'o20',
            `"${Array(3)
              .fill('z'.repeat(100 * 1024))
              .join('\n')}"`,
          ),
        ) // a quoted cell over three lines, past the limit
      else lines.push(row(`o${line}`))
    }
    fs.writeFileSync(file, lines.join('\n') + '\n')
    const summary = await importInto(app, { file })
    const rejects = readRejects(`${file}.rejects.csv`)
    assert.ok(
      fs.statSync(`${file}.rejects.csv`).size < 10_000,
      `the rejects file holds no oversized cell (${fs.statSync(`${file}.rejects.csv`).size} bytes)`,
    )
    // line 20 is a runaway (its quote opens a cell that runs past the limit); the two lines after
    // it, the rest of that cell, are then rows of their own, refused for their own oversized cells
    assert.deepEqual([...rejects.keys()], [5, 10, 15, 20, 21, 22])
    for (const line of [5, 10]) {
      assert.match(
        rejects.get(line)!.detail,
        /^The row cannot be read as CSV: the line is longer than 262,144 characters, the most a row may have$/,
      )
      assert.deepEqual(rejects.get(line)!.cells, [])
    }
    assert.match(rejects.get(15)!.detail, /field 2 is longer than 65,536 characters/)
    assert.deepEqual(rejects.get(15)!.cells, [])
    assert.match(rejects.get(20)!.detail, /it would run on for more than 262,144 characters/)
    const ordinary = 40 - 1 - 4
    assert.equal(
      await count(app.services.db, 'users'),
      ordinary,
      'every ordinary row landed, the ones after the oversized rows too',
    )
    assert.equal(summary.changed, ordinary)
    assert.deepEqual([summary.rows, summary.rejected, summary.unreadable], [41, 6, 6])
    for (const line of [20, 21, 22])
      assert.deepEqual(rejects.get(line)!.cells, [], `line ${line}: no cell over the limit is copied`)
  })

  test(`[${kind}] an 80 MB cell is imported in bounded memory (a child process with a 96 MB heap)`, async (t) => {
    const children = killedAtEnd(t)
    const db = await cliDatabase(t, kind)
    const dir = tempDir(t)
    const file = path.join(dir, 'cell80.csv')
    const out = fs.openSync(file, 'w')
    fs.writeSync(out, `${HEADER}\n${row('c2')}\nc3,"`)
    const mb = 'x'.repeat(1024 * 1024)
    for (let i = 0; i < 80; i++) fs.writeSync(out, mb)
    fs.writeSync(out, `",en,u1,u1@c3.example,N1,member,active,\n${row('c4')}\n`)
    fs.closeSync(out)

    // the child opens the database the harness made: PGlite's folder, or PostgreSQL only when that is the kind
    const { DATABASE_URL: _, ...env } = process.env
    const child = spawn(process.execPath, ['--max-old-space-size=96', ...cliNodeArgs(['import', file])], {
      cwd: root,
      env: { ...env, ...db.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.add(child)
    const output: string[] = []
    child.stdout.on('data', (b: Buffer) => output.push(b.toString()))
    child.stderr.on('data', (b: Buffer) => output.push(b.toString()))
    const [code] = (await once(child, 'exit')) as [number | null]
    assert.equal(code, 3, output.join(''))
    assert.match(output.join(''), /: 3 rows, 2 changed, 0 unchanged, 1 rejected\./)
    assert.ok(fs.statSync(`${file}.rejects.csv`).size < 1000, 'the cell is not copied into the rejects file')
    assert.deepEqual([...readRejects(`${file}.rejects.csv`).keys()], [3])
    assert.equal(await db.use((app) => count(app.services.db, 'users')), 2)
  })
}

/** Thrown from the progress hook, right after a checkpoint was written: the process "dies" there. */
class Killed extends Error {}

const cp1252 = (text: string) => Buffer.from(text, 'latin1') // these texts hold only latin-1 letters, which windows-1252 shares

for (const kind of DATABASES) {
  test(`[${kind}] a windows-1252 file is refused whole, naming the line and the encoding; with --encoding windows-1252 it lands with its ä and ö`, async (t) => {
    const db = await cliDatabase(t, kind)
    const dir = tempDir(t)
    const file = path.join(dir, 'excel.csv')
    const rows = [HEADER, 'aiti,Äiti Oy,fi,u1,jyrki@aiti.example,Jyrki Mäkelä,super_admin,active,']
    for (let i = 3; i <= 30; i++) rows.push(row(`plain${i}`))
    rows.push('last,Öljy Oy,fi,u1,u1@last.example,Börje,member,active,') // line 31: after batches that a row-level check would have committed
    fs.writeFileSync(file, cp1252(rows.join('\r\n') + '\r\n'))
    const empty = await db.use((app) => census(app.services.db))

    const refused = await cli(['import', file, '--batch', '1'], db.env)
    assert.equal(refused.code, 1, refused.stdout)
    assert.match(
      refused.stderr,
      /excel\.csv: The file is not UTF-8: line 2 has the byte C4, which UTF-8 cannot have there\./,
    )
    assert.match(refused.stderr, /that line says "aiti,Äiti Oy,fi,u1,jyrki@aiti\.example,Jyrki Mäkelä,super_/)
    assert.match(refused.stderr, /import the file with --encoding windows-1252/)
    assert.match(refused.stderr, /Nothing was imported\./)
    assert.deepEqual(await db.use((app) => census(app.services.db)), empty, 'nothing landed')
    assert.equal(fs.existsSync(checkpointPath(file)), false)

    const landed = await cli(['import', file, '--encoding', 'windows-1252'], db.env)
    assert.equal(landed.code, 0, landed.stderr)
    assert.match(landed.stderr, /Reading excel\.csv as WINDOWS-1252 \(as --encoding says\)\./)
    assert.match(landed.stdout, /: 30 rows, 30 changed, 0 unchanged, 0 rejected\./)
    await db.use(async (app) => {
      assert.equal((await app.call({ method: 'GET', url: '/v1/accounts/aiti' })).json().name, 'Äiti Oy')
      const users = (await app.call({ method: 'GET', url: '/v1/accounts/aiti/users' })).json().data as {
        name: string
      }[]
      assert.deepEqual(
        users.map((u) => u.name),
        ['Jyrki Mäkelä'],
      )
      assert.equal((await app.call({ method: 'GET', url: '/v1/accounts/last' })).json().name, 'Öljy Oy')
    })
    // latin1 names the same decoder (the WHATWG encoding standard reads latin-1 as windows-1252)
    const again = await cli(['import', file, '--encoding', 'latin1'], db.env)
    assert.equal(again.code, 0, again.stderr)
    assert.match(again.stdout, / 0 changed, 30 unchanged/)

    // a UTF-8 file said to be windows-1252: imported as told, with a warning that it is most likely UTF-8
    const utf8 = path.join(dir, 'utf8.csv')
    fs.writeFileSync(utf8, `${HEADER}\nutf,Äiti Oy,fi,u1,u1@utf.example,Jyrki Mäkelä,member,active,\n`)
    const told = await cli(['import', utf8, '--encoding', 'windows-1252', '--dry-run'], db.env)
    assert.equal(told.code, 0, told.stderr)
    assert.match(
      told.stderr,
      /Warning: utf8\.csv is valid UTF-8, with letters outside ASCII; read as windows-1252, each of them becomes two or three \(ä as "Ã¤"\)/,
    )
    assert.doesNotMatch(landed.stderr, /Warning/, 'not for a file that is not UTF-8')

    const unknown = await cli(['import', file, '--encoding', 'klingon'], db.env)
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /--encoding "klingon" is not an encoding this importer knows/)
  })

  test(`[${kind}] a byte-order mark tells UTF-8 and UTF-16 apart, and the output says which was assumed`, async (t) => {
    const db = await cliDatabase(t, kind)
    const dir = tempDir(t)
    const text = [HEADER, 'bom8,Äiti Oy,fi,u1,u1@bom8.example,Jyrki Mäkelä,member,active,'].join('\n') + '\n'
    const utf8 = path.join(dir, 'utf8-bom.csv')
    fs.writeFileSync(utf8, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]))
    const a = await cli(['import', utf8], db.env)
    assert.equal(a.code, 0, a.stderr)
    assert.match(a.stderr, /Reading utf8-bom\.csv as UTF-8 \(it starts with a byte-order mark\)\./)
    assert.match(a.stdout, /1 rows, 1 changed/)
    assert.match(a.stdout, /read as UTF-8 \(byte-order mark\)/)

    const utf16 = path.join(dir, 'utf16-bom.csv')
    fs.writeFileSync(
      utf16,
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text.replaceAll('bom8', 'bom16'), 'utf16le')]),
    )
    const b = await cli(['import', utf16, '--encoding', 'windows-1252'], db.env)
    assert.equal(b.code, 0, b.stderr)
    assert.match(b.stderr, /starts with a utf-16le byte-order mark, which --encoding windows-1252 does not override/)
    assert.match(b.stderr, /Reading utf16-bom\.csv as UTF-16LE \(it starts with a byte-order mark\)\./)

    const plain = path.join(dir, 'plain.csv')
    fs.writeFileSync(plain, text.replaceAll('bom8', 'plain'))
    const c = await cli(['import', plain], db.env)
    assert.equal(c.code, 0, c.stderr)
    assert.match(c.stderr, /Reading plain\.csv as UTF-8 \(the default; --encoding names another\)\./)

    // UTF-16 without a mark would read as UTF-8 with a NUL beside every letter
    const unmarked = path.join(dir, 'utf16-nobom.csv')
    fs.writeFileSync(unmarked, Buffer.from(text.replaceAll('bom8', 'nobom'), 'utf16le'))
    const d = await cli(['import', unmarked], db.env)
    assert.equal(d.code, 1, d.stdout)
    assert.match(d.stderr, /looks like UTF-16LE without a byte-order mark .*--encoding utf-16le/)
    const e = await cli(['import', unmarked, '--encoding', 'utf-16le'], db.env)
    assert.equal(e.code, 0, e.stderr)
    const empty = path.join(dir, 'empty.csv')
    fs.writeFileSync(empty, '')
    const f = await cli(['import', empty], db.env)
    assert.equal(f.code, 1)
    assert.match(f.stderr, /The file is empty: it needs a header line\./)

    await db.use(async (app) => {
      for (const id of ['bom8', 'bom16', 'plain', 'nobom']) {
        const users = (await app.call({ method: 'GET', url: `/v1/accounts/${id}/users` })).json().data as {
          name: string
        }[]
        assert.deepEqual(
          users.map((u) => u.name),
          ['Jyrki Mäkelä'],
          id,
        )
      }
    })
  })
}

for (const kind of DATABASES) {
  test(`[${kind}] an interrupted import resumes only in the encoding it read the file in`, async (t) => {
    const app = await buildTestApp(t, kind)
    const file = path.join(tempDir(t), 'latin.csv')
    const rows = [HEADER]
    for (let i = 2; i <= 20; i++) rows.push(row(`l${i}`, 'Öljy Oy'))
    fs.writeFileSync(file, cp1252(rows.join('\n') + '\n'))
    const stopAfterFirst = {
      update() {
        throw new Killed('stopped')
      },
      finish() {},
    }
    await assert.rejects(
      importInto(app, { file, encoding: 'windows-1252', batchRows: 5, progress: stopAfterFirst }),
      Killed,
    )
    assert.equal(JSON.parse(fs.readFileSync(checkpointPath(file), 'utf8')).encoding, 'windows-1252')
    const notices: string[] = []
    const other = await importInto(app, { file, encoding: 'iso-8859-15', notice: (m) => notices.push(m) })
    assert.ok(
      notices.some((m) =>
        /Ignoring .*latin\.csv\.progress\.json: that import read the file as windows-1252\. Starting from the top\./.test(
          m,
        ),
      ),
      notices.join('\n'),
    )
    assert.equal(other.resumedAfterLine, undefined)
    assert.deepEqual([other.rows, other.changed, other.unchanged], [19, 14, 5])
  })
}

/** Lines of `writeStrayQuotes`' file that csv cannot read (a quote inside an unquoted cell). */
const BAD_LINES = [200, 261, 310]

/** 319 one-row accounts in long rows (several 64 KiB chunks), three with a stray quote. */
function writeStrayQuotes(dir: string): string {
  const file = path.join(dir, 'stray-quotes.csv')
  const pad = 'x'.repeat(190)
  const lines = [HEADER]
  for (let line = 2; line <= 320; line++)
    lines.push(
      `sq${line},${BAD_LINES.includes(line) ? 'O"Brien Oy' : `A ${pad}`},en,u1,u1@sq.example,N ${pad},member,active,`,
    )
  fs.writeFileSync(file, lines.join('\n') + '\n')
  return file
}

for (const kind of DATABASES) {
  // review L5: the resumed run read a rejected row again, listed it twice and counted 160,001 rows
  test(`[${kind}] an import stopped at the checkpoint after each bad row and resumed lists each bad row once and counts the file's rows`, async (t) => {
    const app = await buildTestApp(t, kind)
    const dir = tempDir(t)
    const file = writeStrayQuotes(dir)
    const rejectsFile = `${file}.rejects.csv`
    const listed = () => (fs.existsSync(rejectsFile) ? [...readRejects(rejectsFile).keys()] : [])
    let runs = 0
    let summary: Awaited<ReturnType<typeof importInto>> | undefined
    for (;;) {
      runs++
      const before = listed().length
      let armed = false
      const progress = {
        // called right after each checkpoint: stop at the first one after a new bad row was listed
        update() {
          if (armed)
            throw new Killed(`stopped after line ${JSON.parse(fs.readFileSync(checkpointPath(file), 'utf8')).line}`)
          if (listed().length > before) armed = true
        },
        finish() {},
      }
      try {
        summary = await importInto(app, { file, batchRows: 1, progress })
        break
      } catch (e) {
        if (!(e instanceof Killed)) throw e
      }
      assert.ok(runs <= BAD_LINES.length, 'one stop per bad row')
    }
    assert.equal(runs, BAD_LINES.length + 1)
    assert.deepEqual(listed(), BAD_LINES, 'each bad row listed once')
    assert.equal(summary?.rows, 319, "the file's rows, each counted once")
    assert.deepEqual([summary?.changed, summary?.rejected, summary?.unreadable], [316, 3, 3])
    assert.equal(await count(app.services.db, 'users'), 316)
  })
}
