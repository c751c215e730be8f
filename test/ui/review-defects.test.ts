import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import type { Browser, Page } from 'playwright-core'

import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { getSheet, type MadeAccount, makeAccount } from '../helpers/factories.ts'
import { suiteScope } from '../helpers/suite-scope.ts'
import {
  ensurePageBuilt,
  focused,
  launchChromium,
  openTab,
  section,
  servePage,
  signIn,
  skipReason,
  type Tab,
  tabTo,
  until,
} from './browser.ts'

// Each defect the outside review of the settings page found (its section 10, "What is broken", and
// section 8, "Error paths"), reproduced as the review did it: the page open in Chromium, and the
// change that makes it stale made meanwhile through the API, as another admin or the host product would.

/** WCAG's relative luminance of an `rgb(r, g, b)` colour, and the contrast of two. */
function luminance(rgb: string): number {
  const [r, g, b] = (rgb.match(/\d+(\.\d+)?/g) ?? []).slice(0, 3).map((v) => {
    const c = Number(v) / 255
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
  })
  return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!
}
const contrast = (a: string, b: string) => {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x)
  return (hi! + 0.05) / (lo! + 0.05)
}

describe('[pglite] the settings page review: each defect it found', { skip: skipReason() }, () => {
  const suite = suiteScope()
  let app: TestApp
  let browser: Browser
  let origin: string

  before(async () => {
    ensurePageBuilt()
    app = await buildTestApp(suite.scope, 'pglite')
    origin = await servePage(app)
    browser = await launchChromium()
  })
  after(async () => {
    await browser?.close()
    await suite.close()
  })

  async function open(a: MadeAccount, userKey = 'admin'): Promise<Tab> {
    const tab = await openTab(browser)
    await signIn(app, origin, tab, a.accountId, a.users[userKey]!)
    return tab
  }
  async function api(method: 'PUT' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object) {
    const res = await app.call({ method, url, ...(payload ? { payload } : {}) })
    assert.ok(res.statusCode < 300, `${method} ${url}: ${res.statusCode} ${res.body}`)
  }
  const select = (page: Page, name: string) => page.getByRole('combobox', { name, exact: true })

  test('B2: a billing add refused because the list filled meanwhile keeps its problem on the page', async () => {
    const a = await makeAccount(app, { extraUsers: 4 })
    for (const key of ['u1', 'u2'])
      await api('POST', `/v1/accounts/${a.accountId}/contacts/billing`, { userId: a.users[key] })
    const { page } = await open(a)
    const billing = section(page, 'Billing contacts')
    await billing.getByRole('button', { name: 'Add another' }).click()
    await select(page, 'Billing contact 3').selectOption(a.users.u3!)
    // another admin fills the list meanwhile
    await api('POST', `/v1/accounts/${a.accountId}/contacts/billing`, { userId: a.users.u4 })
    await billing.getByRole('button', { name: 'Save: Billing contact 3' }).click()
    // the row is gone with the full list, its problem is not
    await until('the page shows the full list', async () => (await billing.getByRole('combobox').count()) === 3)
    await billing
      .locator('#billing-error')
      .getByText(/^The platform \(API key\) set Billing contacts to User u1, User u2, User u4 at /)
      .waitFor()
    assert.equal(await select(page, 'Billing contact 3').inputValue(), a.users.u4)
  })

  test('B3: an outside address that is a user’s is shown as that user once saved, with nothing left to save', async () => {
    const a = await makeAccount(app, { extraUsers: 1 })
    const { page } = await open(a)
    const other = section(page, 'Other contacts')
    await other.getByRole('radio', { name: 'an email address' }).check()
    await other
      .getByRole('textbox', { name: 'Email address of the security contact' })
      .fill(`${a.users.u1}@example.com`)
    await other.getByRole('button', { name: /^Save/ }).click()
    await until(
      'the editor shows the user',
      async () => (await other.getByRole('radio', { name: 'a user of the account' }).isChecked()) === true,
    )
    assert.equal(await select(page, 'Security contact').inputValue(), a.users.u1)
    assert.equal(await other.getByRole('button', { name: /^Save/ }).count(), 0, 'nothing is left unsaved')
    assert.equal((await getSheet(app, a.accountId)).sheet.security.userId, a.users.u1)
  })

  test('B4: a held slot cannot be made to look empty: its "Select a user" cannot be chosen', async () => {
    const a = await makeAccount(app, { extraUsers: 1 })
    await api('PUT', `/v1/accounts/${a.accountId}/contacts/primary`, { userId: a.users.u1 })
    const { page } = await open(a)
    const primary = select(page, 'Primary account contact')
    await until('the primary contact shows', async () => (await primary.inputValue()) === a.users.u1)
    // the keyboard walks a closed select's options in Chromium: to the top, which is the placeholder
    await primary.focus()
    for (let i = 0; i < 8; i++) await page.keyboard.press('ArrowUp')
    await page.keyboard.press('Home')
    assert.notEqual(await primary.inputValue(), '', 'the select never shows the held slot as empty')
    // and a slot nobody holds still starts from it
    assert.equal(await select(page, 'Decision maker').inputValue(), '')
  })

  test('B8: a user deactivated meanwhile is no longer offered once a save meets the change', async () => {
    const a = await makeAccount(app, { extraUsers: 2 })
    const { page } = await open(a)
    const technical = select(page, 'Technical administrator')
    const offered = async () => (await technical.locator(`option[value="${a.users.u1}"]`).count()) === 1
    assert.ok(await offered())
    await api('PATCH', `/v1/accounts/${a.accountId}/users/${a.users.u1}`, { status: 'deactivated' })
    await technical.selectOption(a.users.u1!)
    await section(page, 'Other contacts').getByRole('button', { name: 'Save: Technical administrator' }).click()
    await until('the deactivated user is gone from the list', async () => !(await offered()))
    assert.equal((await getSheet(app, a.accountId)).sheet.technicalAdmin, null)
  })

  test('B6: focus stays on the page after Remove of an outside address, Cancel, and the last "Load more"', async () => {
    const a = await makeAccount(app, { extraUsers: 2 })
    await api('PUT', `/v1/accounts/${a.accountId}/contacts/security`, { email: 'sec@outside.example' })
    await api('PUT', `/v1/accounts/${a.accountId}/contacts/primary`, { userId: a.users.u1 })
    // enough history for a second page (pages of 20)
    for (let i = 0; i < 10; i++) {
      await api('PUT', `/v1/accounts/${a.accountId}/contacts/onboarding`, { userId: a.users.u2 })
      await api('DELETE', `/v1/accounts/${a.accountId}/contacts/onboarding`)
    }
    const { page } = await open(a)

    await page.getByRole('button', { name: 'Remove: Security contact' }).focus()
    await page.keyboard.press('Enter')
    await until('the address is removed', async () => (await page.locator('.current-email').count()) === 0)
    await until('focus is on the security contact’s select', async () => (await focused(page)).id === 'security')

    const primary = select(page, 'Primary account contact')
    await primary.selectOption(a.users.u2!)
    await page.getByRole('button', { name: 'Cancel: Primary account contact' }).focus()
    await page.keyboard.press('Enter')
    await until('focus is back on the select', async () => (await focused(page)).id === 'primary')
    assert.equal(await primary.inputValue(), a.users.u1)

    const history = section(page, 'History')
    await until('the first page is shown', async () => (await history.locator('tbody tr').count()) === 20)
    await history.getByRole('button', { name: 'Load more' }).focus()
    await page.keyboard.press('Enter')
    await until('focus is on the first row the last page brought', async () =>
      (await focused(page)).id.startsWith('history-'),
    )
    assert.equal(await history.getByRole('button', { name: 'Load more' }).count(), 0)
    const index = await page.evaluate<number>(`[...document.querySelectorAll('#main tbody tr')]
      .filter((r) => r.id.startsWith('history-')).indexOf(document.activeElement)`)
    assert.equal(index, 20, 'the 21st row, the first of the second page')
  })

  test('B6: the focus ring on the dark top bar has at least 3:1 contrast, and the security select says what it is', async () => {
    const a = await makeAccount(app, { extraUsers: 1 })
    const { page } = await open(a)
    await page.locator('body').focus()
    await tabTo(page, 'English')
    const ring = await page.evaluate<{ outline: string; bar: string }>(`({
      outline: getComputedStyle(document.activeElement).outlineColor,
      bar: getComputedStyle(document.querySelector('.topbar')).backgroundColor,
    })`)
    const ratio = contrast(ring.outline, ring.bar)
    assert.ok(ratio >= 3, `the ring ${ring.outline} on ${ring.bar} is ${ratio.toFixed(2)}:1`)

    // a user as security contact: its buttons name the slot, not "Select a user"
    await select(page, 'Security contact').selectOption(a.users.u1!)
    await page.getByRole('button', { name: 'Save: Security contact' }).waitFor()
    await page.getByRole('button', { name: 'Cancel: Security contact' }).waitFor()
  })

  test('a pending outside address says when its link was sent and until when it works', async () => {
    const a = await makeAccount(app)
    await api('PUT', `/v1/accounts/${a.accountId}/contacts/security`, { email: 'soc@outside.example' })
    const link = (
      await app.call({ method: 'GET', url: `/v1/accounts/${a.accountId}/contacts/security/verification` })
    ).json()
    // as the page writes times (the tab is in UTC, en-GB)
    const when = (iso: string) =>
      new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(
        new Date(iso),
      )
    const { page } = await open(a)
    await page
      .locator('#security-link')
      .getByText(`The link was sent ${when(link.sentAt)} and works until ${when(link.expiresAt)}.`, { exact: true })
      .waitFor()
  })

  test('the sheet is read again when the tab comes back, so a change made elsewhere shows and saves without a conflict', async () => {
    const a = await makeAccount(app, { extraUsers: 2 })
    const tab = await open(a)
    const { page } = tab
    // the admin goes to another tab; meanwhile the host product sets the primary contact
    const other = await tab.context.newPage()
    await other.bringToFront()
    await api('PUT', `/v1/accounts/${a.accountId}/contacts/primary`, { userId: a.users.u1 })
    await page.bringToFront()
    // Chromium without a window manager does not tell the page it is back; a real one does
    await page.evaluate(`window.dispatchEvent(new Event('focus'))`)
    await until(
      'the page shows the change',
      async () => (await select(page, 'Primary account contact').inputValue()) === a.users.u1,
    )
    await select(page, 'Decision maker').selectOption(a.users.u2!)
    await section(page, 'Other contacts').getByRole('button', { name: 'Save: Decision maker' }).click()
    await section(page, 'Other contacts').getByRole('status').filter({ hasText: 'Saved' }).first().waitFor()
    assert.equal((await getSheet(app, a.accountId)).sheet.decisionMaker.userId, a.users.u2)
  })
})
