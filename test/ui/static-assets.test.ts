import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { brotliDecompressSync, gunzipSync } from 'node:zlib'

import { WEB_DIST } from '../../src/ui/ui.routes.ts'
import { buildTestApp } from '../helpers/build-test-app.ts'
import { ensurePageBuilt } from './browser.ts'

// The page's scripts and stylesheets as a browser gets them: compressed the way it accepts (the
// build's own brotli and gzip copies), and kept for a year without asking again (their names
// change with their content). The page itself is never cached.

test('[pglite] the page’s assets are sent compressed and cached as immutable; the page is not cached', async (t) => {
  ensurePageBuilt()
  const app = await buildTestApp(t, 'pglite')
  const assets = fs.readdirSync(path.join(WEB_DIST, 'assets')).filter((f) => /\.(js|css)$/.test(f))
  assert.ok(
    assets.some((f) => f.endsWith('.js')) && assets.some((f) => f.endsWith('.css')),
    'a script and a stylesheet',
  )

  for (const file of assets) {
    const plain = fs.readFileSync(path.join(WEB_DIST, 'assets', file))
    const get = (acceptEncoding: string | undefined) =>
      app.call({
        method: 'GET',
        url: `/ui/assets/${file}`,
        token: null,
        headers: acceptEncoding ? { 'accept-encoding': acceptEncoding } : {},
      })

    const br = await get('gzip, deflate, br')
    assert.equal(br.statusCode, 200)
    assert.equal(br.headers['content-encoding'], 'br', `${file}: brotli when the browser takes it`)
    assert.deepEqual(brotliDecompressSync(br.rawPayload), plain, `${file}: the brotli copy is the file`)
    assert.ok(br.rawPayload.length < plain.length * 0.5, `${file}: brotli is under half the size`)
    assert.match(String(br.headers.vary), /accept-encoding/i, 'caches keep one copy per encoding')

    const gz = await get('gzip')
    assert.equal(gz.headers['content-encoding'], 'gzip', `${file}: gzip when it takes only that`)
    assert.deepEqual(gunzipSync(gz.rawPayload), plain)

    const identity = await get(undefined)
    assert.equal(identity.headers['content-encoding'], undefined, `${file}: as it is when it takes neither`)
    assert.deepEqual(identity.rawPayload, plain)

    for (const res of [br, gz, identity]) {
      const cache = String(res.headers['cache-control'])
      assert.match(cache, /\bmax-age=31536000\b/, `${file}: kept a year (${cache})`)
      assert.match(cache, /\bimmutable\b/, `${file}: not asked for again (${cache})`)
    }
  }

  const page = await app.call({ method: 'GET', url: '/ui/', token: null })
  assert.equal(page.headers['cache-control'], 'no-store', 'the page itself always comes anew')
})
