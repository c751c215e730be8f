import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'

import { createSecretDeriver } from '../../src/lib/derived-secrets.ts'
import { buildTestApp, TEST_SECRET_KEY } from '../helpers/build-test-app.ts'
import { getSheet, makeAccount } from '../helpers/factories.ts'
import { assertAccessible, launchChromium, openTab, skipReason } from './browser.ts'

// The verification link's page in a real Chromium, as the person who got the mail sees it: on a
// 320-pixel screen, with the keyboard only, under the service's Content-Security-Policy.

test(
  '[pglite] the verification page: 320 px wide, confirmed by keyboard, no CSP violation',
  { skip: skipReason(), timeout: 120_000 },
  async (t) => {
    const app = await buildTestApp(t, 'pglite')
    await app.app.listen({ port: 0, host: '127.0.0.1' })
    const origin = `http://127.0.0.1:${(app.app.server.address() as AddressInfo).port}`
    const { accountId } = await makeAccount(app, { locale: 'fi' })
    assert.equal(
      (
        await app.call({
          method: 'PUT',
          url: `/v1/accounts/${accountId}/contacts/security`,
          payload: { email: 'a.very.long.security.address.of.someone@outside.example' },
        })
      ).statusCode,
      200,
    )
    const v = await app.handle.db
      .selectFrom('email_verifications')
      .select('id')
      .where('account_id', '=', accountId)
      .executeTakeFirstOrThrow()
    const token = createSecretDeriver(TEST_SECRET_KEY).verificationToken(accountId, v.id)

    const browser = await launchChromium()
    t.after(() => browser.close())
    const tab = await openTab(browser)
    await tab.page.setViewportSize({ width: 320, height: 640 })
    await tab.page.goto(`${origin}/v1/verify-email?token=${encodeURIComponent(token)}`)
    await tab.page.getByRole('button', { name: 'Vahvista' }).waitFor()
    const overflow = (await tab.page.evaluate(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    )) as number
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px at 320 px`)
    await assertAccessible(tab.page, 'the verification page')
    assert.equal(
      (await getSheet(app, accountId)).sheet.security.verification,
      'pending',
      'the page alone verified nothing',
    )

    // keyboard only: Tab reaches the button, Enter presses it
    await tab.page.keyboard.press('Tab')
    assert.equal(await tab.page.evaluate('document.activeElement?.textContent'), 'Vahvista')
    await Promise.all([tab.page.waitForURL(`${origin}/v1/verify-email`), tab.page.keyboard.press('Enter')])
    await tab.page.getByText(/on nyt tilin .* vahvistettu turvallisuusyhteyshenkilö/).waitFor()
    assert.equal((await getSheet(app, accountId)).sheet.security.verification, 'verified')
    assert.deepEqual(tab.errors, [], 'no console error (a CSP violation would be one)')
  },
)
