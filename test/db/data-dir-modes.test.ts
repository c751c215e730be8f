// DATA_DIR and the embedded database are readable by the service's own user only (review finding
// L3): DATA_DIR holds the master key and the demo mail, pgdata every account's data.
import assert from 'node:assert/strict'
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'

import { connectPglite } from '../../src/db/connect.ts'
import { resolveMasterKey } from '../../src/lib/derived-secrets.ts'

const mode = async (p: string) => (await stat(p)).mode & 0o777

async function tempDir(t: { after(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'data-dir-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

test('a DATA_DIR the service creates is owner-only', async (t) => {
  const dataDir = join(await tempDir(t), 'data')
  resolveMasterKey(undefined, dataDir)
  assert.equal(await mode(dataDir), 0o700)
})

test('[pglite] pgdata is owner-only when created, and narrowed when an older release left it open; DATA_DIR keeps its own mode', async (t) => {
  const dataDir = await tempDir(t)
  await chmod(dataDir, 0o750) // the operator's choice, e.g. shared with a backup group
  const first = await connectPglite(dataDir, { purpose: 'data-dir modes test' })
  await first.close()
  assert.equal(await mode(join(dataDir, 'pgdata')), 0o700)

  await chmod(join(dataDir, 'pgdata'), 0o755)
  const again = await connectPglite(dataDir, { purpose: 'data-dir modes test' })
  await again.close()
  assert.equal(await mode(join(dataDir, 'pgdata')), 0o700)
  assert.equal(await mode(dataDir), 0o750)
})
