import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, test } from 'node:test'

import { newSecret } from '../../src/lib/ids.ts'
import { killedAtEnd } from '../helpers/children.ts'
import { cliNodeArgs } from '../helpers/cli-command.ts'
import { DATABASES, freshDatabase } from '../helpers/databases.ts'
import { freePort, startService } from '../helpers/service-process.ts'
import { cli } from './cli-harness.ts'

// L1 of the security review: a revoked BOOTSTRAP_API_KEY came back at the next start. Now `serve`
// refuses to start, saying what to do, and the key stays revoked. Real `serve` processes.

for (const kind of DATABASES) {
  describe(`BOOTSTRAP_API_KEY after revocation (${kind})`, () => {
    test(
      `serve refuses to start with a revoked BOOTSTRAP_API_KEY and leaves it revoked (${kind})`,
      { timeout: 120_000 },
      async (t) => {
        const children = killedAtEnd(t)
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'account-contacts-bootstrap-'))
        t.after(() => fs.rmSync(dataDir, { recursive: true, force: true }))
        const handle = kind === 'postgres' ? await freshDatabase('postgres') : undefined
        if (handle) t.after(() => handle.close())
        const key = `boot-${newSecret(24)}`
        const env: Record<string, string> = {
          DATA_DIR: dataDir,
          BOOTSTRAP_API_KEY: key,
          LOG_LEVEL: 'silent',
          ...(handle ? { DATABASE_URL: handle.url!, SECRET_KEY: `bootstrap-test-${newSecret(24)}` } : {}),
        }
        const first = await startService(children, env)
        const ok = await fetch(`${first.url}/v1/accounts`, { headers: { authorization: `Bearer ${key}` } })
        assert.equal(ok.status, 200, 'the bootstrap key works after the first start')
        assert.equal(await first.stop(), 0)

        const revoked = await cli(['keys', 'revoke', key.slice(0, 11)], env)
        assert.equal(revoked.code, 0, revoked.stderr)

        // the same environment again: the process must exit by itself, non-zero, and say why
        const port = await freePort()
        const base: Record<string, string | undefined> = { ...process.env }
        delete base.DATABASE_URL
        delete base.NODE_TEST_CONTEXT
        const child = spawn(process.execPath, cliNodeArgs(['serve']), {
          env: { ...base, HOST: '127.0.0.1', PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, ...env },
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        children.add(child)
        let output = ''
        child.stdout!.on('data', (b: Buffer) => (output += b.toString()))
        child.stderr!.on('data', (b: Buffer) => (output += b.toString()))
        const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
        const [code] = (await once(child, 'exit')) as [number | null]
        clearTimeout(timer)
        assert.notEqual(code, 0, `serve started with a revoked bootstrap key:\n${output.slice(-2000)}`)
        assert.equal(code, 1, output.slice(-2000))
        assert.match(output, /BOOTSTRAP_API_KEY is a revoked API key/)
        assert.match(output, /Remove BOOTSTRAP_API_KEY .*or rotate it/)

        const list = await cli(['keys', 'list'], env)
        assert.equal(list.code, 0, list.stderr)
        const line = list.stdout.split('\n').find((l) => l.includes('bootstrap')) ?? ''
        assert.match(line, /revoked/, `the bootstrap key is still revoked: ${list.stdout}`)
      },
    )
  })
}
