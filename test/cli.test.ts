import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'

import { createApiKeyService } from '../src/auth/api-keys/api-keys.service.ts'
import { connectPglite } from '../src/db/connect.ts'
import { systemClock } from '../src/lib/clock.ts'
import { cli } from './cli/cli-harness.ts'

// The CLI through `runCli`, on an embedded PGlite database in a temporary DATA_DIR (no
// DATABASE_URL is passed, whatever the environment of the test run says).

const tempDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'account-contacts-cli-'))

/** The key's id when the raw key authenticates against the data dir's database, else undefined. */
async function authenticate(dataDir: string, key: string): Promise<string | undefined> {
  const handle = await connectPglite(dataDir, { purpose: 'cli.test' })
  try {
    return await createApiKeyService({ db: handle.db, clock: systemClock }).authenticate(key)
  } finally {
    await handle.close()
  }
}

/** A real process that idles until killed: a live holder of the data dir lock. */
async function idleProcess(): Promise<ChildProcess & { pid: number }> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
  await once(child, 'spawn')
  assert.ok(child.pid)
  return child as ChildProcess & { pid: number }
}

const writeLock = (dataDir: string, pid: number) => {
  const content = JSON.stringify({ pid, purpose: 'account-contacts serve', since: '2026-01-02T03:04:05.000Z' })
  fs.writeFileSync(path.join(dataDir, 'pgdata.lock'), content)
  return content
}

