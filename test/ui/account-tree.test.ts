import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'

import type { Browser, Page } from 'playwright-core'

import { buildTestApp, type TestApp } from '../helpers/build-test-app.ts'
import { getSheet, type MadeAccount, makeAccount } from '../helpers/factories.ts'
import { suiteScope } from '../helpers/suite-scope.ts'
import {
  assertAccessible,
  assertNoOverflow,
  ensurePageBuilt,
  focused,
  launchChromium,
  openTab,
  section,
  servePage,
  signIn,
  skipReason,
  type Tab,
  until,
} from './browser.ts'

// Parent and child accounts on the settings page (issue 16), in a real Chromium against the real
// app: what a child inherits and from whom, each slot's rule, and a parent's admins switching to
// the accounts below theirs. State is set through the API with the platform key.

const RESULTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../test-results')

async function rename(app: TestApp, a: MadeAccount, name: string, people: Record<string, string> = {}) {
  const res = await app.call({ method: 'PATCH', url: `/v1/accounts/${a.accountId}`, payload: { name } })
  assert.equal(res.statusCode, 200, res.body)
  for (const [key, person] of Object.entries(people)) {
    const u = await app.call({
      method: 'PATCH',
      url: `/v1/accounts/${a.accountId}/users/${a.users[key]}`,
      payload: { name: person },
    })
    assert.equal(u.statusCode, 200, u.body)
  }
}

