import assert from 'node:assert/strict'
import { test } from 'node:test'

import { getBroadcast, seedAccountsWithPrimary, startBroadcast } from '../helpers/broadcast-fixtures.ts'
import { DATABASES } from '../helpers/databases.ts'
import { cli, cliDatabase, listeningApp, tempDir } from './cli-harness.ts'

for (const kind of DATABASES) {
  test(`[${kind}] broadcast cancel ID stops a running broadcast; again, it says it was cancelled already`, async (t) => {
    const db = await cliDatabase(t, kind)
    const id = await db.use(async (app) => {
      await seedAccountsWithPrimary(app.handle.db, 'cl', 5)
      const b = await startBroadcast(app, { subject: 'From the CLI' })
      await app.services.broadcasts.processBatch(2)
      return b.id
    })
    const first = await cli(['broadcast', 'cancel', id], db.env)
    assert.equal(first.code, 0, first.stderr)
    assert.equal(
      first.stdout,
      `Cancelled broadcast ${id}: 2 of 5 account(s) fanned out, 2 mail(s) not sent (mail already being sent still goes out).\n`,
    )
    const state = await db.use((app) => getBroadcast(app, id))
    assert.equal(state.status, 'cancelled')

    const again = await cli(['broadcast', 'cancel', id], db.env)
    assert.equal(again.code, 0, again.stderr)
    assert.match(
      again.stdout,
      new RegExp(
        `^Broadcast ${id} was cancelled already \\(${state.cancelledAt!.replaceAll('.', '\\.')}\\): 2 of 5 account\\(s\\) fanned out, 2 mail\\(s\\) not sent\\.\\n$`,
      ),
    )

    const unknown = await cli(['broadcast', 'cancel', 'bc_nosuch'], db.env)
    assert.equal(unknown.code, 1)
    assert.match(unknown.stderr, /No broadcast "bc_nosuch"/)
    const missing = await cli(['broadcast', 'cancel'], db.env)
    assert.equal(missing.code, 1)
    assert.match(missing.stderr, /broadcast cancel needs the broadcast id/)
  })

  test(`[${kind}] broadcast cancel ID through a server (--url/--api-key)`, async (t) => {
    const { app, flags } = await listeningApp(t, kind)
    await seedAccountsWithPrimary(app.handle.db, 'cr', 3)
    const b = await startBroadcast(app, { subject: 'Remote cancel' })
    const res = await cli(['broadcast', 'cancel', b.id, ...flags], { DATA_DIR: tempDir(t) })
    assert.equal(res.code, 0, res.stderr)
    assert.equal(
      res.stdout,
      `Cancelled broadcast ${b.id}: 0 of 3 account(s) fanned out, 0 mail(s) not sent (mail already being sent still goes out).\n`,
    )
    assert.equal((await getBroadcast(app, b.id)).status, 'cancelled')
    assert.equal(await app.services.broadcasts.processBatch(), false, 'nothing is fanned out after the cancel')

    const gone = await cli(['broadcast', 'cancel', 'bc_nosuch', ...flags], { DATA_DIR: tempDir(t) })
    assert.equal(gone.code, 1)
    assert.match(gone.stderr, /answered 404 not-found/)
  })
}
