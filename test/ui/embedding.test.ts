import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'

import type { Browser } from 'playwright-core'

// the example a host product starts from is what is tested here
// @ts-expect-error: an example in plain JavaScript, without types
import { hostPage } from '../../examples/embedding/host.mjs'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { getSheet, makeAccount } from '../helpers/factories.ts'
import { suiteScope } from '../helpers/suite-scope.ts'
import { ensurePageBuilt, launchChromium, servePage, skipReason, until } from './browser.ts'

// The settings page inside a host product's page from another site (docs/EMBEDDING.md): allowed
// for the origins in UI_FRAME_ANCESTORS, with the operator's theme, its height told to the host,
// and its cookies working there; refused for any other origin.

/** Two host sites, both this machine: names of their own, so that the frame is cross-site. */
const HOST = 'host.example'
const OTHER = 'other.example'

/** A host product's server: it answers its page, whose frame shows `frameSrc()`. */
async function startHost(frameSrc: () => Promise<string>, serviceOrigin: () => string) {
  const server = http.createServer((_req, res) => {
    frameSrc().then(
      (src) => {
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        res.end(hostPage({ frameSrc: src, serviceOrigin: serviceOrigin() }))
      },
      (e: unknown) => res.writeHead(500).end(String(e)),
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as AddressInfo).port }
}

describe('[pglite] the settings page in a host product’s frame', { skip: skipReason() }, () => {
  const suite = suiteScope()
  let app: TestApp
  let browser: Browser
  let origin: string
  let allowed: Awaited<ReturnType<typeof startHost>>
  let unlisted: Awaited<ReturnType<typeof startHost>>
  let account: Awaited<ReturnType<typeof makeAccount>>

  /** A sign-in URL of the account's admin, pointed at the listening service. */
  const signInUrl = async () => {
    const res = await app.call({
      method: 'POST',
      url: `/v1/accounts/${account.accountId}/sessions`,
      payload: { userId: account.users.admin },
    })
    const url = new URL(res.json().url as string)
    return `${origin}${url.pathname}${url.hash}`
  }

  before(async () => {
    ensurePageBuilt()
    // the hosts first: the app's CSP names the listed one's port; they read the service's address when asked
    allowed = await startHost(signInUrl, () => origin)
    unlisted = await startHost(signInUrl, () => origin)
    app = await buildTestApp(suite.scope, 'pglite', {
      config: {
        embedding: {
          frameAncestors: [`http://${HOST}:${allowed.port}`],
          theme: { accent: '#6a1b9a', topbar: '#2d1b4e', radius: '2px' },
        },
      },
    })
    origin = await servePage(app)
    account = await makeAccount(app, { extraUsers: 1 })
    browser = await launchChromium([`--host-resolver-rules=MAP ${HOST} 127.0.0.1, MAP ${OTHER} 127.0.0.1`])
  })
  after(async () => {
    await browser?.close()
    allowed?.server.close()
    unlisted?.server.close()
    await suite.close()
  })

  test('from a listed origin: themed, sized by its height, signed in, and a contact changed inside it', async () => {
    const context = await browser.newContext({ viewport: { width: 1024, height: 800 } })
    const page = await context.newPage()
    const errors: string[] = []
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
    await page.goto(`http://${HOST}:${allowed.port}/`)
    const frame = page.frameLocator('#account-contacts')
    const primary = frame.getByRole('combobox', { name: 'Primary account contact', exact: true })
    await primary.waitFor()

    // the theme's properties are the page's
    const inFrame = page.frames().find((f) => f.url().startsWith(origin))!
    const look = await inFrame.evaluate<{ accent: string; bar: string }>(`({
      accent: getComputedStyle(document.documentElement).getPropertyValue('--accent').trim(),
      bar: getComputedStyle(document.querySelector('.topbar')).backgroundColor,
    })`)
    assert.deepEqual(look, { accent: '#6a1b9a', bar: 'rgb(45, 27, 78)' })

    // the host was told the page's height, and sized the frame to it
    await until('the host has the height', async () => (await page.evaluate<number>('window.frameHeights.length')) > 0)
    const { told, frameHeight } = await page.evaluate<{ told: number; frameHeight: number }>(`({
      told: window.frameHeights.at(-1),
      frameHeight: document.getElementById('account-contacts').getBoundingClientRect().height,
    })`)
    assert.ok(told > 800, `the page is taller than the window: ${told}`)
    assert.equal(Math.round(frameHeight), told)

    // the session's cookies work in the frame: a change is saved (its write carries the CSRF cookie)
    await primary.selectOption(account.users.u1!)
    await frame.getByRole('button', { name: 'Save: Primary account contact' }).click()
    await until(
      'the change is stored',
      async () => (await getSheet(app, account.accountId)).sheet.primary?.userId === account.users.u1,
    )
    const cookies = await context.cookies(origin)
    const session = cookies.find((c) => c.name === 'ac_session')
    assert.ok(session, `the session cookie is set: ${cookies.map((c) => c.name).join(', ')}`)
    assert.equal(session.sameSite, 'None')
    assert.equal(session.secure, true)
    assert.deepEqual(errors, [], 'console errors in the host page')
    await context.close()
  })

  test('from an origin not on the list: the browser refuses to show it, and the host is told nothing', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    const refused: string[] = []
    page.on('console', (m) => /frame-ancestors/.test(m.text()) && refused.push(m.text()))
    await page.goto(`http://${OTHER}:${unlisted.port}/`)
    await until('the browser says why it refused', async () => refused.length > 0)
    const frame = page.frames().find((f) => f !== page.mainFrame())
    assert.ok(frame)
    assert.equal(await frame.locator('#root').count(), 0, 'the page did not load in the frame')
    assert.equal(await page.evaluate<number>('window.frameHeights.length'), 0)
    await context.close()
  })
})