describe('[pglite] parent and child accounts on the settings page', { skip: skipReason() }, () => {
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

  /**
   * Pohjola Group, whose billing contact is Aino Virtanen, and under it Pohjolan Puu Oy, which has
   * no billing contact of its own (so, by the default `inherit` rule, Aino receives its invoices).
   */
  async function group(locale: 'en' | 'fi' = 'en') {
    const parent = await makeAccount(app, { locale })
    await rename(app, parent, 'Pohjola Group', { admin: 'Kari Lehto', billing: 'Aino Virtanen' })
    const add = await app.call({
      method: 'POST',
      url: `/v1/accounts/${parent.accountId}/contacts/billing`,
      payload: { userId: parent.users.billing },
    })
    assert.equal(add.statusCode, 200, add.body)
    const child = await makeAccount(app, { locale, parentAccountId: parent.accountId })
    await rename(app, child, 'Pohjolan Puu Oy', { admin: 'Mikko Korhonen', member: 'Laura Nieminen' })
    return { parent, child, aino: `${parent.users.billing}@example.com` }
  }

  async function open(a: MadeAccount, userKey: string, width = 1280): Promise<Tab> {
    const tab = await openTab(browser)
    await tab.page.setViewportSize({ width, height: 900 })
    await signIn(app, origin, tab, a.accountId, a.users[userKey]!)
    return tab
  }
  const sheetOf = async (accountId: string) => (await getSheet(app, accountId)).sheet
  const noConsoleErrors = (tab: Tab) => assert.deepEqual(tab.errors, [], 'console errors on the page')

  /** The lines of the billing section that say who comes from above. */
  const inheritedLines = (page: Page) => section(page, 'Billing contacts').locator('.inherited li')

  test('a child whose billing contact comes from its parent shows her with the account she comes from', async () => {
    const { child, aino } = await group()
    // the API says so first: what the page must show
    const sheet = await sheetOf(child.accountId)
    assert.deepEqual(
      sheet.inherited.billing.map((h: { email: string; fromAccountName: string }) => [h.email, h.fromAccountName]),
      [[aino, 'Pohjola Group']],
    )
    const tab = await open(child, 'admin')
    const { page } = tab
    const billing = section(page, 'Billing contacts')
    await billing.getByText(`From Pohjola Group: Aino Virtanen (${aino})`, { exact: true }).waitFor()
    assert.deepEqual(await inheritedLines(page).allInnerTexts(), [`From Pohjola Group: Aino Virtanen (${aino})`])
    // the rule is shown, at its default; the primary slot inherits nobody (the parent has none)
    assert.equal(
      await billing.getByRole('combobox', { name: 'Parent account’s contacts (Billing contact)' }).inputValue(),
      'inherit',
    )
    await section(page, 'Primary account contact')
      .getByText('The parent account has nobody to pass down.', { exact: true })
      .waitFor()
    // who receives the invoices says where Aino comes from
    const invoices = section(page, 'Who receives what').getByRole('row', { name: /^Invoices/ })
    await invoices.getByText('billing contact from Pohjola Group', { exact: false }).waitFor()
    // a member of the child sees the same, and the rule in words
    const member = await open(child, 'member')
    const mb = section(member.page, 'Billing contacts')
    await mb.getByText(`From Pohjola Group: Aino Virtanen (${aino})`, { exact: true }).waitFor()
    await mb.getByText('Parent account’s contacts: Use the parent’s when empty', { exact: true }).waitFor()
    assert.equal(await mb.getByRole('combobox', { name: /Parent account’s contacts/ }).count(), 0)
    noConsoleErrors(tab)
    noConsoleErrors(member)
    await tab.context.close()
    await member.context.close()
  })

  test('an admin makes billing "Only this account’s" with the keyboard alone; the inherited holder goes, and a reload keeps it', async () => {
    const { child, aino } = await group()
    const tab = await open(child, 'admin')
    const { page } = tab
    await inheritedLines(page).first().waitFor()
    // from the top of the page, Tab to the billing rule
    await page.locator('body').focus()
    let reached = false
    for (let i = 0; i < 40 && !reached; i++) {
      await page.keyboard.press('Tab')
      reached = (await focused(page)).id === 'rule-billing'
    }
    assert.ok(reached, 'Tab reaches the billing rule')
    assert.ok((await focused(page)).ring, 'the focus ring shows on the rule')
    // the arrow keys move through the rules without saving anything
    await page.keyboard.press('ArrowDown')
    await page.keyboard.press('ArrowDown')
    assert.equal(await page.locator('#rule-billing').inputValue(), 'replace')
    assert.equal((await sheetOf(child.accountId)).rules.billing, 'inherit', 'nothing saved yet')
    await page.keyboard.press('Tab')
    assert.equal((await focused(page)).name, 'Save: Parent account’s contacts (Billing contact)')
    await page.keyboard.press('Enter')
    const billing = section(page, 'Billing contacts')
    await billing.getByRole('status').filter({ hasText: 'Saved' }).waitFor()
    assert.equal((await focused(page)).id, 'rule-billing', 'focus stays on the rule after the save')

    const sheet = await sheetOf(child.accountId)
    assert.equal(sheet.rules.billing, 'replace')
    assert.deepEqual(sheet.inherited.billing, [])
    // Aino is gone from the billing slot and from who receives the invoices
    assert.equal(await inheritedLines(page).count(), 0)
    await billing.getByText('The parent’s contacts do not receive this account’s mail.', { exact: true }).waitFor()
    const invoices = section(page, 'Who receives what').getByRole('row', { name: /^Invoices/ })
    await until('the invoices no longer go to Aino', async () => !(await invoices.innerText()).includes(aino))

    await page.reload()
    await page.locator('#primary').waitFor()
    assert.equal(await page.locator('#rule-billing').inputValue(), 'replace')
    assert.equal(await inheritedLines(page).count(), 0)
    await billing.getByText('The parent’s contacts do not receive this account’s mail.', { exact: true }).waitFor()
    noConsoleErrors(tab)
    await tab.context.close()
  })

  test("a parent's admin switches to a child, sets its primary contact, and the address keeps the child", async () => {
    const { parent, child } = await group()
    const tab = await open(parent, 'admin')
    const { page } = tab
    // an account without a parent has no rules to show
    assert.equal(await page.locator('.slot-rule').count(), 0)
    // the parent's own page lists its child with its health, and the header offers it
    const below = section(page, 'Accounts under this one')
    await below.getByRole('link', { name: 'Pohjolan Puu Oy' }).waitFor()
    // the child inherits the billing contact, but has no primary contact
    await below.getByText('⚠ 1 problem', { exact: true }).waitFor()
    // the switcher, by keyboard: Enter opens it on the first account, Tab goes to the next
    await page.getByRole('button', { name: 'Switch account: Pohjola Group' }).focus()
    await page.keyboard.press('Enter')
    await page.getByRole('navigation', { name: 'Switch account' }).waitFor()
    assert.equal((await focused(page)).name, 'Pohjola Group')
    await page.keyboard.press('Tab')
    assert.equal((await focused(page)).name, 'Pohjolan Puu Oy')
    await page.keyboard.press('Enter')

    await until(
      'the address names the child',
      async () => new URL(page.url()).searchParams.get('account') === child.accountId,
    )
    await page.getByRole('button', { name: 'Switch account: Pohjolan Puu Oy' }).waitFor()
    // as after any page a reader chose, focus is at the top of the new one
    assert.equal((await focused(page)).id, 'page-title')
    await page.getByText('You are managing the contacts of Pohjolan Puu Oy, an account under yours.').waitFor()
    // the child's users are the ones offered
    const primary = page.getByRole('combobox', { name: 'Primary account contact', exact: true })
    await primary.locator(`option[value="${child.users.member}"]`).waitFor({ state: 'attached' })
    assert.equal(await primary.locator(`option[value="${parent.users.member}"]`).count(), 0)
    await primary.selectOption(child.users.member!)
    await section(page, 'Primary account contact')
      .getByRole('button', { name: 'Save: Primary account contact' })
      .click()
    await section(page, 'Primary account contact').getByRole('status').filter({ hasText: 'Saved' }).waitFor()
    assert.equal((await sheetOf(child.accountId)).primary?.userId, child.users.member)
    assert.equal((await sheetOf(parent.accountId)).primary, null, 'the parent is untouched')

    // a reload stays on the child; back returns to the parent's own page
    await page.reload()
    await page.locator('#primary').waitFor()
    assert.equal(await page.locator('#primary').inputValue(), child.users.member)
    await page.getByRole('button', { name: 'Switch account: Pohjolan Puu Oy' }).waitFor()
    await page.getByRole('link', { name: 'Back to Pohjola Group' }).click()
    await page.getByRole('button', { name: 'Switch account: Pohjola Group' }).waitFor()
    assert.equal(new URL(page.url()).search, '')
    // with a primary contact of its own and the billing contact from above, the child is in order
    const listed = (await app.call({ method: 'GET', url: `/v1/accounts/${parent.accountId}/descendants` })).json()
    assert.deepEqual(listed.data[0].health.problems, [])
    await section(page, 'Accounts under this one').getByText('✓ OK', { exact: true }).waitFor()

    // an account the descendants route does not list is never shown: the user's own is
    const other = await makeAccount(app)
    await page.goto(`${origin}/ui/?account=${other.accountId}`)
    await page.locator('#primary').waitFor()
    await page.getByText('The address named an account you do not manage').waitFor()
    await page.getByRole('button', { name: 'Switch account: Pohjola Group' }).waitFor()
    assert.equal(new URL(page.url()).search, '')
    noConsoleErrors(tab)
    await tab.context.close()
  })

  test('at 320 px the inherited holders and the open switcher fit, and axe finds nothing serious', async () => {
    const { parent, child } = await group()
    // a grandchild too, so that the switcher nests
    const leaf = await makeAccount(app, { parentAccountId: child.accountId })
    await rename(app, leaf, 'Pohjolan Puu Oy, Kuopion toimipiste')
    const tab = await open(parent, 'admin', 320)
    const { page } = tab
    await page.goto(`${origin}/ui/?account=${child.accountId}`)
    await inheritedLines(page).first().waitFor()
    await page.getByRole('button', { name: 'Switch account: Pohjolan Puu Oy' }).click()
    const nav = page.getByRole('navigation', { name: 'Switch account' })
    await nav.getByRole('link', { name: 'Pohjolan Puu Oy, Kuopion toimipiste' }).waitFor()
    await assertNoOverflow(page, 'a child’s page at 320 px with the switcher open')
    fs.mkdirSync(RESULTS, { recursive: true })
    await page.screenshot({ path: path.join(RESULTS, 'account-tree-320.png'), fullPage: true })
    // the first screens, readable at their size: the switcher and the contact cards
    for (const [i, y] of [0, 1000].entries())
      await page.screenshot({
        path: path.join(RESULTS, `account-tree-320-part${i + 1}.png`),
        fullPage: true,
        clip: { x: 0, y, width: 320, height: 1000 },
      })
    await assertAccessible(page, 'a child’s page at 320 px with the switcher open')
    // Escape closes the switcher and gives focus back to its button
    await page.keyboard.press('Escape')
    assert.equal((await focused(page)).name, 'Switch account: Pohjolan Puu Oy ▾')
    await page.setViewportSize({ width: 1280, height: 900 })
    await page.screenshot({ path: path.join(RESULTS, 'account-tree-1280.png'), fullPage: true })
    await assertAccessible(page, 'a child’s page at 1280 px')
    noConsoleErrors(tab)
    await tab.context.close()
  })

  test('in Finnish: "Tililtä …" and the rules in Finnish', async () => {
    const { child, aino } = await group('fi')
    const tab = await open(child, 'admin', 320)
    const { page } = tab
    const billing = section(page, 'Laskutusyhteyshenkilöt')
    await billing.getByText(`Tililtä Pohjola Group: Aino Virtanen (${aino})`, { exact: true }).waitFor()
    const rule = billing.getByRole('combobox', { name: 'Emotilin yhteyshenkilöt (Laskutusyhteyshenkilö)' })
    assert.deepEqual(await rule.locator('option').allInnerTexts(), [
      'Emotilin, kun omaa ei ole',
      'Omat emotilin lisäksi',
      'Vain tämän tilin omat',
      'Ei kukaan',
    ])
    await rule.selectOption('none')
    await billing.getByRole('button', { name: 'Tallenna: Emotilin yhteyshenkilöt (Laskutusyhteyshenkilö)' }).click()
    await billing.getByRole('status').filter({ hasText: 'Tallennettu' }).waitFor()
    await billing.getByText(/^Kukaan ei saa tämän tilin viestejä tässä roolissa/).waitFor()
    assert.equal((await sheetOf(child.accountId)).rules.billing, 'none')
    await assertNoOverflow(page, 'the Finnish child page at 320 px')
    fs.mkdirSync(RESULTS, { recursive: true })
    await page.screenshot({
      path: path.join(RESULTS, 'account-tree-fi-320.png'),
      fullPage: true,
      clip: { x: 0, y: 0, width: 320, height: 1400 },
    })
    noConsoleErrors(tab)
    await tab.context.close()
  })
})
