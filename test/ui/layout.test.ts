import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'

import type { Browser } from 'playwright-core'

import { ACCOUNT_HEADER } from '../../src/delivery/transports/transport.ts'
import { DEMO_ACCOUNT_ID, DEMO_ADMIN_ID, seedDemo } from '../../src/demo/demo.seed.ts'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { suiteScope } from '../helpers/suite-scope.ts'
import {
  assertAccessible,
  assertNoOverflow,
  ensurePageBuilt,
  launchChromium,
  openTab,
  screenshot,
  section,
  servePage,
  signIn,
  skipReason,
} from './browser.ts'

// The settings page fits every window from a phone's to a desktop's (WCAG 1.4.10, reflow): the
// demo account's full page, its mailbox and history included, at the widths people use, in each
// language, without scrolling sideways. The screenshots are the README's.

/** A phone, a larger phone, a tablet upright, a laptop. */
const WIDTHS = [320, 390, 768, 1280] as const
const LOCALES = ['en', 'fi'] as const

/**
 * A mail to the demo's outside security contact as the eml transport names and writes it: the
 * long address and the file name are what once widened the mailbox's table past a tablet's width.
 */
const securityMail = [
  'From: account-contacts <no-reply@example.com>',
  'To: tietoturva@kyberkumppani.fi',
  'Subject: Vahvista sähköpostiosoitteesi tilin Pohjolan Puu Oy turvallisuusyhteyshenkilönä',
  'Date: Fri, 27 Nov 2026 09:00:00 +0000',
  'Message-ID: <ntf_0123456789abcdef@127.0.0.1>',
  `${ACCOUNT_HEADER}: ${DEMO_ACCOUNT_ID}`,
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Vahvista osoitteesi.',
  '',
].join('\r\n')

describe('[pglite] the settings page at every width', { skip: skipReason() }, () => {
  const suite = suiteScope()
  let app: TestApp
  let browser: Browser
  let origin: string
  const mailDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-layout-mail-'))

  before(async () => {
    ensurePageBuilt()
    app = await buildTestApp(suite.scope, 'pglite', { config: { mailDir } })
    assert.ok(await seedDemo(app.services))
    fs.writeFileSync(
      path.join(mailDir, '2026-11-27T09-00-00.000Z_ntf_0123456789abcdef0123456789@127.0.0.1.eml'),
      securityMail,
    )
    origin = await servePage(app)
    browser = await launchChromium()
  })
  after(async () => {
    await browser?.close()
    await suite.close()
    fs.rmSync(mailDir, { recursive: true, force: true })
  })

  for (const locale of LOCALES) {
    test(`in ${locale}: nothing scrolls sideways at ${WIDTHS.join(', ')} px`, async () => {
      const patch = await app.call({ method: 'PATCH', url: `/v1/accounts/${DEMO_ACCOUNT_ID}`, payload: { locale } })
      assert.equal(patch.statusCode, 200, patch.body)
      const tab = await openTab(browser)
      try {
        await signIn(app, origin, tab, DEMO_ACCOUNT_ID, DEMO_ADMIN_ID)
        const { page } = tab
        assert.equal(await page.getAttribute('html', 'lang'), locale)
        // every section filled: the mailbox's row and the history's are the widest content
        await page.getByText('tietoturva@kyberkumppani.fi', { exact: true }).first().waitFor()
        await page.locator('table.mail tbody tr').first().waitFor()
        await page.locator('.history tbody tr').first().waitFor()
        for (const width of WIDTHS) {
          await page.setViewportSize({ width, height: 900 })
          await assertNoOverflow(page, `${locale} at ${width} px`)
          // the cards themselves fit too, not only the document: none is cut by the one around it
          const cut = await page.evaluate<string[]>(`[...document.querySelectorAll('.card')]
            .filter((c) => c.scrollWidth > c.clientWidth + 1)
            .map((c) => c.id)`)
          assert.deepEqual(cut, [], `${locale} at ${width} px: cards wider than their box`)
          // the top of the page, the contacts: the whole is checked above, the README shows this much
          await screenshot(page, `settings-${locale}-${width}.jpg`, { height: 1600 })
        }
        await page.setViewportSize({ width: 320, height: 900 })
        await assertAccessible(page, `the ${locale} page at 320 px`)
        await section(page, locale === 'fi' ? 'Muutoshistoria' : 'History').waitFor()
        assert.deepEqual(tab.errors, [], 'console errors on the page')
      } finally {
        await tab.context.close()
      }
    })
  }
})