describe('CLI (runCli) on an embedded database in DATA_DIR', () => {
  const dirs: string[] = []
  const newDir = () => {
    const d = tempDir()
    dirs.push(d)
    return d
  }
  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true })
  })

  describe('keys', () => {
    // These run in order on one data dir: create, then list, then revoke.
    let dir: string
    let key: string
    let keyId: string
    before(() => {
      dir = newDir()
    })

    test('keys create --name ci prints the key alone on the last line, and the key works', async () => {
      const res = await cli(['keys', 'create', '--name', 'ci'], { DATA_DIR: dir })
      assert.equal(res.code, 0, res.stderr)
      const lines = res.stdout.trimEnd().split('\n')
      key = lines[lines.length - 1]!
      assert.match(key, /^acpk_[A-Za-z0-9_-]+$/)
      assert.equal(res.stdout.split(key).length, 2, 'the key is printed once')
      const id = await authenticate(dir, key)
      assert.ok(id, 'the printed key authenticates')
      keyId = id
      assert.ok(res.stdout.includes(keyId), 'the id is printed too')
      assert.equal(fs.existsSync(path.join(dir, 'pgdata.lock')), false, 'the lock is released')
    })

    test('keys list shows the key, by id, prefix and name, without the secret', async () => {
      const res = await cli(['keys', 'list'], { DATA_DIR: dir })
      assert.equal(res.code, 0, res.stderr)
      const line = res.stdout.split('\n').find((l) => l.startsWith(keyId))
      assert.ok(line, `no line for ${keyId} in:\n${res.stdout}`)
      assert.ok(line.includes('ci'))
      assert.ok(line.includes(key.slice(0, 11)), 'shows the prefix')
      assert.match(line, /active/)
      assert.ok(!res.stdout.includes(key), 'never shows the key again')
    })

    test('keys revoke <id> revokes it', async () => {
      const res = await cli(['keys', 'revoke', keyId], { DATA_DIR: dir })
      assert.equal(res.code, 0, res.stderr)
      assert.ok(res.stdout.includes(`Revoked ${keyId}`), res.stdout)
      assert.equal(await authenticate(dir, key), undefined, 'a revoked key no longer authenticates')
      const list = await cli(['keys', 'list'], { DATA_DIR: dir })
      assert.match(list.stdout.split('\n').find((l) => l.startsWith(keyId)) ?? '', /revoked/)

      const again = await cli(['keys', 'revoke', keyId], { DATA_DIR: dir })
      assert.equal(again.code, 1)
      assert.match(again.stderr, /No active key/)
    })
  })

  test('migrate brings the schema up to date, and is idempotent', async () => {
    const dir = newDir()
    for (let i = 0; i < 2; i++) {
      const res = await cli(['migrate'], { DATA_DIR: dir })
      assert.equal(res.code, 0, res.stderr)
      assert.match(res.stdout, /up to date/)
    }
    assert.ok(fs.existsSync(path.join(dir, 'pgdata')))
  })

  test('MIGRATE_ON_START=false: a command refuses a schema that is behind, names the migrations, and runs once `migrate` has', async () => {
    const dir = newDir()
    const env = { DATA_DIR: dir, MIGRATE_ON_START: 'false' }
    const behind = await cli(['keys', 'list'], env)
    assert.equal(behind.code, 1, behind.stdout)
    assert.match(behind.stderr, /schema is behind this version: \d+ migration\(s\) not run \(2026-/)
    assert.match(behind.stderr, /account-contacts migrate/)
    assert.equal((await cli(['migrate'], env)).code, 0, 'migrate migrates whatever MIGRATE_ON_START says')
    const current = await cli(['keys', 'list'], env)
    assert.equal(current.code, 0, current.stderr)
  })

  test('an invalid setting stops at once with a message naming the variable', async () => {
    const dir = newDir()
    const cases: [string[], Record<string, string>, string][] = [
      [['migrate'], { DATA_DIR: dir, PORT: 'abc' }, 'PORT'],
      [['migrate'], { DATA_DIR: dir, PORT: '70000' }, 'PORT'],
      [['keys', 'list'], { DATA_DIR: dir, REVIEW_INTERVAL_DAYS: 'x' }, 'REVIEW_INTERVAL_DAYS'],
      [['migrate', '--port', 'abc'], { DATA_DIR: dir }, 'PORT'],
    ]
    for (const [argv, env, variable] of cases) {
      const res = await cli(argv, env)
      assert.equal(res.code, 1, `${JSON.stringify(env)}: ${res.stderr}`)
      assert.ok(res.stderr.includes(variable), `"${res.stderr}" does not name ${variable}`)
      assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace')
    }
    assert.deepEqual(fs.readdirSync(dir), [], 'nothing was opened')
  })

  test('usage errors answer 1 with a message', async () => {
    const dir = newDir()
    const unknown = await cli(['frobnicate'], { DATA_DIR: dir })
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /Unknown command "frobnicate"/)
    const noName = await cli(['keys', 'create'], { DATA_DIR: dir })
    assert.equal(noName.code, 1)
    assert.match(noName.stderr, /--name/)
  })

  test('a data dir held by another live process: exit 1, "in use", and how to go on', async (t) => {
    const dir = newDir()
    assert.equal((await cli(['migrate'], { DATA_DIR: dir })).code, 0)
    const holder = await idleProcess()
    t.after(() => holder.kill())
    const lock = writeLock(dir, holder.pid)

    const res = await cli(['keys', 'list'], { DATA_DIR: dir })
    assert.equal(res.code, 1, res.stdout)
    assert.match(res.stderr, /embedded database .* is in use/)
    assert.ok(res.stderr.includes(`pid ${holder.pid}`), res.stderr)
    assert.ok(res.stderr.includes('account-contacts serve'), res.stderr)
    assert.ok(res.stderr.includes(`kill ${holder.pid}`), 'says how to go on')
    assert.ok(res.stderr.includes('DATABASE_URL'), 'names the PostgreSQL way out')
    assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace')
    assert.equal(fs.readFileSync(path.join(dir, 'pgdata.lock'), 'utf8'), lock, 'the holder keeps its lock')

    const migrate = await cli(['migrate'], { DATA_DIR: dir })
    assert.equal(migrate.code, 1)
    assert.match(migrate.stderr, /in use/)
  })

  test('a lock left by a dead process is taken over', async () => {
    const dir = newDir()
    assert.equal((await cli(['migrate'], { DATA_DIR: dir })).code, 0)
    const gone = await idleProcess()
    gone.kill('SIGKILL')
    await once(gone, 'exit')
    writeLock(dir, gone.pid)

    const res = await cli(['keys', 'create', '--name', 'after-crash'], { DATA_DIR: dir })
    assert.equal(res.code, 0, res.stderr)
    assert.match(res.stdout.trimEnd().split('\n').at(-1)!, /^acpk_/)
    assert.equal(fs.existsSync(path.join(dir, 'pgdata.lock')), false, 'the lock is released at the end')
  })
})
